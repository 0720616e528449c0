"""Finding 1 of issue 19: a client credential is not a node credential.

Nodes run with the node secret; clients get the client credential derived from it. A client
credential proves the client role only: it cannot complete a node handshake, so it can neither
send consensus messages (a forged Decision, a huge-ballot Accept) nor change the membership.
And a node credential cannot drive an acceptor's ballot to the top of its range either.
"""

import socket

import pytest

from concoord import security
from concoord.client.proxy import ClientProxy
from concoord.errors import AuthenticationError
from concoord.runtime.ports import split_address
from concoord.security import handshake
from concoord.wire.codec import encode_frame
from concoord.wire.messages import Accept, Decision, Prepare
from concoord.wire.types import Ballot, Batch, Command
from concoord.wire.values import encode_call_arguments
from tests.security.latency import LatencyProbe

NODE_SECRET = "correct-horse-battery-staple-0123456789"
MAX_INT = 2**63 - 1


@pytest.fixture
def instance(counter_harness, tmp_path):
    """The README's Counter with --secret-file on every node, and its client credential
    written by `concoord secret --client-from`."""
    h = counter_harness
    node_file, client_file = tmp_path / "node.secret", tmp_path / "client.secret"
    node_file.write_text(NODE_SECRET + "\n")
    node_file.chmod(0o600)
    made = h.concoord("secret", "--client-from", str(node_file), "-o", str(client_file))
    assert made.returncode == 0, made.stderr
    client = client_file.read_text().strip()
    assert client.startswith("client:") and NODE_SECRET not in client
    assert client_file.stat().st_mode & 0o777 == 0o600
    h.node_args = ["--secret-file", str(node_file)]
    security.configure(security.Security(NODE_SECRET.encode()))   # the harness's probes
    replica = h.start_replica()
    acceptor = h.start_acceptor(replica)
    return h, replica, acceptor, client, client_file


def _closed_without_answer(sock):
    sock.settimeout(10)
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _handshake_as_node_with(address, key, node_id=None):
    """What an attacker does: answer the challenge for the node role, keyed with ``key``."""
    raw = socket.create_connection(split_address(address), timeout=10)
    handshake.respond(raw, key, security.NODE, node_id)
    return raw


def test_a_client_credential_serves_clients_but_cannot_run_a_node(instance):
    h, replica, acceptor, client, client_file = instance
    with ClientProxy(replica.address, timeout=20, secret=client) as proxy:
        proxy._invoke("increment")
        assert proxy._invoke("getvalue") == 1
    shown = h.concoord("status", "-b", replica.address, "--secret-file", str(client_file))
    assert shown.returncode == 0 and replica.address in shown.stdout, shown.stderr
    started = h.concoord("acceptor", "-b", replica.address, "--secret-file", str(client_file),
                         timeout=60)
    assert started.returncode != 0 and "client credential" in started.stderr, started.stderr
    assert replica.status()["acceptors"] == [acceptor.address]


def test_a_client_credential_cannot_authenticate_as_a_node(instance):
    h, replica, acceptor, client, _ = instance
    with LatencyProbe(replica.address, client, "finding 1: client credential as node") as probe:
        for node in (replica, acceptor):
            with pytest.raises(AuthenticationError, match="refused our node credential"):
                _handshake_as_node_with(node.address, client.encode())
        # The proxy's own node role is refused before anything is sent.
        with ClientProxy(replica.address, timeout=10, secret=client,
                         role=security.NODE) as proxy:
            with pytest.raises(AuthenticationError, match="cannot connect as a node"):
                proxy._invoke("@join", ("acceptor", "127.0.0.1:9"), {})
    probe.assert_served()
    status = replica.status()
    assert status["acceptors"] == [acceptor.address] and status["replicas"] == [replica.address]


def test_consensus_messages_on_a_client_connection_are_dropped(instance):
    h, replica, acceptor, client, _ = instance
    with ClientProxy(replica.address, timeout=20, secret=client) as proxy:
        proxy._invoke("increment")
    slot = replica.status()["slot_out"]
    forged = Batch(0.0, (Command("evil", 1, "decrement", encode_call_arguments([], {})),) * 5)
    attacks = [(replica, Decision(replica.address, slot, forged)),
               (acceptor, Accept(replica.address, Ballot(MAX_INT, "~", MAX_INT), 10**12,
                                 forged, 1))]
    with LatencyProbe(replica.address, client, "finding 1: consensus on client role") as probe:
        for node, message in attacks:
            raw = socket.create_connection(split_address(node.address), timeout=10)
            with security.Security(client.encode()).connected(raw, security.CLIENT) as sock:
                sock.sendall(encode_frame(message))
                assert _closed_without_answer(sock) == b""
    probe.assert_served()
    assert acceptor.status()["promised"][0] < MAX_INT
    with ClientProxy(replica.address, timeout=20, secret=client) as proxy:
        assert proxy._invoke("getvalue") == 1


def test_a_forged_huge_ballot_cannot_wedge_the_acceptors(instance):
    """Even with the node secret (the role that may send Accept), a ballot far above the
    acceptor's is refused: it would leave a real leader no higher ballot to win with."""
    h, replica, acceptor, client, _ = instance
    huge = Ballot(MAX_INT, "zzzz", MAX_INT)
    with LatencyProbe(replica.address, client, "finding 1: huge ballot (node secret)",
                      method="increment") as probe:
        # Speaking for the node its messages name: the ballot's bound, not the sender's
        # binding (test_node_identity.py), is what refuses them.
        sock = _handshake_as_node_with(acceptor.address, NODE_SECRET.encode(), "127.0.0.1:9")
        with sock:
            sock.sendall(encode_frame(Prepare("127.0.0.1:9", huge, 1)))
            sock.sendall(encode_frame(Accept("127.0.0.1:9", huge, 10**12, Batch(0.0, ()), 1)))
            sock.sendall(encode_frame(Accept("127.0.0.1:9", Ballot(2**40, "zzzz", 0), 10**12,
                                             Batch(0.0, ()), 1)))
        h.concoord("status", "-b", acceptor.address, *h.node_args)   # the frames were read
    probe.assert_served()
    assert acceptor.status()["promised"][0] < 2**32
    with ClientProxy(replica.address, timeout=20, secret=client) as proxy:
        before = proxy._invoke("getvalue")
        proxy._invoke("increment")
        assert proxy._invoke("getvalue") == before + 1
