"""The node TCP layer: ordering, reconnection, bad input, slow readers, ports."""

import logging
import socket
import struct
import threading
import time

import msgpack
import pytest

from concoord.runtime import transport as transport_module
from concoord.runtime.ports import PORT_RANGE, PortInUseError, bind_listener
from concoord.runtime.transport import Transport
from concoord.wire.codec import VERSION, FrameReader, encode_frame
from concoord.wire.messages import CatchupRequest, ClientReply, ClientRequest, StatusRequest
from concoord.wire.types import Command

HOST = "127.0.0.1"


class Inbox:
    """Collects what a transport delivers, so tests can wait for it."""

    def __init__(self):
        self.cond = threading.Condition()
        self.messages = []
        self.disconnects = []

    def on_message(self, conn, msg):
        with self.cond:
            self.messages.append((conn, msg))
            self.cond.notify_all()

    def on_disconnect(self, conn):
        with self.cond:
            self.disconnects.append(conn)
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=10.0):
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self), timeout), "timed out"

    def slots(self, src=None):
        with self.cond:
            return [m.from_slot for _, m in self.messages
                    if isinstance(m, CatchupRequest) and (src is None or m.src == src)]


@pytest.fixture
def make_node():
    made = []

    def make(port=0, inbox=None):
        inbox = inbox or Inbox()
        node = Transport(bind_listener(HOST, port), inbox.on_message, inbox.on_disconnect)
        node.start()
        made.append(node)
        return node, inbox

    yield make
    for node in made:
        node.close()


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def test_many_messages_each_way_keep_their_order(make_node):
    a, inbox_a = make_node()
    b, inbox_b = make_node()
    count = 5000

    def blast(sender, receiver):
        for i in range(1, count + 1):
            sender.send(receiver.address, CatchupRequest(src=sender.address, from_slot=i))

    threads = [threading.Thread(target=blast, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    inbox_a.wait_for(lambda box: len(box.messages) >= count)
    inbox_b.wait_for(lambda box: len(box.messages) >= count)
    assert inbox_a.slots() == list(range(1, count + 1))
    assert inbox_b.slots() == list(range(1, count + 1))


def test_concurrent_senders_keep_per_sender_order(make_node):
    a, _ = make_node()
    b, inbox_b = make_node()
    senders = [f"sender-{k}" for k in range(4)]

    def blast(name):
        for i in range(1, 1001):
            a.send(b.address, CatchupRequest(src=name, from_slot=i))

    threads = [threading.Thread(target=blast, args=(name,)) for name in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    inbox_b.wait_for(lambda box: len(box.messages) >= 4000)
    for name in senders:
        assert inbox_b.slots(name) == list(range(1, 1001))


def send_until_received(sender, peer, inbox, timeout=10.0):
    """Keep sending (as the protocol retransmits) until the peer has something."""
    deadline = time.monotonic() + timeout
    slot = 0
    while time.monotonic() < deadline:
        slot += 1
        sender.send(peer, CatchupRequest(src=sender.address, from_slot=slot))
        with inbox.cond:
            if inbox.cond.wait_for(lambda: inbox.messages, 0.05):
                return
    raise AssertionError(f"{peer} never received anything")


def test_peer_that_starts_late_and_restarts_gets_messages(make_node):
    a, _ = make_node()
    port = free_port()
    peer = f"{HOST}:{port}"
    a.send(peer, CatchupRequest(src=a.address, from_slot=1))  # nobody listening: dropped
    time.sleep(0.2)
    b, inbox_b = make_node(port)
    send_until_received(a, peer, inbox_b)
    b.close()
    b2, inbox_b2 = make_node(port)
    send_until_received(a, peer, inbox_b2)
    # Once connected again, order holds as before.
    with inbox_b2.cond:
        inbox_b2.messages.clear()
    for i in range(1, 501):
        a.send(peer, CatchupRequest(src="ordered", from_slot=i))
    inbox_b2.wait_for(lambda box: len(box.slots("ordered")) >= 500)
    assert inbox_b2.slots("ordered") == list(range(1, 501))


def test_send_never_blocks_on_unreachable_peer(make_node):
    a, _ = make_node()
    peer = f"{HOST}:{free_port()}"
    start = time.monotonic()
    for i in range(1, 20001):
        a.send(peer, CatchupRequest(src=a.address, from_slot=i))
    assert time.monotonic() - start < 5.0


def frame_of(body):
    return struct.pack(">I", len(body)) + body


BAD_INPUTS = {
    "garbage": frame_of(b"\xc1" * 8),
    "huge length": struct.pack(">I", 1 << 31) + b"xx",
    "unknown type": frame_of(msgpack.packb([VERSION * 100 + 99, "x"])),
    "half frame": encode_frame(StatusRequest(src="x"))[:6],
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_closes_only_that_connection(make_node, caplog, name):
    b, inbox_b = make_node()
    a, _ = make_node()
    caplog.set_level(logging.WARNING, logger="concoord.transport")
    send_until_received(a, b.address, inbox_b)
    raw = socket.create_connection((HOST, int(b.address.rsplit(":", 1)[1])))
    raw.settimeout(5.0)
    raw_name = "%s:%d" % raw.getsockname()
    raw.sendall(BAD_INPUTS[name])
    if name == "half frame":
        raw.shutdown(socket.SHUT_WR)  # then close: the rest of the frame never comes
    assert raw.recv(100) == b""  # the transport closed this connection
    raw.close()
    inbox_b.wait_for(lambda box: any(c.peer == raw_name for c in box.disconnects))
    if name != "half frame":
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and raw_name in warnings[0].getMessage()
    with inbox_b.cond:
        inbox_b.messages.clear()
    for i in range(1, 101):
        a.send(b.address, CatchupRequest(src="after", from_slot=i))
    inbox_b.wait_for(lambda box: len(box.slots("after")) >= 100)


def test_inbound_connection_replies_and_survives_handler_errors(make_node):
    def on_message(conn, msg):
        if msg.command.number == 1:
            raise RuntimeError("handler bug")
        conn.send(ClientReply(src="node", client_id=msg.src, number=msg.command.number,
                              status=0, value=b"\xc0", leader=None))

    node = Transport(bind_listener(HOST, None), on_message)
    node.start()
    try:
        raw = socket.create_connection((HOST, int(node.address.rsplit(":", 1)[1])))
        raw.settimeout(5.0)
        for number in (1, 2, 3):
            command = Command("c1", number, "get", b"\x92\x90\x80")
            raw.sendall(encode_frame(ClientRequest(src="c1", command=command)))
        reader, replies = FrameReader(), []
        while len(replies) < 2:
            replies += reader.feed(raw.recv(4096))
        assert [r.number for r in replies] == [2, 3]
        raw.close()
    finally:
        node.close()


def test_slow_reader_is_disconnected(make_node):
    b, inbox_b = make_node()
    b.outbox_limit = 256 << 10
    raw = socket.create_connection((HOST, int(b.address.rsplit(":", 1)[1])))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.sendall(encode_frame(StatusRequest(src="slow")))
    inbox_b.wait_for(lambda box: box.messages)
    conn = inbox_b.messages[0][0]
    payload = ClientReply(src="n", client_id="slow", number=1, status=0, value=b"x" * 4000,
                          leader=None)
    deadline = time.monotonic() + 10
    while not conn.closed and time.monotonic() < deadline:
        conn.send(payload)
    assert conn.closed
    assert conn.send(payload) is False
    raw.close()


def test_close_stops_all_threads(make_node):
    earlier = set(threading.enumerate())    # other tests' threads (a proxy still closing)
    a, _ = make_node()
    b, inbox_b = make_node()
    send_until_received(a, b.address, inbox_b)
    a.close()
    b.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        alive = [t.name for t in threading.enumerate()
                 if t.name.startswith("concoord-") and t not in earlier]
        if not alive:
            break
        time.sleep(0.05)
    assert not alive
    a.send(b.address, StatusRequest(src="late"))  # after close: silently dropped


def test_bind_listener_picks_a_port_in_range():
    sock = bind_listener(HOST)
    try:
        port = sock.getsockname()[1]
        assert PORT_RANGE[0] <= port <= PORT_RANGE[1]
        with pytest.raises(PortInUseError, match=f"port {port} on {HOST} is in use"):
            bind_listener(HOST, port)
    finally:
        sock.close()


def test_transport_address_is_host_port():
    sock = bind_listener(HOST, None)
    port = sock.getsockname()[1]
    node = Transport(sock, lambda conn, msg: None)
    node.close()  # never started: close() still releases the listener
    assert node.address == f"{HOST}:{port}"
    assert transport_module.split_address(node.address) == (HOST, port)
    bind_listener(HOST, port).close()
