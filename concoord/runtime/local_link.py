"""An in-process link between a replica and an acceptor run by one process
(`concoord replica --with-acceptor`): their messages are handed over as objects, not frames.

Each node still has its own runner, lock, transport and listener (the acceptor stays a full
member that other replicas reach on its own port); only messages between the two go through
here. What crosses is exactly what the transport would have sent: the acceptor's reply is
handed over only after its runner has persisted the batch (NodeRunner._carry_out persists,
then sends), so persist-before-send holds as for a remote acceptor.

A message to the acceptor is handled by a thread of the link, not by the sender: the replica
goes on sending the same Accept to the remote acceptors while the local one fsyncs (fsync
releases the GIL), so the local write overlaps the remote round trips. A reply to the replica
is handled at once by the thread that sends it, like a message a reader thread has just read.
"""

import threading

from concoord import security


class LocalConnection:
    """What a runner sees as the connection a local peer's messages arrived on: an
    authenticated node connection that speaks for ``node_id`` and never closes."""

    closed = False
    role = security.NODE
    proven_ids = None

    def __init__(self, node_id):
        self.node_id = node_id
        self.peer = f"{node_id} (in-process)"

    def __repr__(self):
        return f"<LocalConnection from {self.node_id}>"

    def send(self, msg):
        """Nodes answer a node over their own links, never on this connection."""
        return False

    def send_frame(self, frame):
        return False


class _Handoff:
    """A thread that handles a runner's inbox whenever the link has put something in it."""

    def __init__(self, runner):
        self._runner = runner
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"concoord-local-{runner.node_id}")
        self._thread.start()

    def wake(self):
        self._ready.set()

    def _run(self):
        while not self._runner.stopping.is_set():
            self._ready.wait(0.5)
            self._ready.clear()      # before pumping: a message put after this wakes us again
            self._runner.pump()


def link_in_process(replica_runner, acceptor_runner):
    """Route the two runners' messages to each other in process (both before they start)."""
    from_replica = LocalConnection(replica_runner.node_id)
    from_acceptor = LocalConnection(acceptor_runner.node_id)
    handoff = _Handoff(acceptor_runner)

    def to_acceptor(msg):
        acceptor_runner.deliver(from_replica, msg)
        handoff.wake()

    def to_replica(msg):
        replica_runner.deliver(from_acceptor, msg)
        replica_runner.pump()

    replica_runner.transport.route_locally(acceptor_runner.node_id, to_acceptor)
    acceptor_runner.transport.route_locally(replica_runner.node_id, to_replica)
