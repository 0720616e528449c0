"""What waits to be written to one socket, and who may write it.

Any thread may queue a frame; one writer thread drains the queue in large writes. A sender that
finds the socket idle (nothing queued, nobody writing) may claim it and write the frame itself,
without blocking: on the latency-critical path that saves a thread switch. Whoever writes
claims the socket first, so frames leave in order and never interleave.
"""

import collections
import socket
import threading

WRITE_CHUNK = 256 << 10       # bytes coalesced into one sendall


class Outbox:
    """Frames waiting for one socket: any thread appends, one writer thread drains in bulk.

    Whoever writes to the socket (the writer thread, or a sender sending directly) first
    claims it, so that frames leave in the order they were sent and never interleave.
    """

    def __init__(self, limit):
        self._cond = threading.Condition(threading.Lock())
        self._frames = collections.deque()
        self._size = 0
        self._limit = limit
        self._writing = False
        self.closed = False

    def claim_idle(self):
        """True, and the socket is the caller's to write until release(), if nothing is
        queued and nobody is writing."""
        with self._cond:
            if self.closed or self._frames or self._writing:
                return False
            self._writing = True
            return True

    def release(self, unsent=b""):
        """Done writing; ``unsent`` (the tail a direct send could not write) goes first."""
        with self._cond:
            self._writing = False
            if unsent and not self.closed:
                self._frames.appendleft(unsent)
                self._size += len(unsent)
            if self._frames:
                self._cond.notify()

    def put(self, frame):
        """Queue one frame; False if the outbox is closed or would grow past its limit."""
        with self._cond:
            if self.closed or self._size + len(frame) > self._limit:
                return False
            self._frames.append(frame)
            self._size += len(frame)
            if len(self._frames) == 1:  # the writer only ever sleeps on an empty outbox
                self._cond.notify()
        return True

    def take(self):
        """Block until something is queued and nobody writes; claim the socket and return the
        frames as one bytes (~WRITE_CHUNK), or None once closed. The caller then release()s."""
        with self._cond:
            while (not self._frames or self._writing) and not self.closed:
                self._cond.wait()
            if self.closed:
                return None
            self._writing = True
            frames = self._frames
            chunk = [frames.popleft()]
            size = len(chunk[0])
            while frames and size + len(frames[0]) <= WRITE_CHUNK:
                frame = frames.popleft()
                chunk.append(frame)
                size += len(frame)
            self._size -= size
        return chunk[0] if len(chunk) == 1 else b"".join(chunk)

    def clear(self, close=False):
        """Drop everything queued; ``close=True`` also refuses further frames and wakes the writer."""
        with self._cond:
            self._frames.clear()
            self._size = 0
            if close:
                self.closed = True
                self._cond.notify_all()


def send_claimed(outbox, sock, frame):
    """Write what the kernel takes of ``frame`` now, without blocking, on a socket claimed
    from ``outbox``; the rest is left to its writer thread (which also meets any error)."""
    sent = 0
    try:
        sent = sock.send(frame, socket.MSG_DONTWAIT)
    except OSError:     # would block, or the socket failed: the writer retries or gives up
        pass
    outbox.release(frame[sent:])
