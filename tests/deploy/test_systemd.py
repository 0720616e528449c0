"""Service files: `concoord systemd-unit` output checked by the real `systemd-analyze verify`,
and `concoord initialize --systemd` against the real sshd hosts. No systemd runs on this machine,
so systemctl on the hosts is tests/deploy/fake_systemctl.py: the unit files, their upload,
the user and ownership commands and the systemctl calls are real; what systemd itself would do
with the units (Restart=, User=, boot) is not exercised."""

import shutil
import stat
import subprocess
import sys

import pytest

from tests.deploy.conftest import CONCOORD, REPO, bootstrap_of
from tests.deploy.sshd import processes_under

pytestmark = pytest.mark.timeout(180)
ANALYZE = shutil.which("systemd-analyze")


def verify(path):
    if ANALYZE is None:
        pytest.fail("needs systemd-analyze: scripts/install-system-deps installs it (systemd)")
    result = subprocess.run([ANALYZE, "verify", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Unknown key" not in result.stderr and "Unknown section" not in result.stderr, \
        result.stderr


def unit(*args):
    result = subprocess.run([*CONCOORD, "systemd-unit", *args], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    return result.stdout


def settings_of(text):
    return [line for line in text.splitlines() if "=" in line]


@pytest.mark.parametrize("role, node_args", [
    ("replica", ["-o", "counter.Counter", "-a", "10.0.0.1", "-p", "14000", "-b",
                 "10.0.0.2:14000", "--metrics-port", "9101"]),
    ("acceptor", ["-a", "10.0.0.1", "-p", "14001", "-b", "10.0.0.2:14000"]),
    ("nameserver", ["-n", "counterdomain", "-a", "10.0.0.1", "-b", "10.0.0.2:14000"]),
])
def test_printed_units_verify(role, node_args, tmp_path):
    text = unit("--name", f"counter-{role}", role, *node_args)
    lines = settings_of(text)
    for expected in ("Restart=on-failure", "User=concoord", "Group=concoord",
                     "KillSignal=SIGTERM", "WantedBy=multi-user.target"):
        assert expected in lines, text
    exec_start = next(line for line in lines if line.startswith("ExecStart="))
    assert exec_start.endswith(" ".join([role] + (
        [] if role == "nameserver" else ["--data-dir", f"/var/lib/concoord/counter-{role}"])
        + node_args)), exec_start
    if role == "nameserver":
        assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in lines
    else:
        assert f"StateDirectory=concoord/counter-{role}" in lines
    path = tmp_path / f"counter-{role}.service"
    path.write_text(text)
    verify(path)


def test_unit_arguments_are_quoted_for_systemd(tmp_path):
    text = unit("--user", "svc", "--data-dir", "/srv/concoord data", "--working-dir", "/srv",
                "replica", "-f", "100%.py", "-c", "Counter")
    lines = settings_of(text)
    assert 'ExecStart=' in text and '"/srv/concoord data"' in text and "100%%.py" in text
    assert "ReadWritePaths=/srv/concoord data" in lines and "User=svc" in lines
    path = tmp_path / "quoted.service"
    path.write_text(text)
    verify(path)


def test_refuses_what_cannot_work():
    result = subprocess.run([*CONCOORD, "systemd-unit", "--data-dir", "/x", "nameserver", "-n",
                             "d", "-b", "1.2.3.4:5"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2 and "nameserver keeps no data" in result.stderr
    result = subprocess.run([*CONCOORD, "systemd-unit", "--exec", "concoord", "acceptor"],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2 and "absolute path" in result.stderr


def test_nodes_of_one_role_on_one_port_at_two_addresses_get_two_units():
    """Bug (a fresh clone, 1 run in 7): the unit name held domain, role and port only. Two
    replicas of the test's hosts (one machine, several addresses) drew the same port, so the
    second unit file replaced the first: 3 units for 4 nodes. On one machine with several
    addresses, enabling the second would have restarted the first node as the second."""
    from concoord.ops.systemd import unit_name
    first = unit_name("counterdomain", "replica", "127.0.0.2", 14885)
    second = unit_name("counterdomain", "replica", "127.0.0.3", 14885)
    assert first != second
    assert first == "concoord-counterdomain-replica-127.0.0.2-14885.service"


@pytest.fixture
def fake_systemctl(tmp_path):
    """(systemctl command for --systemctl, unit directory, state directory)."""
    units, state = tmp_path / "units", tmp_path / "systemctl-state"
    units.mkdir()
    script = tmp_path / "systemctl"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {REPO}/tests/deploy/fake_systemctl.py "
                      f"{state} {units} \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), units, state


def _initialize(area, fake_systemctl, python=sys.executable):
    """As root, the nodes' user (creating one would change this machine's /etc/passwd)."""
    systemctl, units, _ = fake_systemctl
    return area.concoord("initialize", "-s", "counterdomain", "-f", area.object_file, "-c",
                         "Counter", "-r", 2, "-a", 2, "--hosts", area.host_file,
                         *area.ssh_flags(python=python), "--systemd", "--systemd-user", "root",
                         "--unit-dir", units, "--systemctl", systemctl, timeout=120)


def test_initialize_installs_and_starts_a_unit_per_node(area, fake_systemctl):
    _, units, state = fake_systemctl
    result = _initialize(area, fake_systemctl)
    assert result.returncode == 0, result.stdout + result.stderr
    installed = sorted(p.name for p in units.iterdir())
    assert len(installed) == 4, installed
    assert all(name.startswith("concoord-counterdomain-") for name in installed)
    for path in units.iterdir():
        lines = settings_of(path.read_text())
        assert "Restart=on-failure" in lines and "User=root" in lines
        assert any(line.startswith(("StateDirectory=", "ReadWritePaths=")) for line in lines)
        assert f"WorkingDirectory={area.remote_dir}" in lines
        verify(path)
    calls = (state / "calls.log").read_text().splitlines()
    assert sum(call.startswith("enable --now") for call in calls) == 4
    secret = {"CONCOORD_SECRET_FILE": str(area.dir / "counterdomain.secret")}
    status = area.concoord("status", "-b", bootstrap_of(result.stdout), "--json",
                           extra_env=secret)
    assert status.returncode == 0, status.stderr
    assert len(processes_under(area.remote_dir)) == 4

    systemctl, units, _ = fake_systemctl
    added = area.concoord("addnode", "-t", 1, "-s", "counterdomain", "-b",
                          bootstrap_of(result.stdout), "--host", area.host_file.read_text()
                          .split()[-1], "--secret-file", area.dir / "counterdomain.secret",
                          *area.ssh_flags(), "--systemd", "--systemd-user", "root",
                          "--unit-dir", units, "--systemctl", systemctl)
    assert added.returncode == 0, added.stdout + added.stderr
    assert len(list(units.iterdir())) == 5
    assert len(processes_under(area.remote_dir)) == 5


def test_a_failed_systemd_initialize_removes_its_units(area, fake_systemctl, tmp_path):
    _, units, state = fake_systemctl
    wrapper = tmp_path / "python-without-acceptors"
    wrapper.write_text("#!/bin/sh\n"
                       "for arg in \"$@\"; do\n"
                       "  [ \"$arg\" = acceptor ] && { echo 'no acceptors here' >&2; exit 3; }\n"
                       "done\n"
                       f"exec {sys.executable} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    result = _initialize(area, fake_systemctl, python=str(wrapper))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could not start acceptor 1/2" in result.stderr
    assert list(units.iterdir()) == []
    assert processes_under(area.remote_dir) == []
    calls = (state / "calls.log").read_text()
    assert calls.count("disable --now") == calls.count("enable --now")
