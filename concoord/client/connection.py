"""A client's view of the network: one TCP connection to a replica, and the replicas to try."""

import logging
import os
import socket
import threading
import time

from concoord import security
from concoord.errors import AuthenticationError, WireError
from concoord.security.handshake import first_bytes, is_challenge
from concoord.wire.addresses import set_nodelay, shutdown_quietly, split_address
from concoord.wire.codec import FrameReader

log = logging.getLogger("concoord.client")

RECV_SIZE = 64 << 10
RESOLVE_AGAIN_INTERVAL = 1.0   # at most one fresh DNS lookup per second while nothing answers


def parse_bootstrap(bootstrap):
    """``'h:p,h:p'`` (or a list of such strings) -> the addresses in order, without duplicates."""
    items = [bootstrap] if isinstance(bootstrap, str) else list(bootstrap)
    hosts = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"bootstrap entries must be strings, not {type(item).__name__}")
        for part in item.split(","):
            part = part.strip()
            if part and part not in hosts:
                hosts.append(part)
    if not hosts:
        raise ValueError("bootstrap names no replica (expected 'host:port[,host:port...]')")
    return hosts


def has_port(entry):
    try:
        split_address(entry)
    except ValueError:
        return False
    return True


class ReplicaConnection:
    """One TCP connection from a client to a replica.

    Every message read is handed to ``on_message(conn, msg)`` from the reader thread;
    ``on_closed(conn, reason)`` is called once when the connection ends for any reason (an
    AuthenticationError if the replica turned out to want a secret this client does not have).
    ``last_received`` (monotonic) is when the replica last showed any sign of life.
    """

    def __init__(self, address, sock, on_message, on_closed):
        self.address = address
        self._sock = sock
        self._on_message = on_message
        self._on_closed = on_closed
        self._send_lock = threading.Lock()
        self._queued = []             # frames waiting for the writer (group commit)
        self._queue_ready = threading.Condition(threading.Lock())
        self._writer = None
        self._close_lock = threading.Lock()
        self.closed = False
        self.last_received = time.monotonic()
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name=f"concoord-client-{address}")

    def __repr__(self):
        return f"<ReplicaConnection to {self.address}{' closed' if self.closed else ''}>"

    @classmethod
    def open(cls, address, timeout, on_message, on_closed, settings=None, role=security.CLIENT):
        """Connect and authenticate as ``settings`` say (OSError or AuthenticationError on
        failure), then start reading."""
        sock = socket.create_connection(split_address(address), timeout=timeout)
        set_nodelay(sock)
        try:
            sock = (settings or security.current()).connected(sock, role)
        except BaseException:
            sock.close()
            raise
        conn = cls(address, sock, on_message, on_closed)
        conn._reader.start()
        return conn

    def send(self, frame, behind=False):
        """Write one frame; False (and the connection closes) if the socket failed.

        ``behind``: the caller has other calls in flight, so it needs no reply before the
        next one: the frame goes to a writer thread, which writes everything queued while it
        was busy in one syscall (group commit: a pipelining caller pays one write, and the
        replica one read, per group instead of per call)."""
        if behind:
            return self._queue(frame)
        try:
            with self._send_lock:
                self._sock.sendall(frame)
        except OSError as exc:
            self.close(f"write failed: {exc}")
            return False
        return True

    def _queue(self, frame):
        with self._queue_ready:
            if self.closed:
                return False
            self._queued.append(frame)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                                name=f"concoord-client-write-{self.address}")
                self._writer.start()
            elif len(self._queued) == 1:
                self._queue_ready.notify()
        return True

    def _write_loop(self):
        while True:
            with self._queue_ready:
                while not self._queued and not self.closed:
                    self._queue_ready.wait()
                if self.closed:
                    self._queued.clear()
                    return
                frames, self._queued = self._queued, []
            self.send(frames[0] if len(frames) == 1 else b"".join(frames))

    def close(self, reason="closed by the client"):
        """Idempotent; wakes a sender blocked on a replica that stopped reading."""
        with self._close_lock:
            if self.closed:
                return
            self.closed = True
        with self._queue_ready:
            self._queue_ready.notify()     # the writer thread ends
        shutdown_quietly(self._sock)
        try:
            self._on_closed(self, reason)
        except Exception:
            log.exception("connection close handler failed")

    def _read_loop(self):
        reader = FrameReader()
        reason = "closed by the replica"
        first = True
        try:
            while True:
                data = self._sock.recv(RECV_SIZE)
                if not data:
                    break
                if first:
                    data = first_bytes(self._sock, data)
                if first and is_challenge(data):
                    reason = AuthenticationError(
                        f"authentication failed: {self.address} requires the instance's secret "
                        "(pass secret= to the proxy or set CONCOORD_SECRET)")
                    break
                first = False
                self.last_received = time.monotonic()
                for msg in reader.feed(data):
                    self._on_message(self, msg)
        except WireError as exc:
            reason = f"bad reply: {exc}"
            log.warning("closing connection to %s: %s", self.address, exc)
        except OSError as exc:
            reason = str(exc) or type(exc).__name__
        finally:
            self.close(reason)
            # Taken after shutdown, so a sender cannot hold it for long; closing under it means
            # no sender ever writes to a descriptor number the OS has handed to another socket.
            with self._send_lock:
                self._sock.close()


