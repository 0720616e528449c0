"""Drives one node (a HostedReplica or an AcceptorNode) with real sockets and a real clock.

Reader threads put (connection, message) pairs into the node's inbox. Whichever thread holds
the node's lock handles the inbox: a reader that has just delivered messages takes the lock if
it is free and handles them itself (no thread switch on the latency-critical path), otherwise
the holder handles them before it lets go; a timer thread takes the lock for ticks. Only one
thread at a time ever touches the protocol node, so protocol code needs no locks. Effects are
carried out in the order the protocol requires: persist, then send, then reply to clients.
Everything taken from the inbox at once is one batch, persisted with one fsync (group commit).
"""

import logging
import queue
import threading
import time

from concoord.protocol.effects import Effects
from concoord.runtime.admission import ACCEPT, DISCONNECT, Admission, Refused
from concoord.wire.codec import encode_frame
from concoord.wire.messages import REJECTED, ClientReply, ClientRequest, StatusReply, StatusRequest

TICK_INTERVAL = 0.005
MAX_DRAIN = 4096     # messages handled between two looks at the clock
MAX_IN_FLIGHT = 10000

log = logging.getLogger("concoord.node")


class NodeFailure(Exception):
    """The node cannot go on safely (a write to its disk failed, an invariant broke)."""


