"""Accepted connections that have not finished their handshake yet, and how long they may take.

Before its handshake a peer has proven nothing, so it must not be able to hold what proven
peers need: each handshake has one deadline for the whole exchange (not per recv, which a peer
sending a byte a second never hits), and handshakes in progress have a cap of their own, in all
and per address, well below the node's connection limit. Over the per-address cap the oldest
handshake of that address is dropped; over the cap in all, the oldest of the address with the
most handshakes in progress. So an attacker's connections displace only each other: a real
client from another address, with one handshake in progress, is never the one dropped while
an address holds more (dropping the oldest in all, a client slowed by the attack's load to
100 ms was sometimes displaced by the flood of new attacking connections).
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
        self._per_host = {}                # host -> its connections in _started, oldest first

    def __len__(self):
        return len(self._started)

    def add(self, conn):
        """Track ``conn``; returns the connections it displaces."""
        host = host_of(conn.peer)
        evicted = []
        with self._lock:
            if len(self._per_host.get(host, ())) >= self.per_address:
                evicted.append(self._oldest_of(host))
            if len(self._started) >= self.limit:
                evicted.append(self._oldest_of_busiest())
            self._started[conn] = self._clock()
            self._per_host.setdefault(host, OrderedDict())[conn] = None
        return evicted

    def _oldest_of_busiest(self):
        """Stop tracking the oldest handshake of the address with the most and return it."""
        most = max(len(conns) for conns in self._per_host.values())
        busiest = next(host_of(c.peer) for c in self._started
                       if len(self._per_host[host_of(c.peer)]) == most)
        return self._oldest_of(busiest)

    def _oldest_of(self, host):
        """Stop tracking the oldest handshake from ``host`` and return it."""
        conn = next(iter(self._per_host[host]))
        self._remove(conn)
        return conn

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
        del self._per_host[host][conn]
        if not self._per_host[host]:
            del self._per_host[host]
