"""`concoord initialize` and `concoord addnode` against real sshd "hosts" on 127.0.0.2-4: the
instance answers a client through the printed bootstrap, grows by addnode, and its nodes do not
depend on any SSH connection once the commands returned."""

import os
import random
import shutil
import socket
import time

import pytest

from concoord import security
from concoord.client.status import query_status
from concoord.errors import AuthenticationError
from concoord.security.secret import read_secret_file
from tests.deploy.conftest import bootstrap_of
from tests.deploy.sshd import processes_under

pytestmark = pytest.mark.timeout(150)
CLIENT = """
from counterproxy import Counter
c = Counter({boot!r})
c.increment()
c.increment()
print("value", c.getvalue())
"""


def _wait_listed(boot, key, address, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        status = query_status(boot.split(",")[0], timeout=2.0)
        if address in status[key]:
            return status
        assert time.monotonic() < deadline, f"{address} not in {key}: {status[key]}"
        time.sleep(0.1)


def _host(address):
    return address.rsplit(":", 1)[0]


def _free_dns_port(addresses):
    """A port free for UDP and TCP on every pretend host (the nameserver may land on any)."""
    for _ in range(100):
        port = random.randint(15000, 16000)
        if all(_bindable(addr, port, kind) for addr in addresses
               for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM)):
            return port
    raise RuntimeError("no free DNS port")


def _bindable(addr, port, kind):
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((addr, port))
        except OSError:
            return False
    return True


def _initialize(area, dns_port):
    result = area.concoord("initialize", "-s", "counterdomain", "-f", area.object_file,
                           "-c", "Counter", "-r", 3, "-a", 3, "-n", 1, "--dns-port", dns_port,
                           "--hosts", area.host_file, *area.ssh_flags())
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


@pytest.fixture(autouse=True)
def reset_security():
    yield
    security.configure(None)


def _use_instance_secret(area, output):
    """initialize made a node secret for the nodes and a client credential for clients (and
    this test): clients must use the latter."""
    secret_file = area.dir / "counterdomain.secret"
    assert f"node secret: {secret_file}" in output
    assert secret_file.stat().st_mode & 0o777 == 0o600
    remote = area.remote_dir / "secret"
    assert remote.read_bytes() == secret_file.read_bytes()
    assert remote.stat().st_mode & 0o777 == 0o600
    client_file = area.dir / "counterdomain.client.secret"
    assert f"client credential: {client_file}" in output
    assert client_file.stat().st_mode & 0o777 == 0o600
    assert client_file.read_text().startswith("client:")
    area.extra_env = {"CONCOORD_SECRET_FILE": str(client_file)}
    return client_file


def test_initialize_then_client_then_addnode(area):
    dns_port = _free_dns_port(area.hosts.addresses)
    output = _initialize(area, dns_port)
    boot = bootstrap_of(output)
    secret_file = _use_instance_secret(area, output)
    with pytest.raises(AuthenticationError):        # the nodes want the secret
        query_status(boot.split(",")[0])
    security.configure(security.Security(read_secret_file(secret_file)))
    replicas = boot.split(",")
    assert {_host(r) for r in replicas} == set(area.hosts.addresses)  # one per host
    for role in ("replica 1/3 (bootstrap)", "acceptor 3/3", "replica 3/3", "nameserver 1/1"):
        assert f"{role}: " in output and " joined" in output  # progress per node
    status = query_status(replicas[0])
    assert sorted(status["replicas"]) == sorted(replicas)
    assert {_host(a) for a in status["acceptors"]} == set(area.hosts.addresses)
    assert len(status["nameservers"]) == 1

    # The client proxy was written beside the object file; a client uses the bootstrap.
    proxy = area.dir / "counter.pyproxy"
    assert proxy.is_file() and f"client proxy: {proxy}" in output
    shutil.copyfile(proxy, area.dir / "counterproxy.py")
    client = area.python(CLIENT.format(boot=boot))
    assert client.returncode == 0, client.stderr
    assert client.stdout.split() == ["value", "2"]

    # addnode -t 2, through the instance's domain (the nameserver answers its SRV record).
    host = f"root@{area.hosts.addresses[1]}:{area.hosts.port}"
    env = {"CONCOORD_NAMESERVER": status["nameservers"][0]}
    added = area.concoord("addnode", "-t", 2, "-s", "counterdomain", "-f", area.object_file,
                          "-c", "Counter", "-b", "counterdomain", "--host", host,
                          "--secret-file", area.dir / "counterdomain.secret",  # the node secret
                          *area.ssh_flags(), extra_env=env)
    assert added.returncode == 0, f"stdout:\n{added.stdout}\nstderr:\n{added.stderr}"
    new_boot = bootstrap_of(added.stdout)
    new_replica = next(r for r in new_boot.split(",") if r not in replicas)
    assert _host(new_replica) == area.hosts.addresses[1]
    _wait_listed(boot, "replicas", new_replica)
    shown = area.concoord("status", "-b", replicas[0])
    assert new_replica in shown.stdout

    # Every node is detached from SSH: its own session, not a child of any sshd, and the
    # instance still answers now that every SSH connection is closed.
    pids = processes_under(area.remote_dir)
    assert len(pids) == 8  # 3 + 1 replicas, 3 acceptors, 1 nameserver
    for pid in pids:
        assert os.getsid(pid) == pid
        parent = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        assert "sshd" not in open(f"/proc/{parent}/comm").read()
    client = area.python(CLIENT.format(boot=new_boot))
    assert client.stdout.split() == ["value", "4"], client.stderr


def test_addnode_ships_the_bundle_and_accepts_a_new_host_key(area, tmp_path):
    """A host whose Python has no concoord gets the server bundle; with accept_new_host_keys
    an unknown host key is trusted and recorded. The SSH settings come from a config file."""
    python = "/usr/bin/python3"
    if not os.path.exists(python):
        pytest.skip("needs a system python3 without concoord")
    result = area.concoord("initialize", "-s", "bundled", "-f", area.object_file, "-c",
                           "Counter", "-r", 1, "-a", 1, "--hosts", area.host_file, "--no-secret",
                           *area.ssh_flags())
    assert result.returncode == 0, result.stderr
    boot = bootstrap_of(result.stdout)
    known_hosts = tmp_path / "new_known_hosts"
    config = tmp_path / "deploy.ini"
    config.write_text(f"[ssh]\nkey = {area.hosts.client_key}\nknown_hosts = {known_hosts}\n"
                      f"accept_new_host_keys = yes\n[remote]\npython = {python}\n"
                      f"dir = {area.remote_dir}\n[deploy]\njoin_timeout = 20\n")
    host = f"root@{area.hosts.addresses[2]}:{area.hosts.port}"
    added = area.concoord("addnode", "-t", 1, "-s", "bundled", "-b", boot, "--host", host,
                          "--config", config)
    assert added.returncode == 0, f"stdout:\n{added.stdout}\nstderr:\n{added.stderr}"
    assert "using the uploaded concoord-server.pyz" in added.stdout
    assert (area.remote_dir / "concoord-server.pyz").is_file()
    assert f"[{area.hosts.addresses[2]}]:{area.hosts.port} ssh-ed25519 " in known_hosts.read_text()
    acceptors = query_status(boot)["acceptors"]
    assert any(_host(a) == area.hosts.addresses[2] for a in acceptors)