class NodeRunner:
    def __init__(self, node_id, protocol_node, transport_factory, storage=None, snapshots=None,
                 max_in_flight=MAX_IN_FLIGHT):
        self.node_id = node_id
        self.admission = Admission(max_in_flight)
        self.node = protocol_node
        self.storage = storage
        self.snapshots = snapshots
        self.inbox = queue.SimpleQueue()
        self.clients = {}          # client id -> connection its requests arrived on
        self.transport = transport_factory(self._on_message, self._on_disconnect, self._pump)
        self.stopping = threading.Event()
        self.failure = None        # why the node stopped itself, for the exit status
        self.observer = None       # concoord.ops.metrics.RuntimeObserver with --metrics-port
        self._owner = threading.Lock()     # held by the thread handling the node
        self._next_tick = time.monotonic()
        self.thread = threading.Thread(target=self._run, name="concoord-timer", daemon=True)

    def start(self):
        self.transport.start()
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(2.0)
        self.transport.close()
        with self._owner:       # whoever is handling a batch finishes it first
            if self.storage is not None:
                self.storage.close()

    def call(self, function, timeout=None):
        """Run ``function(node)`` while holding the node (for status and joins from outside).
        With ``timeout``, TimeoutError if it has not run by then (e.g. the node is stopping)."""
        done = queue.SimpleQueue()
        self.inbox.put((None, lambda: done.put(function(self.node))))
        self._pump()
        try:
            return done.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"node {self.node_id} did not answer within {timeout} s") from None

    # ---- transport callbacks (reader threads) -------------------------------------------------

    def _on_message(self, conn, msg):
        self.inbox.put((conn, msg))

    def deliver(self, conn, msg):
        """A message from an in-process peer (local_link.py), as if read from ``conn``; it is
        handled at the next pump()."""
        self.inbox.put((conn, msg))

    def pump(self):
        """Handle the inbox now unless another thread is already handling the node."""
        self._pump()

    def _on_disconnect(self, conn):
        self.inbox.put((conn, None))
        self._pump()

    # ---- handling the node ------------------------------------------------------------------------

    def _pump(self, conn=None):
        """Handle the inbox now, unless another thread is doing so: that one re-checks the
        inbox after letting go of the node, so nothing put before this call waits for a tick.
        (Also the transport's on_read(conn): a reader has delivered all it read.)"""
        while not self.inbox.empty() and not self.stopping.is_set():
            if not self._owner.acquire(blocking=False):
                return
            try:
                self._handle(self._take_batch())
            except NodeFailure:
                return              # logged; the process is on its way out
            finally:
                self._owner.release()

    def _run(self):
        """The timer thread: ticks, and anything left in the inbox."""
        while not self.stopping.wait(max(0.0, self._next_tick - time.monotonic())):
            with self._owner:
                try:
                    self._handle(self._take_batch())
                except NodeFailure:
                    return          # logged; the process is on its way out
            self._pump()

    def _take_batch(self):
        """What is in the inbox now (up to MAX_DRAIN): handled as one batch, its promises are
        persisted with one fsync (group commit)."""
        batch = []
        try:
            while len(batch) < MAX_DRAIN:
                batch.append(self.inbox.get_nowait())
        except queue.Empty:
            pass
        return batch

    def _handle(self, batch):
        if self.stopping.is_set():
            return
        effects = Effects()
        for conn, msg in batch:
            self._dispatch(conn, msg, effects)
        now = time.monotonic()
        if now >= self._next_tick:
            self._next_tick = now + TICK_INTERVAL
            effects.extend(self.node.tick(now))
        self._carry_out(effects)
        if self.observer is not None:
            self.observer.handled(self.node, time.monotonic())
        if self.snapshots is not None:
            self._persisting("its snapshot", self.snapshots.maybe_persist, self.node)

    def _persisting(self, what, write, *args):
        """Disk errors are fatal: the protocol state already counts on what was being written
        (an acceptor's promise is raised in memory before it is made durable), and answering
        from it after the write failed would make a promise that a restart forgets."""
        try:
            write(*args)
        except OSError as exc:
            self.fail(f"cannot write {what} to disk: {exc}")
            raise NodeFailure(self.failure) from exc

    def fail(self, reason):
        """Stop the node for good: the process exits non-zero with ``reason``."""
        if self.failure is None:
            self.failure = reason
        log.critical("stopping this node: %s", reason)
        self.stopping.set()

    def _dispatch(self, conn, msg, effects):
        try:
            if conn is None:
                msg()           # a call() from another thread
            elif msg is None:
                self._forget(conn)
            elif not self._admitted(conn, msg):
                return
            elif isinstance(msg, StatusRequest):
                conn.send(StatusReply(self.node_id, self.node.status()))
            else:
                if isinstance(msg, ClientRequest):
                    # Proven by admission: from here on the client is its id.
                    msg = ClientRequest(msg.command.client_id, msg.command)
                    self.clients[msg.command.client_id] = conn
                    if self.observer is not None:
                        self.observer.request(self.node, msg.command, time.monotonic())
                effects.extend(self.node.handle(msg, time.monotonic()))
        except Exception as exc:
            # An invariant violation or a bug: continuing could spread a wrong state; stop the
            # node (the process exits non-zero) and let the others carry on.
            log.critical("internal error", exc_info=True)
            self.fail(f"internal error: {type(exc).__name__}: {exc}")
            raise

    def _admitted(self, conn, msg):
        if conn.closed:     # disconnected earlier in this batch: the rest of its input is void
            return False
        verdict = self.admission.check(conn, msg)
        if verdict == DISCONNECT:
            conn.close()
        elif isinstance(verdict, Refused):
            command = msg.command
            conn.send(ClientReply(self.node_id, command.client_id, command.number, REJECTED,
                                  verdict.value, None))
        return verdict == ACCEPT

    def _forget(self, conn):
        self.admission.forget(conn)
        gone = [c for c, known in self.clients.items() if known is conn]
        for client_id in gone:
            del self.clients[client_id]
        if gone and hasattr(self.node, "forget_clients"):    # a replica: their watches end
            self.node.forget_clients(gone)

    def _carry_out(self, effects):
        if effects.persist and self.storage is not None:   # durable before anything leaves
            started = time.monotonic()
            self._persisting("its promises", self.storage.append, effects.persist)
            if self.observer is not None:
                self.observer.persisted(time.monotonic() - started)
        if effects.sends:
            self.transport.send_all(effects.sends)
        self._reply(effects.replies)

    def _reply(self, replies):
        """One write per client connection for all of its replies in this batch (on loopback
        a send costs the receiver's processing too: tens of microseconds)."""
        if self.observer is not None and replies:
            self.observer.replied(replies, time.monotonic())
        frames = {}
        for reply in replies:
            conn = self.clients.get(reply.client_id)
            if conn is not None:
                self.admission.answered(conn, reply)
                frames.setdefault(conn, []).append(encode_frame(reply))
        for conn, parts in frames.items():
            if not conn.send_frame(parts[0] if len(parts) == 1 else b"".join(parts)):
                self._forget(conn)
