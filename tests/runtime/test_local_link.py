"""The in-process link of a colocated replica and acceptor (concoord.runtime.local_link): a real
acceptor NodeRunner and Transport, a recording stand-in for the replica's runner."""

import queue
import socket
import threading

from concoord import security
from concoord.protocol.acceptor_node import AcceptorNode
from concoord.runtime.local_link import link_in_process
from concoord.runtime.node import NodeRunner
from concoord.runtime.transport import Transport
from concoord.wire.messages import Accept, Accepted
from concoord.wire.types import NOOP, Ballot

REPLICA_ID = "127.0.0.1:1"


class RecordingStorage:
    """An acceptor's disk log that records when it made records durable."""

    def __init__(self, events):
        self.events = events

    def append(self, records):
        self.events.put(("persisted", list(records)))

    def close(self):
        pass


class StubTransport:
    def __init__(self):
        self.routes = {}

    def route_locally(self, peer, deliver):
        self.routes[peer] = deliver


class ReplicaStandIn:
    """What link_in_process needs of the replica's runner; records what it is handed."""

    def __init__(self, events):
        self.node_id = REPLICA_ID
        self.transport = StubTransport()
        self.stopping = threading.Event()
        self.events = events

    def deliver(self, conn, msg):
        self.events.put(("delivered", conn, msg))

    def pump(self):
        pass


def _acceptor_runner(events):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    node_id = f"127.0.0.1:{listener.getsockname()[1]}"

    def transport(on_message, on_disconnect, on_read):
        return Transport(listener, on_message, on_disconnect, on_read, node_id=node_id)
    return NodeRunner(node_id, AcceptorNode(node_id), transport,
                      storage=RecordingStorage(events))


def test_the_acceptor_persists_before_its_reply_reaches_the_local_replica():
    events = queue.SimpleQueue()
    replica, acceptor = ReplicaStandIn(events), _acceptor_runner(events)
    link_in_process(replica, acceptor)
    acceptor.start()
    try:
        ballot = Ballot(1, REPLICA_ID, 1)
        to_acceptor = replica.transport.routes[acceptor.node_id]
        to_acceptor(Accept(REPLICA_ID, ballot, 1, NOOP, 1))     # a function call, no socket
        first, second = events.get(timeout=10), events.get(timeout=10)
        assert first[0] == "persisted" and ("promise", ballot) in first[1]
        kind, conn, reply = second
        assert kind == "delivered" and reply == Accepted(acceptor.node_id, ballot, 1)
        # The replica's admission sees an authenticated node speaking for the acceptor.
        assert conn.node_id == acceptor.node_id and conn.role == security.NODE
        assert not conn.closed
    finally:
        acceptor.stop()


def test_a_broadcast_encodes_for_remote_peers_and_hands_the_local_one_the_message():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    remote = socket.socket()
    remote.bind(("127.0.0.1", 0))
    remote.listen()
    remote_id = f"127.0.0.1:{remote.getsockname()[1]}"
    transport = Transport(listener, lambda conn, msg: None)
    handed = []
    transport.route_locally("127.0.0.1:2", handed.append)
    msg = Accepted(REPLICA_ID, Ballot(1, REPLICA_ID, 1), 7)
    try:
        transport.broadcast(["127.0.0.1:2", remote_id], msg)
        transport.send("127.0.0.1:2", msg)
        assert handed == [msg, msg]                      # the object itself, twice
        assert "127.0.0.1:2" not in transport._links     # never a TCP link to it
        remote.settimeout(10)
        conn, _ = remote.accept()                        # the remote peer got a frame
        conn.settimeout(10)
        assert len(conn.recv(65536)) > 0
        conn.close()
    finally:
        transport.close()
        remote.close()


class RecordingLink:
    def __init__(self):
        self.writes = []

    def send_frame(self, frame):
        self.writes.append(frame)
        return True

    def close(self):
        pass

    def join(self, timeout):
        pass


def test_send_all_makes_one_write_per_peer_and_encodes_a_broadcast_once():
    from concoord.wire.codec import FrameReader
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    transport = Transport(listener, lambda conn, msg: None)
    links = {"127.0.0.1:3": RecordingLink(), "127.0.0.1:4": RecordingLink()}
    transport._links.update(links)
    handed = []
    transport.route_locally("127.0.0.1:2", handed.append)
    first = Accepted(REPLICA_ID, Ballot(1, REPLICA_ID, 1), 7)
    second = Accepted(REPLICA_ID, Ballot(1, REPLICA_ID, 1), 8)
    try:
        transport.send_all([("127.0.0.1:3", first), ("127.0.0.1:2", first),
                            ("127.0.0.1:4", first), ("127.0.0.1:3", second)])
        assert handed == [first]
        assert len(links["127.0.0.1:3"].writes) == 1 and len(links["127.0.0.1:4"].writes) == 1
        assert FrameReader().feed(links["127.0.0.1:3"].writes[0]) == [first, second]
        assert FrameReader().feed(links["127.0.0.1:4"].writes[0]) == [first]
    finally:
        transport.close()
