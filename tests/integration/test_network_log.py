"""-l HOST:PORT sends a node's log lines to `concoord logdaemon`, which prints them with the
node and a timestamp."""

import subprocess
import sys

import pytest

from tests.integration.harness import free_port, wait_until

pytestmark = pytest.mark.timeout(60)


def test_nodes_log_to_the_logdaemon(counter_harness, tmp_path):
    h = counter_harness
    port = free_port()
    out = open(tmp_path / "logdaemon.out", "w")
    daemon = subprocess.Popen([sys.executable, "-m", "concoord", "logdaemon", "-p", str(port)],
                              stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "logdaemon" in (tmp_path / "logdaemon.out").read_text(), 10)
        replica = h.start_replica()
        h._spawn("acceptor", ["-b", replica.address, "-l", f"127.0.0.1:{port}"])
        wait_until(lambda: "joined the instance as an acceptor" in
                   (tmp_path / "logdaemon.out").read_text(), 20,
                   message="the acceptor's log line at the logdaemon")
        line = next(l for l in (tmp_path / "logdaemon.out").read_text().splitlines()
                    if "joined the instance" in l)
        assert "acceptor" in line
    finally:
        daemon.terminate()
        daemon.wait(10)
        out.close()
