"""`concoord bench` as a user runs it: real nodes, real client processes. Speed is reported by
the command, never asserted here: these tests check that every figure is produced and sane."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(240)


def bench(*args, timeout=200):
    return subprocess.run([sys.executable, "-m", "concoord", "bench", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_writes_reads_and_pipelining_on_a_local_durable_instance(tmp_path):
    out = tmp_path / "bench.json"
    result = bench("--workloads", "W1,W2,W3,W4", "--duration", 1, "--clients", 4,
                   "--processes", 2, "--window", 200, "--json", out)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["settings"]["durable"] is True and document["machine"]["cpus"] >= 1
    for name in ("W1", "W2", "W3", "W4"):
        figures = document["results"][name]
        assert figures["operations"] > 0 and figures["ops_per_second"] > 0, name
        assert 0 < figures["p50_ms"] <= figures["p99_ms"], name
        assert name + ":" in result.stdout             # a row of the printed table
    assert "bench: W3:" in result.stderr                # progress while it runs


def test_the_colocated_layout_is_measured_and_named(tmp_path):
    out = tmp_path / "bench.json"
    result = bench("--layout", "colocated", "--workloads", "W1,W5", "--duration", 1,
                   "--trials", 1, "--json", out)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["settings"]["layout"] == "colocated"
    assert document["results"]["W1"]["operations"] > 0
    assert 0 < document["results"]["W5"]["kill"]["p99_s"] < 30
    assert "colocated layout" in result.stdout and "colocated layout" in result.stderr
    mismatched = bench("--layout", "colocated", "-r", 3, "-a", 5, "--workloads", "W1")
    assert mismatched.returncode == 2 and "the same number" in mismatched.stderr


def test_failover_is_timed_for_kill_and_stop(tmp_path):
    out = tmp_path / "failover.json"
    result = bench("--workloads", "W5", "--trials", 1, "--json", out)
    assert result.returncode == 0, result.stderr
    failover = json.loads(out.read_text())["results"]["W5"]
    for how in ("kill", "stop"):
        assert 0 < failover[how]["median_s"] < 30
    assert "SIGKILL" in result.stdout and "SIGSTOP" in result.stdout


def test_watch_latency_is_measured_per_change(tmp_path):
    out = tmp_path / "watch.json"
    result = bench("--workloads", "W6", "--duration", 1, "--json", out)
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())["results"]["W6"]
    assert figures["operations"] > 0 and 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert "W6: watch" in result.stdout


def test_bad_flags_and_dead_hosts_are_one_line_errors():
    unknown = bench("--workloads", "W9")
    assert unknown.returncode == 2 and "unknown workload 'W9'" in unknown.stderr
    dead = bench("-b", "127.0.0.1:9", "--workloads", "W1", timeout=30)
    assert dead.returncode == 1
    assert dead.stderr.strip().count("\n") == 0 and "127.0.0.1:9" in dead.stderr
    needs_local = bench("-b", "127.0.0.1:9", "--workloads", "W5", timeout=30)
    assert needs_local.returncode == 2 and "local instance" in needs_local.stderr
