"""The TCP layer of a node: accepted connections, write-only links to peers, nothing else.

Plain connections accepted by a node are read by one thread (read_loop.py); TLS connections
each have a reader thread. A sender never blocks on the network: it writes to an idle socket
itself, without blocking, and anything else goes to the socket's outbox for its writer thread
(outbox.py). Links to peers connect and reconnect on their own and drop messages while the peer
is unreachable: the protocol above retransmits, and a caller must never block on a dead or
stopped peer.

When the process has a shared secret or TLS (concoord.security), every accepted connection
completes that handshake, in its reader thread, before any of its messages is delivered; its
``role`` then says whether the peer proved to be a node or a client, and a node's ``node_id``
which node it speaks for (admission.py drops its messages sent in another node's name). One
live connection per node id: a newer one replaces the older (a restarted node reconnects while
its old connection may linger), and a peer claiming to be this very node is refused. Handshakes
in progress have a deadline and caps of their own (handshakes.py), enforced by the accept
thread.
"""

import errno
import logging
import socket
import threading
import time

from concoord import security
from concoord.errors import AuthenticationError, WireError
from concoord.runtime.handshakes import PendingHandshakes
from concoord.runtime.outbox import Outbox, SharedBudget, send_claimed
from concoord.runtime.ports import format_address, set_nodelay, shutdown_quietly, split_address
from concoord.runtime.read_loop import ReadLoop
from concoord.wire.codec import MAX_FRAME, FrameReader, encode_frame

log = logging.getLogger("concoord.transport")

# Not larger: a 256 KiB recv() buffer costs an mmap and a munmap per call (glibc's malloc
# threshold is 128 KiB), measured at 16 us per recv against 2 us for 64 KiB.
RECV_SIZE = 64 << 10
OUTBOX_LIMIT = 64 << 20       # an inbound peer with more than this queued is a slow reader
REPLY_BUDGET = 256 << 20      # queued on all inbound connections together; past it ...
REPLY_BACKLOG = 1 << 20       # ... a peer with this much unread is a slow reader too
MAX_CONNECTIONS = 1024        # accepted connections per node; more are closed at once
CONNECT_TIMEOUT = 1.0
BACKOFF_MIN, BACKOFF_MAX = 0.01, 0.5
JOIN_TIMEOUT = 0.5
REAP_INTERVAL = 0.5           # how often the accept thread drops handshakes past their deadline
_ACCEPT_RETRY = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def _spawn(target, name):
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class InboundConnection:
    """A connection a peer or client opened to us: messages in, replies out."""

    def __init__(self, sock, transport):
        self._sock = sock
        self._transport = transport
        self.peer = format_address(sock.getpeername())
        self._outbox = Outbox(transport.outbox_limit, transport.reply_budget)
        self._close_lock = threading.Lock()
        self.closed = False
        self.role = None          # security.NODE or security.CLIENT once authenticated
        self.node_id = None       # the node a NODE peer speaks for (None: for no node)
        self.proven_ids = None    # the node ids its certificate lists (None: no certificates)
        self._direct = False      # senders may write to the socket themselves (not under TLS)
        self._frames = FrameReader(transport.max_frame)
        self._reader = self._writer = None
        # The descriptor is closed once both the reading side and the writer thread are done
        # with it, so that no thread can ever touch a number the OS has handed to a new socket.
        self._fd_users = 2
        self._fd_lock = threading.Lock()

    def __repr__(self):
        return f"<InboundConnection from {self.peer}{' closed' if self.closed else ''}>"

    @property
    def sock(self):
        return self._sock

    def start(self):
        security = self._transport.security
        if security.authenticates or security.server_tls is not None:
            # The handshake may take a while (a slow or hostile peer): not in the accept thread.
            self._reader = _spawn(self._start_secured, f"concoord-read-{self.peer}")
        else:
            self._begin()

    def _start_secured(self):
        secured = self._secure() and self._transport._claim(self)
        self._transport.handshakes.done(self)
        if not secured or self.closed:      # failed, or dropped while it was in progress
            self.close()
            self._sock.close()
            return
        self._begin()
        if self._transport.security.server_tls is not None:
            self._read_loop()     # a TLS stream keeps its own reader thread

    def _begin(self):
        self._writer = _spawn(self._write_loop, f"concoord-write-{self.peer}")
        if self._transport.security.server_tls is None:
            self._direct = True
            self._transport.read_loop.add(self)

    def send(self, msg):
        """Queue ``msg`` for the peer (thread-safe, never blocks); False if the connection is gone."""
        return self.send_frame(encode_frame(msg))

    def send_frame(self, frame):
        """Like send() for an already encoded frame (to encode a broadcast only once)."""
        if self._direct and self._outbox.claim_idle():
            if send_claimed(self._outbox, self._sock, frame):
                return True
        elif self._outbox.put(frame):
            return True
        if not self.closed:
            log.warning("closing connection from %s: slow reader (over %d bytes queued, or "
                        "over %d while the node holds %d bytes of unread replies)", self.peer,
                        self._transport.outbox_limit, REPLY_BACKLOG, REPLY_BUDGET)
            self.close()
        return False

    def close(self):
        """Close the connection (idempotent); on_disconnect is called once, from this thread."""
        with self._close_lock:
            if self.closed:
                return
            self.closed = True
        self._outbox.clear(close=True)
        shutdown_quietly(self._sock)
        self._transport._connection_closed(self)

    def join(self, timeout):
        for thread in (self._reader, self._writer):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)

    def _secure(self):
        """The handshake, if any; False if the peer failed it (the connection is then closed)."""
        try:
            self._sock, self.role, self.node_id, self.proven_ids = \
                self._transport.security.accepted(self._sock)
        except (AuthenticationError, OSError) as exc:
            if not self.closed:
                log.warning("refused connection from %s: %s", self.peer, exc)
            return False
        return True

    def on_readable(self):
        """Read what arrived and deliver its messages; False once the connection is over."""
        try:
            data = self._sock.recv(RECV_SIZE)
        except BlockingIOError:
            return True
        except OSError as exc:
            if not self.closed:
                log.debug("connection from %s failed: %s", self.peer, exc)
            return False
        if not data:
            return False
        try:
            messages = self._frames.feed(data)
        except WireError as exc:
            log.warning("closing connection from %s: %s", self.peer, exc)
            return False
        for msg in messages:
            self._transport._deliver(self, msg)
        return True

    def stop_reading(self):
        self.close()
        self._release_fd()

    def _read_loop(self):
        while self.on_readable():
            self._transport._delivered(self)
        self.stop_reading()

    def _release_fd(self):
        with self._fd_lock:
            self._fd_users -= 1
            last = self._fd_users == 0
        if last:
            self._sock.close()

    def _write_loop(self):
        try:
            self._write_all()
        finally:
            self._release_fd()

    def _write_all(self):
        while True:
            data = self._outbox.take()
            if data is None:
                return
            try:
                self._sock.sendall(data)
            except OSError as exc:
                if not self.closed:
                    log.debug("writing to %s failed: %s", self.peer, exc)
                self.close()
                return
            self._outbox.release()


