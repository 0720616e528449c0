"""A replica: the protocol's ReplicaNode (agreeing) and an Applier (applying), composed.

This is what the runtime drives for `concoord replica` and what the simulator drives for each
replica, through the same handle/tick interface as every protocol node: every input is a
message plus the current time, every output an Effects of sends and replies.

After each input the node's Effects hand over decided slots (committed), ready lease reads and
watch registrations; they are applied here, in that order, before the next input, so the node
never gets ahead of its object by more than the input being handled (etcd-io/raft's
Ready/Advance loop, made synchronous). Snapshots are composed here too: the learner's part and
the object's part travel and install together.
"""

from dataclasses import replace

from concoord.errors import WireError
from concoord.host.applier import Applier
from concoord.host.snapshot import decode_snapshot, encode_snapshot
from concoord.protocol.effects import Effects
from concoord.protocol.forwarding import forwarded
from concoord.protocol.replica_node import ReplicaNode
from concoord.protocol.timing import Timing
from concoord.wire.messages import CatchupReply, CatchupRequest


class HostedReplica:
    def __init__(self, node_id, configuration, state_machine, now, timing=Timing(), window=None,
                 incarnation=0):
        self.node_id = node_id
        self.state_machine = state_machine
        self.applier = Applier(node_id, state_machine)
        self.node = ReplicaNode(node_id, configuration, now, timing, window, incarnation,
                                host=self.applier)
        self._served_snapshot = (None, None)   # (slot_out, snapshot) last sent to a peer
        self._leading = False      # was the leader after the last input (watches follow it)

    leader = forwarded("node", "leader", settable=True)
    learner = forwarded("node", "learner", settable=True)
    configs = forwarded("node", "configs", settable=True)
    timing = forwarded("node", "timing", settable=True)
    known_peers = forwarded("node", "known_peers", settable=True)
    durable = forwarded("node", "durable", settable=True)
    durable_slot = forwarded("node", "durable_slot", settable=True)
    retained_decisions = forwarded("node", "retained_decisions", settable=True)
    retained_commands = forwarded("node", "retained_commands", settable=True)

    def applied_durably(self):
        return self.node.applied_durably()

    def handle(self, msg, now):
        if isinstance(msg, CatchupRequest) and self.node.needs_snapshot(msg):
            return self._serve_snapshot(msg)
        if isinstance(msg, CatchupReply) and msg.snapshot and self.node.from_member(msg):
            return self._install_from_peer(msg, now)
        return self._apply(self.node.handle(msg, now))

    def tick(self, now):
        return self._apply(self.node.tick(now))

    def _apply(self, effects):
        """Apply what the node handed over, in order, and follow its leadership."""
        leading = self.leader.is_active
        for committed in effects.committed:
            self.applier.apply(committed, leading, effects)
        for command, stamp in effects.reads:
            self.applier.read(command, stamp, effects)
        for command, stamp in effects.watches:
            self.applier.watch(command, stamp, effects)
        effects.committed, effects.reads, effects.watches = [], [], []
        if self._leading and not leading:
            hint = self.leader.leader_id if self.leader.leader_id != self.node_id else None
            self.applier.step_down(hint, effects)
        self._leading = leading
        return effects

    # ---- snapshots ----------------------------------------------------------------------------

    def take_snapshot(self):
        """Bytes of this replica's whole state after slot_out - 1, or None if the object cannot
        say (then acceptors keep every slot)."""
        return encode_snapshot(self.learner, self.applier)

    def install_snapshot(self, data, now=0.0):
        """Install a snapshot (WireError if malformed); returns the Effects of the decisions
        held past it, now committed and applied."""
        snapshot = decode_snapshot(data, self.configs.window)
        if snapshot.slot_out <= self.learner.slot_out:
            return Effects()     # nothing new in it
        self.learner.install(snapshot.slot_out, snapshot.sessions, snapshot.expired,
                             snapshot.own_replies, snapshot.history)
        effects = Effects()
        self.applier.install(snapshot.state, snapshot.client_table, snapshot.slot_out - 1,
                             self.learner.batch_time, effects)
        self.node.installed_snapshot(now, effects)
        return self._apply(effects)

    def _serve_snapshot(self, msg):
        """A peer needs what this replica forgot: a snapshot, built once per slot_out (a
        far-behind peer asks every catch-up interval until it has installed one, and building
        it costs as much as the object is large)."""
        slot_out = self.learner.slot_out
        if self._served_snapshot[0] != slot_out:
            self._served_snapshot = (slot_out, self.take_snapshot())
        effects = Effects()
        if self._served_snapshot[1] is not None:
            effects.send(msg.src, CatchupReply(self.node_id, self.learner.decisions_from(slot_out),
                                               self._served_snapshot[1], slot_out))
        return effects

    def _install_from_peer(self, msg, now):
        """A catch-up reply with a snapshot: install the snapshot if it is ahead of this replica
        (else it is not even decoded), then commit the decisions held past it as any catch-up
        reply's (the node ignores the snapshot). A malformed snapshot is dropped with its
        decisions: past the gap it was to fill, they could not be applied anyway."""
        effects = Effects()
        if msg.snapshot_slot > self.learner.slot_out:
            try:
                effects = self.install_snapshot(msg.snapshot, now)
            except WireError:
                return effects
        return effects.extend(self._apply(self.node.handle(msg, now)))

    # ---- the runtime's questions ----------------------------------------------------------------

    def forget_clients(self, client_ids):
        """Their connection closed (the runtime says): drop their watches."""
        self.applier.forget_clients(client_ids)

    def status(self):
        """The StatusReply's info: the node's view, with the object described."""
        return replace(self.node.view(), object=self.applier.describe()).to_wire()

    def check_invariants(self):
        self.node.check_invariants()
        assert self.applier.last_slot == self.learner.slot_out - 1, \
            "the host applies every slot the learner hands over before the next input"
