"""Fixtures for the deployment tests: three sshd "hosts" for the whole session, and per test a
work area (object file, host file, known_hosts, a remote directory) whose processes are stopped
at teardown."""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from tests.deploy.sshd import SshHosts, kill_processes_under, sshd_available

REPO = pathlib.Path(__file__).resolve().parents[2]
CONCOORD = [sys.executable, "-m", "concoord"]
COUNTER = textwrap.dedent('''\
    class Counter():
        def __init__(self):
            self.value = 0

        def increment(self):
            self.value += 1

        def getvalue(self):
            return self.value
''')


@pytest.fixture(scope="session")
def ssh_hosts(tmp_path_factory):
    if not sshd_available():
        pytest.skip("needs root, /usr/sbin/sshd and ssh-keygen (apt-get install openssh-server)")
    hosts = SshHosts(tmp_path_factory.mktemp("sshd")).start()
    yield hosts
    hosts.stop()


class DeployArea:
    """One test's files and the `concoord` command line with the SSH flags filled in."""

    def __init__(self, tmp_path, ssh_hosts):
        self.dir = tmp_path
        self.hosts = ssh_hosts
        self.remote_dir = tmp_path / "remote"
        self.object_file = tmp_path / "counter.py"
        self.object_file.write_text(COUNTER)
        self.host_file = tmp_path / "hosts"
        self.host_file.write_text("# the test's pretend hosts\n" + ssh_hosts.host_lines())
        self.known_hosts = tmp_path / "known_hosts"
        self.known_hosts.write_text(ssh_hosts.known_hosts_lines())
        self.extra_env = {}      # for every command and client (e.g. the instance's secret)

    def ssh_flags(self, key=None, python=sys.executable):
        return ["--ssh-key", str(key or self.hosts.client_key), "--known-hosts",
                str(self.known_hosts), "--remote-python", python,
                "--remote-dir", str(self.remote_dir), "--join-timeout", "15"]

    def env(self, extra=None):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.dir), str(REPO)])
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    def concoord(self, *args, timeout=120, extra_env=None):
        return subprocess.run([*CONCOORD, *map(str, args)], cwd=self.dir,
                              env=self.env(extra_env), capture_output=True, text=True,
                              timeout=timeout)

    def python(self, code, timeout=60):
        return subprocess.run([sys.executable, "-c", code], cwd=self.dir, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def area(tmp_path, ssh_hosts):
    area = DeployArea(tmp_path, ssh_hosts)
    yield area
    kill_processes_under(area.remote_dir)


def bootstrap_of(output):
    """The ``bootstrap: ...`` line that initialize and addnode print last."""
    lines = [line for line in output.splitlines() if line.startswith("bootstrap: ")]
    assert lines, f"no bootstrap line in:\n{output}"
    return lines[-1].split(": ", 1)[1]
