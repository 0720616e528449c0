"""Each way a host can be unusable gives one clear error that names the host, a non-zero exit,
and no node left running; so does a node that cannot start after its retries, once others
already run (they are stopped again)."""

import os
import re
import signal
import socket
import stat
import subprocess
import sys

import pytest

from tests.deploy.conftest import CONCOORD
from tests.deploy.sshd import UNREACHABLE_ADDRESS, processes_under
from tests.integration.harness import free_port

pytestmark = pytest.mark.timeout(90)


def _initialize(area, *extra, key=None, python=sys.executable):
    return area.concoord("initialize", "-s", "broken", "-f", area.object_file, "-c",
                         "Counter", "-r", 2, "-a", 2, "--hosts", area.host_file,
                         *area.ssh_flags(key=key, python=python), *extra, timeout=60)


def _assert_failed_cleanly(area, result, host, *words):
    assert result.returncode == 1, result.stdout  # a failure, not a usage error (2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one error, not a traceback
    assert lines[0].startswith("concoord initialize: error: ")
    assert host in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert processes_under(area.remote_dir) == []


def test_unknown_host_key(area):
    last = area.hosts.addresses[-1]
    area.known_hosts.write_text(area.hosts.known_hosts_lines(area.hosts.addresses[:-1]))
    result = _initialize(area)
    _assert_failed_cleanly(area, result, f"root@{last}:{area.hosts.port}", "unknown host key",
                           "--accept-new-host-keys", "SHA256:")


def test_changed_host_key(area):
    other_key = (area.hosts.dir / "wrong_key.pub").read_text().split()[:2]
    first = area.hosts.addresses[0]
    area.known_hosts.write_text(f"[{first}]:{area.hosts.port} {' '.join(other_key)}\n"
                                + area.hosts.known_hosts_lines(area.hosts.addresses[1:]))
    result = _initialize(area)
    _assert_failed_cleanly(area, result, f"root@{first}:{area.hosts.port}", "host key changed")


def test_wrong_key(area):
    result = _initialize(area, key=area.hosts.wrong_key)
    _assert_failed_cleanly(area, result, f"root@{area.hosts.addresses[0]}:{area.hosts.port}",
                           "authentication failed", str(area.hosts.wrong_key))


def test_unreachable_host(area):
    dead = f"root@{UNREACHABLE_ADDRESS}:{free_port()}"
    area.host_file.write_text(area.hosts.host_lines() + dead + "\n")
    result = _initialize(area)
    _assert_failed_cleanly(area, result, dead, "unreachable", "connection refused")


def test_host_without_python(area):
    result = _initialize(area, python="/nonexistent/python")
    _assert_failed_cleanly(area, result, f"root@{area.hosts.addresses[0]}:{area.hosts.port}",
                           "no Python at '/nonexistent/python'")


def test_dns_port_taken_on_the_nameserver_host(area):
    """Nameservers go after 2 replicas and 2 acceptors, on host 2; its DNS port is taken."""
    host = area.hosts.addresses[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind((host, 0))
        port = taken.getsockname()[1]
        result = _initialize(area, "-n", 1, "--dns-port", port)
    _assert_failed_cleanly(area, result, f"root@{host}:{area.hosts.port}",
                           f"cannot bind DNS port {port} on {host}", "--dns-port")


def test_node_that_cannot_start_is_retried_then_everything_is_stopped(area, tmp_path):
    """The bootstrap replica runs when every acceptor start fails: after its retries (another
    port, then the next host) initialize stops the replica too and names the hosts it tried."""
    wrapper = tmp_path / "python-without-acceptors"
    wrapper.write_text("#!/bin/sh\n"
                       "for arg in \"$@\"; do\n"
                       "  [ \"$arg\" = acceptor ] && { echo 'no acceptors here' >&2; exit 3; }\n"
                       "done\n"
                       f"exec {sys.executable} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    result = _initialize(area, python=str(wrapper))
    # Round-robin placement puts replicas on hosts 1 and 2, acceptor 1/2 on host 3; it is
    # retried there on another port, then on the next host, host 1.
    planned, following = (f"root@{area.hosts.addresses[i]}:{area.hosts.port}" for i in (2, 0))
    _assert_failed_cleanly(area, result, planned, following, "could not start acceptor 1/2",
                           "no acceptors here")
    assert "replica 1/2 (bootstrap): replica" in result.stdout and " joined" in result.stdout
    assert result.stdout.count("trying again") == 2
    assert "stopped replica" in result.stdout
    assert os.path.isdir(area.remote_dir)


def test_interrupted_initialize_stops_what_it_started(area):
    """SIGTERM (or Ctrl-C) in the middle: the nodes already running are stopped again."""
    proc = subprocess.Popen([*CONCOORD, "initialize", "-s", "interrupted", "-f",
                             str(area.object_file), "-c", "Counter", "-r", "3", "-a", "3",
                             "--hosts", str(area.host_file), *area.ssh_flags()],
                            cwd=area.dir, env=area.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    output = []
    try:
        for line in proc.stdout:
            output.append(line)
            if line.startswith("acceptor 1/3: ") and line.rstrip().endswith(" joined"):
                break
        assert processes_under(area.remote_dir), "".join(output)
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    # Every node that was started (maybe one more, launched as the signal came) is stopped.
    log = "".join(output) + rest
    started = re.findall(r": starting (\S+ \S+) on ", log)
    stopped = re.findall(r"^stopped (\S+ \S+) on .*: rolling back this run$", log, re.M)
    assert len(started) >= 2 and sorted(started) == sorted(stopped), log
    assert processes_under(area.remote_dir) == []
