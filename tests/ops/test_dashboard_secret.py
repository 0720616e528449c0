"""`concoord dashboard` on an instance with a shared secret: it needs the secret too (it reads
the instance through the status protocol, nothing else)."""

import json
import subprocess
import sys
import urllib.request

import pytest

from concoord import security
from tests.integration.harness import free_port, wait_until

SECRET = "0123456789abcdef" * 4


@pytest.fixture
def secured(counter_harness, tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)                 # nodes refuse a secret file others can read
    counter_harness.node_args = ["--secret-file", str(path)]
    security.configure(security.Security(SECRET.encode()))    # for the harness's probes
    try:
        replica = counter_harness.start_replica()
        counter_harness.start_acceptor(replica)
        yield counter_harness, replica, path
    finally:
        security.configure(None)


def dashboard_state(harness, replica, *flags):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "concoord", "dashboard", "-b",
                             replica.address, "-p", str(port), *flags],
                            cwd=harness.workdir, env=harness.env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    harness.clients.append(proc)

    def polled():
        url = f"http://127.0.0.1:{port}/api/status"
        with urllib.request.urlopen(url, timeout=5) as reply:
            state = json.loads(reply.read())
        return state if state["polled_at"] is not None else None
    return wait_until(polled, 30, interval=0.3, message="the dashboard's first poll")


def test_the_dashboard_needs_the_secret(secured):
    harness, replica, path = secured
    refused = dashboard_state(harness, replica)
    assert refused["view"] is None and "authentication failed" in refused["error"]
    served = dashboard_state(harness, replica, "--secret-file", str(path))
    assert served["error"] is None
    assert {n["role"] for n in served["view"]["nodes"]} == {"replica", "acceptor"}
