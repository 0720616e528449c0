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


class SharedBudget:
    """Bytes queued across many outboxes (a node's client connections), with a limit.

    Past the limit, no outbox may hold more than ``backlog`` bytes: its peer is not reading,
    and many such peers together could exhaust the node's memory even though each stays under
    its own limit. A peer that reads keeps its outbox near empty and is refused only a reply
    larger than ``backlog``, and only while the node is over its limit. (So the node holds at
    most limit + backlog per connection.)
    """

    def __init__(self, limit, backlog):
        self.limit, self.backlog = limit, backlog
        self._lock = threading.Lock()
        self.used = 0

    def take(self, size, queued):
        """Count ``size`` more bytes for an outbox holding ``queued``; False if refused."""
        with self._lock:
            if self.used + size > self.limit and queued + size > self.backlog:
                return False
            self.used += size
            return True

    def add(self, size):
        """Count bytes that left (``size`` negative)."""
        with self._lock:
            self.used += size


class _NoBudget:
    @staticmethod
    def take(size, queued):
        return True

    @staticmethod
    def add(size):
        pass


class Outbox:
    """Frames waiting for one socket: any thread appends, one writer thread drains in bulk.

    Whoever writes to the socket (the writer thread, or a sender sending directly) first
    claims it, so that frames leave in the order they were sent and never interleave.
    """

    def __init__(self, limit, budget=None):
        self._cond = threading.Condition(threading.Lock())
        self._frames = collections.deque()
        self._size = 0            # bytes queued, and those the writer took but has not sent
        self._in_flight = 0       # ... of which the writer holds this many now
        self._limit = limit
        self._budget = budget or _NoBudget()
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
        """Done writing; ``unsent`` (the tail a direct send could not write) goes first.
        False if that tail is over the limits (the peer is not reading: close it)."""
        with self._cond:
            self._writing = False
            self._size -= self._in_flight     # sent (or given up on) at last
            self._budget.add(-self._in_flight)
            self._in_flight = 0
            fits = True
            if unsent and not self.closed:
                fits = (self._size + len(unsent) <= self._limit
                        and self._budget.take(len(unsent), self._size))
                if fits:
                    self._frames.appendleft(unsent)
                    self._size += len(unsent)
            if self._frames:
                self._cond.notify()
        return fits

    def put(self, frame):
        """Queue one frame; False if the outbox is closed or would grow past its limit."""
        with self._cond:
            if self.closed or self._size + len(frame) > self._limit:
                return False
            if not self._budget.take(len(frame), self._size):
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
            self._in_flight = size    # still counted: it is in memory until sent
        return chunk[0] if len(chunk) == 1 else b"".join(chunk)

    def clear(self, close=False):
        """Drop everything queued; ``close=True`` also refuses further frames and wakes the writer."""
        with self._cond:
            self._frames.clear()
            if close:       # the writer will not release() what it holds: count it gone now
                self._in_flight = 0
            self._budget.add(-(self._size - self._in_flight))
            self._size = self._in_flight
            if close:
                self.closed = True
                self._cond.notify_all()


def send_claimed(outbox, sock, frame):
    """Write what the kernel takes of ``frame`` now, without blocking, on a socket claimed
    from ``outbox``; the rest is left to its writer thread (which also meets any error).
    False if the rest is over the outbox's limits."""
    sent = 0
    try:
        sent = sock.send(frame, socket.MSG_DONTWAIT)
    except OSError:     # would block, or the socket failed: the writer retries or gives up
        pass
    return outbox.release(frame[sent:])
