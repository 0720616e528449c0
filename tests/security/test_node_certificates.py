"""Per-node credentials (concoord.security.node_certs): with node certificates, a node's
credential does not let it speak for another node.

An instance CA (`concoord secret --ca`) certifies each node's key for its address; nodes run
with --node-cert besides --secret-file, and accept node connections only from nodes that sign
the handshake with a certificate of their CA listing the node they name. So the node secret
alone no longer makes a node, and one node's certificate (a compromised member) can speak, join
or leave only as that node.
"""

import socket

import pytest

from concoord import security
from concoord.client.proxy import ClientProxy
from concoord.errors import AuthenticationError
from concoord.runtime.ports import split_address
from concoord.security import node_certs
from concoord.wire.codec import encode_frame
from concoord.wire.messages import Decision
from concoord.wire.types import Batch, Command
from concoord.wire.values import encode_call_arguments
from tests.integration import harness as harness_module
from tests.security.instance import CLIENT_CREDENTIAL, NODE_SECRET
from tests.security.latency import LatencyProbe


def _write(path, text):
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def certified(counter_harness, tmp_path, monkeypatch):
    """Two replicas and an acceptor, each with a certificate for its own address."""
    h = counter_harness
    ports = [harness_module.free_port() for _ in range(3)]
    ca = node_certs.read_ca_file(_write(tmp_path / "counter.ca", node_certs.new_ca()))
    certs = [_write(tmp_path / f"node{i}.cert", node_certs.issue(ca, [f"127.0.0.1:{port}"]))
             for i, port in enumerate(ports)]
    secret = _write(tmp_path / "node.secret", NODE_SECRET)
    h.node_args = ["--secret-file", str(secret)]
    security.configure(security.Security(NODE_SECRET.encode()))    # the harness's probes
    handed = iter(ports)
    monkeypatch.setattr(harness_module, "free_port", lambda: next(handed))
    first = h._start("replica", ["-f", "counter.py", "-c", "Counter", "--node-cert",
                                 str(certs[0])], None, True)
    acceptor = h._start("acceptor", ["-b", first.address, "--node-cert", str(certs[1])],
                        first, True)
    second = h._start("replica", ["-f", "counter.py", "-c", "Counter", "-b", first.address,
                                  "--node-cert", str(certs[2])], first, True)
    return h, (first, acceptor, second), certs, tmp_path


def _as_node(address, node_id, certificate_file=None):
    raw = socket.create_connection(split_address(address), timeout=10)
    cert = node_certs.read_certificate_file(certificate_file) if certificate_file else None
    try:
        return security.Security(NODE_SECRET.encode(), node_cert=cert).connected(
            raw, security.NODE, node_id)
    except BaseException:
        raw.close()
        raise


def test_a_node_certificate_speaks_for_its_node_only(certified):
    h, (first, acceptor, second), certs, tmp_path = certified
    with ClientProxy(first.address, timeout=20, secret=CLIENT_CREDENTIAL) as proxy:
        proxy._invoke("increment")
    other_ca = node_certs.read_ca_file(_write(tmp_path / "other.ca", node_certs.new_ca()))
    forged_cert = _write(tmp_path / "forged.cert", node_certs.issue(other_ca, [second.address]))
    slot = second.status()["slot_out"]
    forged = Batch(0.0, (Command("evil", 1, "decrement", encode_call_arguments([], {})),) * 5)
    with LatencyProbe(first.address, CLIENT_CREDENTIAL, "node certificates: impersonation",
                      method="increment") as probe:
        # The node secret alone no longer makes a node.
        with pytest.raises(AuthenticationError, match="refused our node credential"):
            _as_node(second.address, first.address)
        # The acceptor's certificate cannot name a replica, nor can another CA's.
        with pytest.raises(AuthenticationError, match="refused our node credential"):
            _as_node(second.address, first.address, certs[1])
        with pytest.raises(AuthenticationError, match="refused our node credential"):
            _as_node(first.address, second.address, forged_cert)
        # Under its own name, its messages in a replica's name are dropped.
        with _as_node(second.address, acceptor.address, certs[1]) as sock:
            sock.sendall(encode_frame(Decision(first.address, slot, forged)) * 20)
        # It may join or leave only as itself.
        security.configure(security.Security(
            NODE_SECRET.encode(), node_cert=node_certs.read_certificate_file(certs[1])))
        with ClientProxy(first.address, timeout=20, role=security.NODE) as node_proxy:
            for method, args in (("@join", ("acceptor", "127.0.0.1:9")),
                                 ("@remove", (second.address,))):
                with pytest.raises(PermissionError, match="certificate is not for"):
                    node_proxy._invoke(method, args, {})
        security.configure(security.Security(NODE_SECRET.encode()))
    probe.assert_served()
    for node in (first, second):
        status = node.status()
        assert sorted(status["replicas"]) == sorted([first.address, second.address])
        assert status["acceptors"] == [acceptor.address]
    log = second.log()
    assert "need a node certificate" in log and "not signed by this instance's CA" in first.log()
    assert f"the node certificate is for {acceptor.address}, not for {first.address}" in log
    assert f"speaks for {acceptor.address}, not for {first.address}" in log
    with ClientProxy(second.address, timeout=20, secret=CLIENT_CREDENTIAL) as proxy:
        assert proxy._invoke("getvalue") == 2 + len(probe.latencies)


def test_a_node_will_not_start_with_another_nodes_certificate(certified):
    h, (first, acceptor, second), certs, tmp_path = certified
    started = h.concoord("acceptor", "-b", first.address, "-p", "1", "--node-cert",
                         str(certs[1]), *h.node_args, timeout=60)
    assert started.returncode != 0
    assert f"--node-cert is for {acceptor.address}, not for this node" in started.stderr
    assert len(started.stderr.strip().splitlines()) == 1, started.stderr
