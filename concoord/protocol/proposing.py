"""Phase 2 of the active leader (PMMC's proposals and Commanders): which batch goes in which
slot, and a Commander per slot until a quorum of that slot's acceptor set accepted it.

Safety rules it keeps (asserted where a proposal is made):
- it proposes only under a ballot that a quorum of the slot's acceptor set adopted
  (scouting.py), and per slot the value phase 1 recovered (pmax), if any;
- one batch per slot per ballot;
- only below learner.slot_out + WINDOW, so the configuration of every slot it proposes in is
  decided and known (a reconfiguration decided in slot s governs from s + WINDOW).
"""

from concoord.protocol.batcher import Batcher
from concoord.protocol.phases import Commander
from concoord.protocol.scouting import Scouting
from concoord.wire.messages import Accept, Decision
from concoord.wire.types import NOOP, ZERO_BALLOT


class Proposer:
    def __init__(self, node_id, learner, progress):
        self.node_id = node_id
        self.learner = learner
        self.configs = learner.configs
        self.progress = progress      # the log GC floor, sent with every Accept
        self.batcher = Batcher()      # client commands waiting for a slot
        self.pad_until = 0            # fill slots below this with no-ops (reconfiguration)
        self.start(Scouting(node_id, ZERO_BALLOT))

    def start(self, scouting):
        """Work under a new ballot (or none, after stepping down): the phase 2 of the previous
        one is dropped; its proposals live on in the acceptors, for the next phase 1."""
        self.scouting = scouting
        self.ballot = scouting.ballot
        self.commanders = {}          # slot -> Commander (phase 2 under way)
        self.proposals = {}           # slot -> Batch proposed under self.ballot
        self.next_slot = self.learner.slot_out

    def pad_below(self, slot):
        """Fill the free slots below ``slot`` with no-ops when no command waits."""
        self.pad_until = max(self.pad_until, slot)

    def propose_more(self, now, batch_time, effects):
        """Propose in every free slot of the window, in order, until a slot must wait: for its
        acceptor set to adopt the ballot, or for commands to fill it."""
        limit = self.learner.slot_out + self.configs.window
        self.next_slot = max(self.next_slot, self.learner.slot_out)
        while self.next_slot < limit:
            slot = self.next_slot
            if self.learner.decided(slot) is None and slot not in self.proposals:
                acceptors = self.configs.config_for(slot).acceptors
                if not self.scouting.won(acceptors):
                    self.scouting.ensure(acceptors, slot, now, effects)
                    return
                batch = self._batch_for(slot, acceptors, batch_time)
                if batch is None:
                    return
                self._command(slot, batch, acceptors, now, effects)
            self.next_slot += 1

    def _batch_for(self, slot, acceptors, batch_time):
        """What this ballot may propose in ``slot``: the recovered value, a no-op, new client
        commands, or None to wait."""
        pvalue = self.scouting.recovered(acceptors, slot)
        if pvalue is not None:
            return pvalue.batch
        if slot < self.scouting.constrained_up_to:
            return NOOP
        batch = self.batcher.take(batch_time, len(self.commanders))
        if batch is None and slot < self.pad_until and not self.batcher.pending:
            return NOOP
        return batch

    def _command(self, slot, batch, acceptors, now, effects):
        assert self.scouting.won(acceptors), "a proposal only under a ballot its acceptors adopted"
        assert slot not in self.proposals, "one proposal per slot per ballot"
        assert slot < self.learner.slot_out + self.configs.window, "proposal beyond the window"
        self.proposals[slot] = batch
        commander = Commander(self.ballot, slot, batch, acceptors, now)
        self.commanders[slot] = commander
        effects.broadcast(acceptors, self._accept(commander))

    def _accept(self, commander):
        return Accept(self.node_id, commander.ballot, commander.slot, commander.batch,
                      self.progress.gc_floor)

    def commander_for(self, accepted):
        """The Commander an Accepted answers, or None (a late or another ballot's answer)."""
        commander = self.commanders.get(accepted.slot)
        if commander is None or accepted.ballot != commander.ballot:
            return None
        return commander

    def on_accepted(self, commander, src, effects):
        """Count one acceptance; (slot, batch) when the slot has just been decided, else None."""
        if not commander.on_accepted(src):
            return None
        slot = commander.slot
        del self.commanders[slot]
        known = self.learner.decided(slot)
        assert known is None or known == commander.batch, "a decided slot never changes"
        targets = set(self.configs.config_for(slot).replicas) | set(self.configs.latest.replicas)
        effects.broadcast(sorted(targets - {self.node_id}),
                          Decision(self.node_id, slot, commander.batch))
        return slot, commander.batch

    def applied(self, slot, batch):
        """The learner handed ``slot`` over: its commands are no longer in flight. A decision
        that differs from our proposal is legitimate: our proposal never reached a quorum and a
        higher ballot (which we will hear of) chose something else."""
        self.proposals.pop(slot, None)
        self.commanders.pop(slot, None)
        self.batcher.applied(batch.commands)

    def skipped_to(self, slot_out):
        """A snapshot install took the learner past these slots without on_applied: settle
        their proposals (decided, with whatever value), and forget which commands are in
        flight but the waiting ones (one proposed twice runs once: the host's exactly-once);
        kept, a commander there would count as a slot in phase 2 for good."""
        for slot in [slot for slot in self.proposals if slot < slot_out]:
            del self.proposals[slot]
            self.commanders.pop(slot, None)
        self.batcher.forget_proposed()

    def read_barrier(self):
        """Slot the replica must have applied before a read may be answered locally: every
        slot this leader proposed, recovered or knows decided."""
        known = max(self.learner.decisions, default=0)
        return max(self.next_slot, known + 1, self.scouting.constrained_up_to + 1)

    def retransmit(self, now, interval, effects):
        for commander in self.commanders.values():
            if now - commander.sent_at >= interval:
                commander.sent_at = now
                effects.broadcast(commander.silent(), self._accept(commander))

    def check_invariants(self):
        window_end = self.learner.slot_out + self.configs.window
        assert all(slot < window_end for slot in self.proposals), "proposal beyond the window"
        assert all(c.ballot == self.ballot for c in self.commanders.values())
