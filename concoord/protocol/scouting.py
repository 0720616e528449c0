"""Phase 1 of one ballot (PMMC's Scouts): a Scout per acceptor set that governs a slot this
leader may propose in, and what each set reported once a quorum of it adopted the ballot.

The pmax rule: per slot, the only value this ballot may propose is the batch of the
highest-ballot pvalue a phase-1 quorum reported (phases.Scout keeps it); a slot below the highest
one reported, with nothing reported, gets a no-op (``constrained_up_to``). With reconfiguration
a slot's value comes from the acceptor set that governs that slot.
"""

from concoord.protocol.phases import Scout
from concoord.wire.messages import Prepare


class Scouting:
    def __init__(self, node_id, ballot):
        self.node_id = node_id
        self.ballot = ballot
        self.scouts = {}          # acceptor set -> Scout (phase 1 under way)
        self.adopted = {}         # acceptor set -> {slot: PValue} (phase 1 done for ballot)
        self.constrained_up_to = 0   # slots below it carry a recovered value or a no-op

    @property
    def done(self):
        return not self.scouts

    def won(self, acceptors):
        return acceptors in self.adopted

    def ensure(self, acceptors, from_slot, now, effects):
        """Start phase 1 on ``acceptors`` unless it is under way or done."""
        if acceptors in self.adopted or acceptors in self.scouts:
            return
        scout = self.scouts[acceptors] = Scout(self.ballot, acceptors, from_slot, now)
        effects.broadcast(acceptors, self._prepare(scout))

    def cover(self, configs, slot_out, now, effects):
        """Phase 1 on every acceptor set that governs a slot of the window from ``slot_out``,
        client traffic or not: a set's report is what fills the holes below a slot it
        decided. (Once a set was scouted only when a command reached its slots; learnt from a
        snapshot, past the reconfiguration's no-op padding, it never was while the instance
        was idle, and the replicas stopped short of a slot it had decided: seed 5087.)"""
        for slot in range(slot_out, slot_out + configs.window):
            self.ensure(configs.config_for(slot).acceptors, slot, now, effects)

    def on_promise(self, msg, effects):
        """A Promise of this ballot, or a part of one: count it for every scout that asked
        from that slot; ask for the rest of a report that did not fit in one."""
        assert msg.ballot == self.ballot
        for acceptors, scout in list(self.scouts.items()):
            if scout.from_slot != msg.from_slot:
                continue
            if scout.on_promise(msg.src, msg.accepted, msg.resume_at, msg.more_from):
                del self.scouts[acceptors]
                self._adopt(acceptors, scout.pvalues)
            elif msg.more_from and scout.resume_at.get(msg.src) == msg.more_from:
                effects.send(msg.src, self._prepare(scout, msg.src))

    def _adopt(self, acceptors, pvalues):
        # An acceptor that promised this ballot accepted nothing above it.
        assert all(pvalue.ballot <= self.ballot for pvalue in pvalues.values()), \
            "a pvalue above the ballot its acceptor promised"
        self.adopted[acceptors] = pvalues
        if pvalues:
            self.constrained_up_to = max(self.constrained_up_to, max(pvalues))

    def recovered(self, acceptors, slot):
        """The pvalue this ballot must propose again in ``slot`` (pmax), or None."""
        return self.adopted[acceptors].get(slot)

    def retransmit(self, now, interval, effects):
        for scout in self.scouts.values():
            if now - scout.sent_at >= interval:
                scout.sent_at = now
                for acceptor in scout.silent():
                    effects.send(acceptor, self._prepare(scout, acceptor))

    def _prepare(self, scout, acceptor=None):
        """Phase 1a from the scout's slot, or, to an acceptor whose report came in part, for
        the rest of it."""
        return Prepare(self.node_id, self.ballot, scout.from_slot,
                       scout.resume_at.get(acceptor, 0))
