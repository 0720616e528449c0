"""Accepted connections that have not finished their handshake yet, and how long they may take.

Before its handshake a peer has proven nothing, so it must not be able to hold what proven
peers need: each handshake has one deadline for the whole exchange (not per recv, which a peer
sending a byte a second never hits), and handshakes in progress have a cap of their own, in all
and per address, well below the node's connection limit. Over a cap the oldest handshake of
that group is dropped: a real client finishes in milliseconds, so it is almost never the oldest,
while a slow attacker's connections age out first.
"""

import threading
import time
from collections import OrderedDict

DEADLINE = 5.0          # seconds for the whole handshake
MAX_PENDING = 128       # handshakes in progress at once ...
MAX_PER_ADDRESS = 16    # ... and from one IP address


def host_of(peer):
    """The address part of "host:port" (or "[v6]:port")."""
    return peer.rsplit(":", 1)[0]


class PendingHandshakes:
    """Connections in their handshake, oldest first. add() and expired() return connections
    the caller must close (outside any lock of its own)."""

    def __init__(self, limit=MAX_PENDING, per_address=MAX_PER_ADDRESS, deadline=DEADLINE,
                 clock=time.monotonic):
        self.limit, self.per_address, self.deadline = limit, per_address, deadline
        self._clock = clock
        self._lock = threading.Lock()
        self._started = OrderedDict()      # connection -> when it was accepted
        self._per_host = {}                # host -> connections of that host in _started

    def __len__(self):
        return len(self._started)

    def add(self, conn):
        """Track ``conn``; returns the connections it displaces."""
        host = host_of(conn.peer)
        evicted = []
        with self._lock:
            if self._per_host.get(host, 0) >= self.per_address:
                evicted.append(next(c for c in self._started if host_of(c.peer) == host))
                self._remove(evicted[-1])
            if len(self._started) >= self.limit:
                evicted.append(next(iter(self._started)))
                self._remove(evicted[-1])
            self._started[conn] = self._clock()
            self._per_host[host] = self._per_host.get(host, 0) + 1
        return evicted

    def done(self, conn):
        """The handshake of ``conn`` ended (passed, failed or closed)."""
        with self._lock:
            if conn in self._started:
                self._remove(conn)

    def expired(self):
        """The connections past their deadline (no longer tracked)."""
        limit = self._clock() - self.deadline
        late = []
        with self._lock:
            for conn, started in self._started.items():
                if started > limit:
                    break          # oldest first: the rest are younger
                late.append(conn)
            for conn in late:
                self._remove(conn)
        return late

    def _remove(self, conn):
        del self._started[conn]
        host = host_of(conn.peer)
        self._per_host[host] -= 1
        if not self._per_host[host]:
            del self._per_host[host]