class OutboundLink:
    """A write-only connection to one peer node, (re)connected by its own writer thread.

    Nothing is ever read: the peer answers over its own link to our listener.
    """

    def __init__(self, peer, limit=OUTBOX_LIMIT, settings=None, node_id=None):
        self.peer = peer
        self.node_id = node_id      # the node this link speaks for, named in the handshake
        self._security = settings or security.current()
        self._address = split_address(peer)
        self._outbox = Outbox(limit)
        self._stop = threading.Event()
        self._sock = None
        self._thread = _spawn(self._run, f"concoord-link-{peer}")

    def __repr__(self):
        return f"<OutboundLink to {self.peer}{' connected' if self._sock else ''}>"

    def send_frame(self, frame):
        """Send or queue a frame; it is silently dropped if the link is closed or hopelessly
        behind."""
        if self._outbox.claim_idle():
            sock = self._sock
            if sock is None or self._security.client_tls is not None or self._peer_closed():
                self._outbox.release(frame)     # the writer (re)connects first
            else:
                send_claimed(self._outbox, sock, frame)
            return True
        return self._outbox.put(frame)

    def close(self):
        self._stop.set()
        self._outbox.clear(close=True)
        sock = self._sock
        if sock is not None:
            shutdown_quietly(sock)

    def join(self, timeout):
        self._thread.join(timeout)

    def _run(self):
        backoff = BACKOFF_MIN
        try:
            while True:
                data = self._outbox.take()
                if data is None:
                    return
                if self._sock is not None and self._peer_closed():
                    self._disconnect("peer closed the connection")
                if self._sock is None and not self._connect():
                    self._outbox.clear()  # unreachable: the protocol will retransmit
                    self._outbox.release()
                    if self._stop.wait(backoff):
                        return
                    backoff = min(backoff * 2, BACKOFF_MAX)
                    continue
                backoff = BACKOFF_MIN
                try:
                    self._sock.sendall(data)
                except OSError as exc:
                    self._disconnect(f"write failed: {exc}")
                self._outbox.release()
        finally:
            self._disconnect(None)

    def _connect(self):
        try:
            sock = socket.create_connection(self._address, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            log.debug("cannot connect to %s: %s", self.peer, exc)
            return False
        set_nodelay(sock)
        try:
            sock = self._security.connected(sock, security.NODE, self.node_id)
        except (AuthenticationError, OSError) as exc:
            log.warning("cannot connect to %s: %s", self.peer, exc)
            sock.close()
            return False
        self._sock = sock
        if self._stop.is_set():  # close() ran while we were connecting and could not see sock
            shutdown_quietly(sock)
        log.debug("connected to %s", self.peer)
        return True

    def _peer_closed(self):
        """A peer that exited has sent FIN; notice it before writing into a dead connection.

        One non-blocking recv per coalesced write is cheap and saves the first batch after a
        peer restart, which would otherwise vanish into the old connection.
        """
        if hasattr(self._sock, "closed_by_peer"):   # a TLS stream: its bytes are not ours to drop
            return self._sock.closed_by_peer()
        try:
            return not self._sock.recv(4096, socket.MSG_DONTWAIT)  # any data is discarded
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _disconnect(self, reason):
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if reason:
            log.debug("link to %s lost: %s", self.peer, reason)
        shutdown_quietly(sock)
        sock.close()


class _DeadLink:
    """What a closed transport sends through: nothing."""

    @staticmethod
    def send_frame(frame):
        return False


_DEAD_LINK = _DeadLink()


class Transport:
    """A node's listener, the connections accepted on it, and its links to peer nodes.

    ``on_message(conn, msg)`` is called from the connection's reader thread for every decoded
    message, then ``on_read(conn)`` once all messages of that read were delivered;
    ``on_disconnect(conn)`` once when an accepted connection closes (not during close()).
    """

    def __init__(self, listener_socket, on_message, on_disconnect=None, on_read=None,
                 max_frame=MAX_FRAME, settings=None, max_connections=MAX_CONNECTIONS,
                 node_id=None):
        self._listener = listener_socket
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self._on_read = on_read
        self.max_frame = max_frame
        self.outbox_limit = OUTBOX_LIMIT
        self.reply_budget = SharedBudget(REPLY_BUDGET, REPLY_BACKLOG)
        self.security = settings or security.current()
        self.max_connections = max_connections
        self._address = format_address(listener_socket.getsockname())
        self.node_id = node_id or self._address   # what our links say they speak for
        self.read_loop = ReadLoop(lambda: self._delivered(None),
                                  f"concoord-read-{self._address}")
        self._lock = threading.Lock()
        self._links = {}
        self._local = {}               # node id -> deliver(msg): a peer in this process
        self._connections = set()
        self._node_connections = {}    # node id -> the live connection speaking for it
        self._closed = False
        self._stopped = threading.Event()
        self._accept_thread = None
        self.handshakes = PendingHandshakes()

    def __repr__(self):
        return f"<Transport {self._address}>"

    @property
    def address(self):
        return self._address

    def start(self):
        self.read_loop.start()
        self._accept_thread = _spawn(self._accept_loop, f"concoord-accept-{self._address}")

    def send(self, peer, msg):
        """Send ``msg`` to the node listening at ``peer`` ("host:port"); never blocks."""
        local = self._local.get(peer)
        if local is not None:
            local(msg)
        else:
            self._link(peer).send_frame(encode_frame(msg))

    def broadcast(self, peers, msg):
        """Send one message to several nodes, encoding it once (and not at all for a peer in
        this process). Remote peers first: their round trips overlap the local handling."""
        local = [self._local[peer] for peer in peers if peer in self._local]
        remote = [peer for peer in peers if peer not in self._local]
        if remote:
            frame = encode_frame(msg)
            for peer in remote:
                self._link(peer).send_frame(frame)
        for deliver in local:
            deliver(msg)

    def send_all(self, sends):
        """Send [(peer, msg)] in order with one write per peer: the frames for one peer are
        joined (on loopback every write costs a wake-up and a read on the other side), and a
        message sent to several peers is encoded once. Peers in this process come last, so
        the remote round trips start before the local handling."""
        frames, encoded, local = {}, {}, []
        for peer, msg in sends:
            deliver = self._local.get(peer)
            if deliver is not None:
                local.append((deliver, msg))
                continue
            frame = encoded.get(id(msg))    # the messages live until the end: ids are unique
            if frame is None:
                frame = encoded[id(msg)] = encode_frame(msg)
            frames.setdefault(peer, []).append(frame)
        for peer, parts in frames.items():
            self._link(peer).send_frame(parts[0] if len(parts) == 1 else b"".join(parts))
        for deliver, msg in local:
            deliver(msg)

    def route_locally(self, peer, deliver):
        """Hand messages for node ``peer`` to ``deliver(msg)`` in this process from now on
        (concoord.runtime.local_link), instead of over TCP."""
        with self._lock:
            self._local[peer] = deliver
            stale = self._links.pop(peer, None)
        if stale is not None:
            stale.close()

    def close(self):
        """Stop accepting, close every connection and link, and wait briefly for the threads."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stopped.set()
            connections, self._connections = list(self._connections), set()
            links, self._links = list(self._links.values()), {}
        if self._accept_thread is None:
            self._listener.close()
        else:
            shutdown_quietly(self._listener)
        for endpoint in connections + links:
            endpoint.close()
        deadline = time.monotonic() + JOIN_TIMEOUT  # one budget for all: threads are daemons
        self.read_loop.stop(JOIN_TIMEOUT)
        for endpoint in connections + links + [self._accept_thread]:
            if endpoint is not None:
                endpoint.join(max(0.0, deadline - time.monotonic()))

    def _link(self, peer):
        link = self._links.get(peer)  # the common case takes no lock
        if link is None:
            with self._lock:
                link = self._links.get(peer)
                if link is None:
                    if self._closed:
                        return _DEAD_LINK
                    link = self._links[peer] = OutboundLink(peer, self.outbox_limit,
                                                            self.security, self.node_id)
        return link

    def _accept_loop(self):
        self._listener.settimeout(REAP_INTERVAL)   # accepted sockets stay blocking (CPython)
        try:
            while not self._closed:
                # Also between accepts: a flood of new connections must not postpone it.
                self._drop_handshakes(self.handshakes.expired(), "handshake deadline")
                try:
                    sock, _ = self._listener.accept()
                except socket.timeout:
                    continue
                except OSError as exc:
                    if self._closed or not self._accept_failed(exc):
                        return
                    continue
                self._adopt(sock)
        finally:
            self._listener.close()

    def _accept_failed(self, exc):
        """Decide whether accept() may be retried after ``exc``."""
        if exc.errno in _ACCEPT_RETRY:
            log.warning("cannot accept connections on %s: %s", self._address, exc)
            self._stopped.wait(0.1)  # out of descriptors: let some connections close first
            return True
        if exc.errno == errno.ECONNABORTED:
            return True
        log.error("listener %s failed: %s", self._address, exc)
        return False

    def _adopt(self, sock):
        set_nodelay(sock)
        try:
            conn = InboundConnection(sock, self)
        except OSError:  # the peer already went away (getpeername fails)
            sock.close()
            return
        with self._lock:
            full = len(self._connections) >= self.max_connections
            if self._closed or full:
                sock.close()
                if full:
                    log.warning("refused connection from %s: already %d connections",
                                conn.peer, self.max_connections)
                return
            self._connections.add(conn)
        if self.security.authenticates or self.security.server_tls is not None:
            self._drop_handshakes(self.handshakes.add(conn), "too many handshakes")
        conn.start()

    def _claim(self, conn):
        """``conn`` passed its handshake: record the node it speaks for. False if it claims
        to be this node; a previous connection for the same node is closed."""
        if conn.node_id is None:
            return True
        if conn.node_id == self.node_id:
            log.warning("refused connection from %s: it claims to be this node (%s)",
                        conn.peer, conn.node_id)
            return False
        with self._lock:
            old = self._node_connections.get(conn.node_id)
            self._node_connections[conn.node_id] = conn
        if old is not None and not old.closed:
            log.warning("node %s connected again (from %s): closing its older connection from "
                        "%s", conn.node_id, conn.peer, old.peer)
            old.close()
        return True

    def _drop_handshakes(self, connections, reason):
        """Close connections whose handshake took too long or was displaced by a newer one
        (debug only: an attacker would otherwise fill the log)."""
        for conn in connections:
            log.debug("closing connection from %s before its handshake ended: %s", conn.peer,
                      reason)
            conn.close()

    def _deliver(self, conn, msg):
        try:
            self._on_message(conn, msg)
        except Exception:  # a handler bug must not take the connection (or the node) down
            log.exception("message handler failed on %r from %s", type(msg).__name__, conn.peer)

    def _delivered(self, conn):
        """Everything one read brought has been delivered."""
        if self._on_read is None:
            return
        try:
            self._on_read(conn)
        except Exception:
            log.exception("read handler failed")

    def _connection_closed(self, conn):
        with self._lock:
            if self._closed:
                return
            self._connections.discard(conn)
            if conn.node_id is not None and self._node_connections.get(conn.node_id) is conn:
                del self._node_connections[conn.node_id]
        if self._on_disconnect is not None:
            try:
                self._on_disconnect(conn)
            except Exception:
                log.exception("disconnect handler failed for %s", conn.peer)
