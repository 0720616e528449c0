"""Issue 19, finding 1 (second half): every node message's sender is the node its connection
authenticated as.

The node-role handshake names the node the connection speaks for (its listening address), under
the proof. A protocol message on it in another node's name is dropped (and logged once per
connection); a connection claiming to be the very node it connects to is closed; a second one
for the same node replaces the first. Before this, any holder of the node secret could send a
Decision "from" a replica or a Promise/Accepted "from" an acceptor on any connection.
"""

import socket
import subprocess
import sys
import time

from concoord import security
from concoord.client.proxy import ClientProxy
from concoord.runtime.ports import split_address
from concoord.wire.codec import encode_frame
from concoord.wire.messages import Accept, Accepted, Decision, Promise
from concoord.wire.types import Ballot, Batch, Command
from concoord.wire.values import encode_call_arguments
from tests.security.instance import CLIENT_CREDENTIAL, NODE_SECRET
from tests.security.latency import LatencyProbe

NOWHERE = "127.0.0.1:9"     # the node an attacker's connection names (no such member)


def _connect_as_node(address, node_id):
    """What a holder of the node secret can do: a node-role connection naming ``node_id``."""
    raw = socket.create_connection(split_address(address), timeout=10)
    return security.Security(NODE_SECRET.encode()).connected(raw, security.NODE, node_id)


def _closed(sock, timeout=10):
    """True once the node closed ``sock`` (nodes never answer on a node connection)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def _wait_for(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _instance(h, tmp_path):
    path = tmp_path / "node.secret"
    path.write_text(NODE_SECRET + "\n")
    path.chmod(0o600)
    h.node_args = ["--secret-file", str(path)]
    security.configure(security.Security(NODE_SECRET.encode()))   # the harness's probes
    first = h.start_replica()
    acceptor = h.start_acceptor(first)
    second = h.start_replica(first)
    return first, second, acceptor


def _value(address):
    with ClientProxy(address, timeout=20, secret=CLIENT_CREDENTIAL) as proxy:
        return proxy._invoke("getvalue")


def test_a_node_connection_cannot_speak_for_another_node(counter_harness, tmp_path):
    h = counter_harness
    first, second, acceptor = _instance(h, tmp_path)
    with ClientProxy(first.address, timeout=20, secret=CLIENT_CREDENTIAL) as proxy:
        proxy._invoke("increment")
    leader = next(n for n in (first, second) if n.address == first.status()["leader"])
    follower = second if leader is first else first
    status = follower.status()
    slot, ballot = status["slot_out"], tuple(acceptor.status()["promised"])
    forged = Batch(0.0, (Command("evil", 1, "decrement", encode_call_arguments([], {})),) * 5)
    above = Ballot(ballot[0] + 1, "~", 0)
    attacks = [    # (target, message in a member's name)
        (follower, Decision(leader.address, slot, forged)),
        (leader, Decision(follower.address, slot, forged)),
        (leader, Promise(acceptor.address, above, 1, ())),
        (leader, Accepted(acceptor.address, above, slot)),
        (acceptor, Accept(leader.address, above, slot, forged, 1)),
    ]
    with LatencyProbe(first.address, CLIENT_CREDENTIAL, "node identity: forged src",
                      method="increment") as probe:
        for node, message in attacks:
            with _connect_as_node(node.address, NOWHERE) as sock:
                sock.sendall(encode_frame(message) * 50)
                assert not _closed(sock, timeout=0.5)   # dropped, the connection kept
    probe.assert_served()
    calls = len(probe.latencies)
    expected = 2 + calls          # and the probe's first call
    assert _value(first.address) == _value(second.address) == expected
    assert tuple(acceptor.status()["promised"]) < tuple(above)
    for node in (follower, leader, acceptor):
        _wait_for(lambda: "dropping " in node.log())
        assert f"speaks for {NOWHERE}, not for" in node.log()
        assert node.log().count("dropping ") == sum(1 for n, _ in attacks if n is node)
        # The real nodes named themselves right: none was refused or displaced.
        assert "claims to be this node" not in node.log()
        assert not any(f"node {n.address} connected again" in node.log()
                       for n in (first, second, acceptor))
    assert first.alive and second.alive and acceptor.alive


def test_a_node_id_is_held_by_one_connection_and_never_the_nodes_own(counter_harness,
                                                                     tmp_path):
    h = counter_harness
    first, second, acceptor = _instance(h, tmp_path)
    with LatencyProbe(first.address, CLIENT_CREDENTIAL, "node identity: own id, duplicates",
                      method="increment") as probe:
        # A connection claiming to be the node it reaches is closed before any message.
        for node in (first, acceptor):
            with _connect_as_node(node.address, node.address) as sock:
                sock.sendall(encode_frame(Decision(node.address, 1, Batch(0.0, ()))))
                assert _closed(sock)
            _wait_for(lambda: "it claims to be this node" in node.log())
        # Two connections for one node: the newer one replaces the older.
        older = _connect_as_node(first.address, NOWHERE)
        newer = _connect_as_node(first.address, NOWHERE)
        assert _closed(older) and not _closed(newer, timeout=0.5)
        older.close()
        newer.close()
        assert "connected again" in first.log()
    probe.assert_served()
    # The real nodes' own links were never displaced: the instance still runs on both.
    expected = 1 + len(probe.latencies)      # and the probe's first call
    assert _value(first.address) == _value(second.address) == expected


def test_a_restarted_node_reconnects_under_its_name(counter_harness, tmp_path):
    """The binding must not keep a node out after a restart (kill -9, same address and data):
    its new connections name it again and replace whatever the peers still held."""
    h = counter_harness
    path = tmp_path / "node.secret"
    path.write_text(NODE_SECRET + "\n")
    path.chmod(0o600)
    h.node_args = ["--secret-file", str(path)]
    security.configure(security.Security(NODE_SECRET.encode()))
    replica = h.start_replica()
    data = tmp_path / "acceptor-data"
    acceptor = h._start("acceptor", ["-b", replica.address, "--data-dir", str(data)], replica,
                        True)
    with ClientProxy(replica.address, timeout=60, secret=CLIENT_CREDENTIAL) as proxy:
        proxy._invoke("increment")
        acceptor.kill()              # the only acceptor: nothing commits until it is back
        port = acceptor.address.rpartition(":")[2]     # back on its address, with its data
        log = open(tmp_path / "restarted-acceptor.log", "wb")
        restarted = subprocess.Popen(
            [sys.executable, "-m", "concoord", "acceptor", "-p", port, "--data-dir", str(data),
             *h.node_args], cwd=h.workdir, env=h.env(), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        try:
            proxy._invoke("increment")
            assert proxy._invoke("getvalue") == 2
            assert restarted.poll() is None
        finally:
            restarted.terminate()
            restarted.wait(30)
            log.close()
    assert "dropping " not in replica.log() and "claims to be this node" not in replica.log()
