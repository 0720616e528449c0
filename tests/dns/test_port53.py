"""The nameserver on port 53 itself, as the README runs it: inside `unshare -rn` when the
kernel allows it (a private network namespace: nothing else can hold port 53 there, and we are
root inside it), else directly when we are root. Skipped only when neither is possible, and
never in CI (CI=true), where that is a broken machine to be reported loudly."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.dns.cluster import REPO


def _unshare_works():
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-rn", "ip", "link", "set", "lo", "up"],
                           capture_output=True, timeout=10)
    return probe.returncode == 0


def test_nameserver_answers_on_port_53(tmp_path):
    scenario = [sys.executable, "-m", "tests.dns.port53_scenario", str(tmp_path)]
    if _unshare_works():
        command = ["unshare", "-rn", *scenario, "--bring-up-lo"]
    elif os.geteuid() == 0:
        command = scenario
    elif os.environ.get("CI") == "true":
        pytest.fail("CI must be able to bind port 53: run as root or allow `unshare -rn`")
    else:
        pytest.skip("port 53 needs root or `unshare -rn`, and neither is available here")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["a"] == ["127.0.0.1"] and "aa" in seen["a_flags"] and seen["client"] == "2"
