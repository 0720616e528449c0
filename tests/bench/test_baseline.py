"""`concoord bench --baseline`: ours and theirs side by side, measured for real against etcd
(scripts/install-system-deps installs etcd-server, `make venv` the etcd3 client). As in
test_bench.py, speed is never asserted: only that every figure is there, positive, and that
the ratio is ours/theirs. scripts/install-system-deps installs ZooKeeper too (the machine has
java)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)


def bench(*args, env=None, timeout=100):
    return subprocess.run([sys.executable, "-m", "concoord", "bench", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_etcd_side_by_side_in_the_table_and_the_json(tmp_path):
    out = tmp_path / "bench.json"
    result = bench("--baseline", "etcd", "--workloads", "W1,W4,W6", "--duration", 1,
                   "--json", out)
    assert result.returncode == 0, result.stderr
    comparison = json.loads(out.read_text())["comparison"]
    assert comparison["system"] == "etcd" and comparison["members"] == 3
    assert set(comparison["workloads"]) == {"W1", "W4", "W6"}
    for name, row in comparison["workloads"].items():
        for key in ("ops_per_second", "p50_ms"):
            assert row["ours"][key] > 0 and row["theirs"][key] > 0, (name, key)
            assert row["ratio"][key] == pytest.approx(row["ours"][key] / row["theirs"][key])
        assert name + ":" in result.stdout
    assert "etcd" in result.stdout.splitlines()[1] and "ratio" in result.stdout


def test_zookeeper_side_by_side_with_pipelining(tmp_path):
    assert shutil.which("java") and os.path.exists("/usr/share/java/zookeeper.jar"), \
        "scripts/install-system-deps installs zookeeper (and java with it)"
    out = tmp_path / "bench.json"
    result = bench("--baseline", "zookeeper", "--workloads", "W1,W3,W4", "--duration", 1,
                   "--window", 100, "--json", out)
    assert result.returncode == 0, result.stderr
    comparison = json.loads(out.read_text())["comparison"]
    assert comparison["system"] == "zookeeper" and not comparison["skipped"]
    assert set(comparison["workloads"]) == {"W1", "W3", "W4"}
    for name, row in comparison["workloads"].items():
        assert row["ratio"]["ops_per_second"] == pytest.approx(
            row["ours"]["ops_per_second"] / row["theirs"]["ops_per_second"]), name
        assert row["theirs"]["p50_ms"] > 0, name


@pytest.mark.parametrize("system, install", [("etcd", "apt-get install etcd-server"),
                                             ("zookeeper", "apt-get install zookeeper")])
def test_a_missing_baseline_binary_is_a_one_line_error_before_anything_starts(system, install):
    # sys.executable is absolute, so an empty PATH hides only etcd and java.
    result = bench("--baseline", system, "--duration", 1, env={"PATH": "/nonexistent"},
                   timeout=30)
    assert result.returncode == 2         # a ConcoordError: what to install, not a crash
    assert result.stderr.strip().count("\n") == 0 and install in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_client_library_is_a_one_line_error(tmp_path):
    # etcd3 0.12 with protobuf 4 fails on import with a TypeError: simulate that.
    (tmp_path / "etcd3.py").write_text("raise TypeError('Descriptors cannot be created')\n")
    result = bench("--baseline", "etcd", "--duration", 1,
                   env={"PYTHONPATH": str(tmp_path)}, timeout=30)
    assert result.returncode == 2         # a ConcoordError: what to install, not a crash
    assert result.stderr.strip().count("\n") == 0 and "protobuf<4" in result.stderr
