"""Outbox: frames for one socket, in order, never interleaved, bounded; send_claimed over real
socket pairs (a full kernel buffer, a peer that is gone)."""

import socket
import threading

from concoord.runtime.outbox import WRITE_CHUNK, Outbox, send_claimed

KIB = 1 << 10


def drain(outbox):
    """What a writer thread would write, chunk by chunk, until the outbox is empty (no other
    thread writes in these tests, so a failed claim means frames are queued)."""
    chunks = []
    while not outbox.claim_idle():
        chunks.append(outbox.take())
        outbox.release()
    outbox.release()         # the claim succeeded: give the socket back
    return chunks


def test_the_limit_refuses_a_frame_that_would_cross_it_and_sending_makes_room():
    outbox = Outbox(limit=10 * KIB)
    assert outbox.put(b"a" * 6 * KIB) and outbox.put(b"b" * 4 * KIB)   # exactly the limit
    assert not outbox.put(b"c"), "one byte over the limit"
    assert outbox.take() == b"a" * 6 * KIB + b"b" * 4 * KIB
    assert not outbox.put(b"c"), "taken but not sent yet: still in memory, still counted"
    outbox.release()
    assert outbox.put(b"c" * 10 * KIB)


def test_frames_leave_in_order_coalesced_up_to_a_chunk_and_a_large_one_alone():
    outbox = Outbox(limit=64 * WRITE_CHUNK)
    frames = [bytes([n]) * (WRITE_CHUNK // 4) for n in range(6)] + [b"L" * 2 * WRITE_CHUNK,
                                                                     b"t"]
    for frame in frames:
        assert outbox.put(frame)
    chunks = drain(outbox)
    assert b"".join(chunks) == b"".join(frames)
    assert [len(c) for c in chunks] == [WRITE_CHUNK, WRITE_CHUNK // 2, 2 * WRITE_CHUNK, 1]


def test_a_sender_claims_only_an_idle_socket():
    outbox = Outbox(limit=KIB)
    assert outbox.claim_idle()
    assert not outbox.claim_idle(), "claimed already: a second writer would interleave"
    assert outbox.release()
    assert outbox.put(b"queued")
    assert not outbox.claim_idle(), "frames queued: writing now would overtake them"


def test_the_unsent_tail_of_a_direct_send_goes_before_what_was_queued_meanwhile():
    outbox = Outbox(limit=KIB)
    assert outbox.claim_idle()
    assert outbox.put(b"second"), "queued while the sender holds the socket"
    assert outbox.release(b"-tail of first")
    assert drain(outbox) == [b"-tail of first" + b"second"]


def test_an_unsent_tail_over_the_limit_is_refused_and_dropped():
    outbox = Outbox(limit=100)
    assert outbox.claim_idle()
    assert outbox.put(b"q" * 60), "queued while the sender holds the socket"
    assert not outbox.release(b"x" * 41), "60 queued + 41: the peer is not reading"
    assert drain(outbox) == [b"q" * 60], "nothing of the refused tail stayed queued"


def test_a_closed_outbox_refuses_frames_and_wakes_its_blocked_writer():
    outbox = Outbox(limit=KIB)
    taken = []
    writer = threading.Thread(target=lambda: taken.append(outbox.take()))
    writer.start()
    outbox.clear(close=True)
    writer.join(30)
    assert not writer.is_alive() and taken == [None]
    assert not outbox.put(b"late") and not outbox.claim_idle()


def test_clear_drops_what_is_queued_but_not_what_the_writer_holds():
    outbox = Outbox(limit=100)
    outbox.put(b"a" * 60)
    outbox.take()                    # the writer holds 60
    outbox.put(b"b" * 40)
    outbox.clear()
    assert not outbox.put(b"c" * 41), "the 60 in flight still count"
    outbox.release()
    assert outbox.put(b"c" * 100)


def test_send_claimed_leaves_what_the_kernel_did_not_take_to_the_writer_in_order():
    left, right = socket.socketpair()
    left.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * KIB)
    with left, right:
        outbox = Outbox(limit=64 << 20)
        first, second = b"1" * (4 << 20), b"2" * KIB     # far more than the kernel buffers
        assert outbox.claim_idle()
        assert send_claimed(outbox, left, first)
        assert outbox.put(second)
        received = bytearray()
        reader = threading.Thread(target=_read_exactly, args=(right, received,
                                                             len(first) + len(second)))
        reader.start()
        for chunk in drain(outbox):      # the writer thread's part
            left.sendall(chunk)
        reader.join(60)
        assert bytes(received) == first + second


def test_send_claimed_to_a_peer_that_is_gone_queues_the_frame_for_the_writer():
    left, right = socket.socketpair()
    right.close()
    with left:
        outbox = Outbox(limit=KIB)
        assert outbox.claim_idle()
        assert send_claimed(outbox, left, b"frame"), "the error is the writer's to meet"
        assert drain(outbox) == [b"frame"]


def _read_exactly(sock, into, size):
    while len(into) < size:
        data = sock.recv(1 << 20)
        if not data:
            return
        into += data
