"""ReadLoop over real socket pairs: frames split across reads, a peer closing mid-frame, a
connection that fails or is already closed, and stopping; then the same edge cases through a
node's real InboundConnection on loopback."""

import socket
import struct
import threading

import pytest

from concoord.errors import WireError
from concoord.runtime.ports import bind_listener
from concoord.runtime.read_loop import ReadLoop
from concoord.runtime.transport import Transport
from concoord.wire.codec import FrameReader, encode_frame
from concoord.wire.messages import CatchupRequest

from tests.runtime.test_transport import Inbox

WAIT = 30.0     # generous: a wait that runs out is a hang, never a slow machine's timing


class Conn:
    """A stand-in for InboundConnection: reads its socket and decodes frames (FrameReader)."""

    def __init__(self, sock):
        self.sock = sock
        sock.setblocking(False)
        self.frames = FrameReader()
        self.messages = []
        self.reads = threading.Semaphore(0)     # one release per read that brought bytes
        self.stops = 0
        self.stopped = threading.Event()

    def on_readable(self):
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return True
        if not data:
            return False
        try:
            self.messages += self.frames.feed(data)
        except WireError:
            return False
        self.reads.release()
        return True

    def stop_reading(self):
        self.stops += 1
        self.stopped.set()


class Failing(Conn):
    def on_readable(self):
        raise RuntimeError("a bug in a connection's reader")


@pytest.fixture
def loop():
    rounds = []
    read_loop = ReadLoop(lambda: rounds.append(1), "test-read-loop")
    read_loop.rounds = rounds
    read_loop.start()
    yield read_loop
    read_loop.stop(WAIT)


def pair():
    ours, theirs = socket.socketpair()
    return Conn(ours), theirs


def message(slot):
    return CatchupRequest("peer", slot)


def test_a_frame_split_across_reads_is_delivered_once_complete(loop):
    conn, peer = pair()
    loop.add(conn)
    frame = encode_frame(message(7))
    peer.sendall(frame[:3])                      # not even the whole length header
    assert conn.reads.acquire(timeout=WAIT)
    peer.sendall(frame[3:-1])
    assert conn.reads.acquire(timeout=WAIT)
    assert conn.messages == [] and conn.frames.pending_bytes == len(frame) - 1
    peer.sendall(frame[-1:] + encode_frame(message(8)))
    assert conn.reads.acquire(timeout=WAIT)
    assert conn.messages == [message(7), message(8)]
    assert loop.rounds, "each round of reads is reported"
    peer.close()
    assert conn.stopped.wait(WAIT)


def test_a_peer_that_closes_mid_frame_is_dropped_and_its_partial_frame_never_delivered(loop):
    conn, peer = pair()
    loop.add(conn)
    peer.sendall(encode_frame(message(1)) + encode_frame(message(2))[:-4])
    peer.close()
    assert conn.stopped.wait(WAIT)
    assert conn.messages == [message(1)] and conn.stops == 1


def test_bad_input_drops_only_that_connection(loop):
    bad, bad_peer = pair()
    good, good_peer = pair()
    loop.add(bad)
    loop.add(good)
    bad_peer.sendall(struct.pack(">I", 1 << 31))     # a length past any frame limit
    assert bad.stopped.wait(WAIT)
    good_peer.sendall(encode_frame(message(3)))
    assert good.reads.acquire(timeout=WAIT) and good.messages == [message(3)]
    assert not good.stopped.is_set()


def test_a_connection_closed_before_it_was_added_is_stopped_at_once(loop):
    conn, peer = pair()
    conn.sock.close()
    loop.add(conn)
    assert conn.stopped.wait(WAIT) and conn.stops == 1
    peer.close()


def test_a_failing_reader_stops_the_loop_and_every_connection_in_it():
    loop = ReadLoop(lambda: None, "test-read-loop")
    loop.start()
    healthy, healthy_peer = pair()
    ours, failing_peer = socket.socketpair()
    failing = Failing(ours)
    loop.add(healthy)
    loop.add(failing)
    failing_peer.sendall(b"x")
    assert failing.stopped.wait(WAIT) and healthy.stopped.wait(WAIT)
    assert (failing.stops, healthy.stops) == (1, 1)
    loop.stop(WAIT)


def test_stop_stops_every_connection_once_even_those_not_yet_read():
    loop = ReadLoop(lambda: None, "test-read-loop")
    conns = [pair() for _ in range(3)]
    loop.add(conns[0][0])            # before start: only queued
    loop.start()
    for conn, _ in conns[1:]:
        loop.add(conn)
    loop.stop(WAIT)
    assert [conn.stops for conn, _ in conns] == [1, 1, 1]


def test_a_connection_added_after_stop_is_stopped_too():
    """Transport adds a TLS or authenticated connection when its handshake ends, which may be
    after the node began closing: it must still be stopped (its descriptor released)."""
    loop = ReadLoop(lambda: None, "test-read-loop")
    loop.start()
    loop.stop(WAIT)
    conn, peer = pair()
    loop.add(conn)
    assert conn.stopped.wait(WAIT) and conn.stops == 1
    peer.close()


# ---- through a node's real InboundConnection (transport.py) on loopback ----------------------

@pytest.fixture
def node():
    inbox = Inbox()
    transport = Transport(bind_listener("127.0.0.1", 0), inbox.on_message, inbox.on_disconnect)
    transport.start()
    yield transport, inbox
    transport.close()


def connect(transport):
    host, port = transport.address.rsplit(":", 1)
    return socket.create_connection((host, int(port)))


def test_a_client_closing_mid_frame_is_disconnected_after_its_whole_frames(node):
    transport, inbox = node
    with connect(transport) as client:
        client.sendall(encode_frame(message(1)))
        inbox.wait_for(lambda got: [m for _, m in got.messages] == [message(1)])
        client.sendall(encode_frame(message(2))[:5])
    inbox.wait_for(lambda got: len(got.disconnects) == 1)
    assert [m for _, m in inbox.messages] == [message(1)]


def test_a_frame_sent_a_byte_at_a_time_arrives_whole(node):
    transport, inbox = node
    frame = encode_frame(message(9))
    with connect(transport) as client:
        for index in range(len(frame)):
            client.sendall(frame[index:index + 1])
        inbox.wait_for(lambda got: got.messages)
        assert [m for _, m in inbox.messages] == [message(9)]
