"""A failed `concoord initialize` can be run again exactly as it was typed: it leaves no
DOMAIN.secret behind that would refuse the retry, no node running and no node data."""

import os
import stat
import sys

import pytest

from tests.deploy.conftest import bootstrap_of
from tests.deploy.sshd import processes_under

pytestmark = pytest.mark.timeout(180)


def _initialize(area, *extra, python=sys.executable):
    return area.concoord("initialize", "-s", "counterdomain", "-f", area.object_file, "-c",
                         "Counter", "-r", 2, "-a", 2, "--hosts", area.host_file,
                         *area.ssh_flags(python=python), *extra, timeout=120)


def _assert_counter_works(area, boot):
    secret = area.dir / "counterdomain.secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    env = {"CONCOORD_SECRET_FILE": str(secret)}
    status = area.concoord("status", "-b", boot, "--json", extra_env=env, timeout=60)
    assert status.returncode == 0, status.stderr
    refused = area.concoord("status", "-b", boot, timeout=60)     # no secret: refused
    assert refused.returncode != 0 and "authentication failed" in refused.stderr


def test_unknown_host_key_then_the_same_command_with_accept_new_host_keys(area):
    """The new user's path from the issue: the first try fails on a host key (correctly);
    adding --accept-new-host-keys to the same command then deploys."""
    area.known_hosts.write_text(area.hosts.known_hosts_lines(area.hosts.addresses[:-1]))
    failed = _initialize(area)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "unknown host key" in failed.stderr
    assert not (area.dir / "counterdomain.secret").exists(), failed.stdout
    assert "removed counterdomain.secret" in failed.stdout
    assert processes_under(area.remote_dir) == []

    retried = _initialize(area, "--accept-new-host-keys")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    _assert_counter_works(area, bootstrap_of(retried.stdout))


def test_nodes_started_before_the_failure_are_stopped_and_forgotten(area, tmp_path):
    """Acceptors cannot start (a broken host Python, fixed before the retry): the bootstrap
    replica that did start is stopped, its data directory removed, the secret removed; the
    very same command then deploys the instance."""
    broken = tmp_path / "acceptors-broken"
    broken.touch()
    wrapper = tmp_path / "python"
    wrapper.write_text("#!/bin/sh\n"
                       f"if [ -e {broken} ]; then for arg in \"$@\"; do\n"
                       "  [ \"$arg\" = acceptor ] && { echo 'no acceptors here' >&2; exit 3; }\n"
                       "done; fi\n"
                       f"exec {sys.executable} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)

    failed = _initialize(area, python=str(wrapper))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "could not start acceptor 1/2" in failed.stderr
    assert "stopped replica" in failed.stdout
    assert processes_under(area.remote_dir) == []
    data = area.remote_dir / "data"
    assert not data.exists() or os.listdir(data) == [], os.listdir(data)
    assert not (area.dir / "counterdomain.secret").exists()

    broken.unlink()                   # the host is fixed
    retried = _initialize(area, python=str(wrapper))
    assert retried.returncode == 0, retried.stdout + retried.stderr
    _assert_counter_works(area, bootstrap_of(retried.stdout))
    assert len(processes_under(area.remote_dir)) == 4


def test_a_secret_from_a_successful_run_is_still_protected(area):
    """The guard stays for what it is for: the secret of an instance that runs."""
    first = _initialize(area)
    assert first.returncode == 0, first.stdout + first.stderr
    again = _initialize(area)
    assert again.returncode == 1
    assert "counterdomain.secret exists" in again.stderr
    assert (area.dir / "counterdomain.secret").exists()