class HostList:
    """The replicas a client may try: the bootstrap hosts, then any learned from redirects.

    Entries without a port (a domain name) are expanded through ``resolver(name)`` -> addresses
    when they come up, and looked up again once every known address has failed in a row (the
    instance may have moved on to replicas the client never heard of). ``tried`` keeps, in
    order, every address tried and why it last failed.
    """

    def __init__(self, entries, resolver=None):
        self._entries = list(entries)
        self._names = [e for e in self._entries if not has_port(e)]
        self._index = 0
        self._resolver = resolver
        self._failures_in_a_row = 0
        self._resolved_at = float("-inf")
        self.tried = {}

    def __len__(self):
        return len(self._entries)

    @property
    def entry(self):
        """The current entry as given (a name is not resolved)."""
        return self._entries[self._index]

    def current(self):
        """The address to try now; OSError if it is a name that cannot be resolved."""
        if self._should_resolve_again():
            self._resolve_again()
        entry = self._entries[self._index]
        if has_port(entry):
            return entry
        addresses = self._resolve(entry)
        if not addresses:
            raise OSError(f"no replicas found for {entry!r}")
        self._entries[self._index:self._index + 1] = [
            a for a in addresses if a not in self._entries]
        self._index %= len(self._entries)  # all already listed: the name is simply gone
        return self.current()

    def _resolve(self, name):
        if self._resolver is None:
            raise OSError(f"{name!r} has no port (and no resolver was given)")
        self._resolved_at = time.monotonic()
        return [a for a in self._resolver(name) if has_port(a)]

    def _should_resolve_again(self):
        return (self._names and self._failures_in_a_row >= len(self._entries)
                and time.monotonic() - self._resolved_at >= RESOLVE_AGAIN_INTERVAL)

    def _resolve_again(self):
        """Every known address failed: ask DNS for the replicas now (they come first, in the
        order DNS gives them, leader first), keeping the old ones as a last resort."""
        self._failures_in_a_row = 0
        fresh = []
        for name in self._names:
            try:
                fresh += [a for a in self._resolve(name) if a not in fresh]
            except OSError as exc:   # DNS down too: carry on with what we know
                log.debug("cannot resolve %s again: %s", name, exc)
        if not fresh:
            return
        self._entries = fresh + [e for e in self._entries if e not in fresh and has_port(e)]
        self._index = 0

    def advance(self):
        self._index = (self._index + 1) % len(self._entries)

    def prefer(self, address):
        """Make ``address`` (a redirect's hint) the next one to try, learning it if new."""
        if address not in self._entries:
            self._entries.append(address)
        self._index = self._entries.index(address)

    def note(self, entry, reason):
        """Record that ``entry`` was tried; ``reason`` is why it failed (None: it worked)."""
        self._failures_in_a_row = 0 if reason is None else self._failures_in_a_row + 1
        if reason is not None or entry not in self.tried:
            self.tried[entry] = reason

    def describe(self):
        return ", ".join(f"{entry} ({reason})" if reason else entry
                         for entry, reason in self.tried.items()) or "none"


def srv_resolver(nameserver=None):
    """The resolver a proxy uses for bootstrap names by default: the SRV record
    ``_concoord._tcp.NAME``, asked of ``nameserver`` ("host:port"), else of
    $CONCOORD_NAMESERVER, else of the system resolver."""
    nameserver = nameserver or os.environ.get("CONCOORD_NAMESERVER") or None

    def resolve(name):
        # Imported on first use: clients that list ip:port never load the DNS code.
        from concoord.dns.resolve import resolve_srv
        return resolve_srv(name, nameserver)
    return resolve
