"""The leader colocated with a replica (PMMC's Leader): elects itself when the active leader
falls silent, runs phase 1 (Scout) and phase 2 (Commander), and pipelines up to WINDOW slots
past its learner's slot_out. What it uses, one concern per module: phases.py (quorum counting),
batcher.py (client commands into slots), heartbeats.py (who still answers, and the read lease,
read_lease.py) and housekeeping.py (what it proposes on its own: the log GC floor, progress.py;
expired client sessions, sessions.py; dead replicas, dead_replicas.py).

Safety rules this code keeps (PMMC, with reconfiguration):
- per slot it proposes the batch of the highest-ballot pvalue reported by a phase-1 quorum of the
  acceptor set that governs that slot, or anything (a no-op or new commands) if none was reported;
- it proposes only below learner.slot_out + WINDOW, so the configuration of every slot it proposes
  in is decided and known (a reconfiguration in slot s governs from s + WINDOW);
- it follows (and sends clients to) only a ballot that became active: a heartbeat's, or its own.
Liveness: only one replica campaigns at a time, in rank order after the silent leader, and a
leader keeps its followers quiet only while a quorum of every governing acceptor set answers.
"""

from concoord.protocol.batcher import Batcher
from concoord.protocol.effects import Effects
from concoord.protocol.heartbeats import Heartbeats
from concoord.protocol.housekeeping import Housekeeping
from concoord.protocol.phases import Commander, Scout
from concoord.wire.messages import Accept, Decision, Prepare
from concoord.wire.types import NOOP, ZERO_BALLOT, Ballot

FOLLOWER, CANDIDATE, ACTIVE = "follower", "candidate", "active"


class Leader:
    def __init__(self, node_id, learner, timing, now, incarnation=0):
        self.node_id = node_id
        self.incarnation = incarnation    # unique per life of this node (see Ballot)
        self.clock_offset = 0.0           # driver's wall clock minus ``now``: batch time stamps
        self.learner = learner
        self.configs = learner.configs
        self.timing = timing
        self.state = FOLLOWER
        self.ballot = ZERO_BALLOT         # this node's ballot while campaigning or active
        self.leader_ballot = ZERO_BALLOT  # the highest ballot known to have become active
        self.highest_ballot = ZERO_BALLOT # the highest ballot seen anywhere (for our next round)
        self.leader_id = None             # who we believe leads (a hint for clients)
        self.last_heard = now             # last sign of life of the leader we follow
        self.leader_slot_out = 0          # how far the followed leader's replica has applied
        self.pad_until = 0                # fill slots below this with no-ops (reconfiguration)
        self.expected_member = False      # joined, but the view it has applied says not yet
        self.batcher = Batcher()
        self.heartbeats = Heartbeats(timing, now)
        self.housekeeping = Housekeeping(node_id, incarnation, timing, now)
        self.progress = self.housekeeping.progress    # the GC floor, sent with every Accept
        self.sessions = self.housekeeping.sessions    # clients' keepalives touch them
        learner.on_reconfigure = self._on_reconfigure
        self._reset_ballot_state(now)

    def _reset_ballot_state(self, now):
        self.scouts = {}          # acceptor set -> Scout (phase 1 under way)
        self.adopted = {}         # acceptor set -> {slot: PValue} (phase 1 done for self.ballot)
        self.commanders = {}      # slot -> Commander (phase 2 under way)
        self.proposals = {}       # slot -> Batch proposed under self.ballot
        self.next_slot = self.learner.slot_out
        self.constrained_up_to = 0
        self.heartbeats.reset(now)

    @property
    def is_active(self):
        return self.state == ACTIVE

    # ---- election -------------------------------------------------------------------------

    def _rank(self):
        """0 for the replica next in line after the leader we followed (or first, if none)."""
        replicas = sorted(self.configs.latest.replicas)
        if self.node_id not in replicas:
            # A replica whose join was accepted but that has not yet learnt the decisions that
            # make it a member may have to recover them itself (phase 1 is safe for any
            # proposer) if every replica that knew them died: it comes last in line.
            return len(replicas) if self.expected_member else None
        self.expected_member = False
        me = replicas.index(self.node_id)
        if self.leader_id in replicas:
            return (me - replicas.index(self.leader_id) - 1) % len(replicas)
        return me

    def _campaign_due(self, now):
        rank = self._rank()
        if rank is None or not self.configs.latest.acceptors:
            return False
        return now - self.last_heard > self.timing.election_timeout * (1 + rank)

    def campaign(self, now, effects):
        """Start phase 1 with a new ballot, above every ballot seen."""
        round_ = max(self.ballot.round, self.highest_ballot.round) + 1
        self.ballot = self.highest_ballot = Ballot(round_, self.node_id, self.incarnation)
        self.state = CANDIDATE
        self._reset_ballot_state(now)
        self.last_heard = now
        for slot in range(self.learner.slot_out, self.learner.slot_out + self.configs.window):
            self._ensure_scout(self.configs.config_for(slot).acceptors, slot, now, effects)

    def _ensure_scout(self, acceptors, from_slot, now, effects):
        if acceptors in self.adopted or acceptors in self.scouts:
            return
        self.scouts[acceptors] = Scout(self.ballot, acceptors, from_slot, now)
        effects.broadcast(acceptors, Prepare(self.node_id, self.ballot, from_slot))

    def preempted(self, ballot, now, effects):
        """An acceptor reports a higher ballot: stop campaigning or leading with ours. Whom to
        follow is another matter: that ballot may never have won (its candidate may have
        reached a single acceptor and died), so only a heartbeat makes its sender our leader;
        following a ballot that never became active would ignore the live leader forever."""
        self.highest_ballot = max(self.highest_ballot, ballot)
        if ballot > self.ballot and self.state != FOLLOWER:
            self._step_down(now)

    def _step_down(self, now):
        self.state = FOLLOWER
        self._reset_ballot_state(now)
        self.batcher.clear()
        self.last_heard = now

    # ---- phase 1 --------------------------------------------------------------------------

    def on_promise(self, msg, now, effects):
        if msg.gc_below > self.learner.slot_out and self.state != FOLLOWER:
            # Acceptors forgot slots this replica never applied: recovering them from phase 1
            # is impossible, so catch up from a peer's snapshot first. (Also when the acceptor
            # refused us for another leader's lease: a replica restarted empty after it was
            # removed hears no heartbeats and would otherwise campaign forever.)
            self.leader_slot_out = max(self.leader_slot_out, msg.gc_below)
            self.highest_ballot = max(self.highest_ballot, msg.ballot)
            return self._step_down(now)
        if msg.ballot > self.ballot:
            return self.preempted(msg.ballot, now, effects)
        if msg.ballot != self.ballot or self.state == FOLLOWER:
            return
        self.heartbeats.heard_from(msg.src, now)
        for acceptors, scout in list(self.scouts.items()):
            if scout.from_slot != msg.from_slot:
                continue
            if scout.on_promise(msg.src, msg.accepted, msg.resume_at, msg.more_from):
                del self.scouts[acceptors]
                self._adopt(acceptors, scout)
            elif msg.more_from and scout.resume_at.get(msg.src) == msg.more_from:
                effects.send(msg.src, self._prepare(scout, msg.src))   # the rest of its report
        if self.state == CANDIDATE and not self.scouts:
            self.state = ACTIVE
            self.leader_id = self.node_id
            self.leader_ballot = self.highest_ballot = self.ballot
            self.housekeeping.became_active(self.learner.sessions, now)
        if self.state == ACTIVE:
            self._propose_more(now, effects)

    def _prepare(self, scout, acceptor):
        return Prepare(self.node_id, self.ballot, scout.from_slot,
                       scout.resume_at.get(acceptor, 0))

    def _adopt(self, acceptors, scout):
        self.adopted[acceptors] = scout.pvalues
        if scout.pvalues:
            self.constrained_up_to = max(self.constrained_up_to, max(scout.pvalues))

    # ---- phase 2 --------------------------------------------------------------------------

    def submit(self, command, now, effects):
        """Queue a client command (the caller checked it is new) for the next free slot."""
        if self.batcher.add(command):
            self._propose_more(now, effects)

    def _propose_more(self, now, effects):
        limit = self.learner.slot_out + self.configs.window
        self.next_slot = max(self.next_slot, self.learner.slot_out)
        while self.state == ACTIVE and self.next_slot < limit:
            slot = self.next_slot
            if self.learner.decided(slot) is None and slot not in self.proposals:
                acceptors = self.configs.config_for(slot).acceptors
                if acceptors not in self.adopted:
                    self._ensure_scout(acceptors, slot, now, effects)
                    return
                batch = self._batch_for(slot, acceptors, now)
                if batch is None:
                    return
                self._command(slot, batch, now, effects)
            self.next_slot += 1

    def _batch_for(self, slot, acceptors, now):
        """What this ballot may propose in ``slot``: the recovered value, a no-op, new client
        commands, or None to wait."""
        pvalue = self.adopted[acceptors].get(slot)
        if pvalue is not None:
            return pvalue.batch
        if slot < self.constrained_up_to:
            return NOOP
        batch = self.batcher.take(float(now + self.clock_offset), len(self.commanders))
        if batch is None and slot < self.pad_until and not self.batcher.pending:
            return NOOP
        return batch

    def _on_reconfigure(self, slot, config, previous):
        """A reconfiguration decided in ``slot`` governs from slot + WINDOW: pad up to there
        with no-ops so it takes effect without waiting for client traffic."""
        self.pad_until = max(self.pad_until, slot + self.configs.window)
        self.housekeeping.dead.on_view_change(config, previous)

    def _command(self, slot, batch, now, effects):
        assert slot not in self.proposals, "one proposal per slot per ballot"
        assert slot < self.learner.slot_out + self.configs.window, "proposal beyond the window"
        self.proposals[slot] = batch
        commander = Commander(self.ballot, slot, batch, self.configs.config_for(slot).acceptors,
                              now)
        self.commanders[slot] = commander
        effects.broadcast(commander.acceptors, self._accept_message(commander))

    def _accept_message(self, commander):
        return Accept(self.node_id, commander.ballot, commander.slot, commander.batch,
                      self.progress.gc_floor)

    def on_accepted(self, msg, now, effects):
        """Returns (slot, batch) when that slot has just been decided, else None."""
        if msg.ballot > self.ballot:
            self.preempted(msg.ballot, now, effects)
            return None
        commander = self.commanders.get(msg.slot)
        if commander is None or msg.ballot != commander.ballot:
            return None
        self.heartbeats.heard_from(msg.src, now)
        if not commander.on_accepted(msg.src):
            return None
        del self.commanders[msg.slot]
        targets = set(self.configs.config_for(msg.slot).replicas) | set(
            self.configs.latest.replicas)
        effects.broadcast(sorted(targets - {self.node_id}),
                          Decision(self.node_id, msg.slot, commander.batch))
        return msg.slot, commander.batch

    def on_applied(self, slot, batch, now, effects):
        """The colocated learner handed a slot over: its commands are no longer in flight."""
        # A decision that differs from our proposal is legitimate: our proposal never reached
        # a quorum and a higher ballot (which we will hear of) chose something else.
        self.proposals.pop(slot, None)
        self.commanders.pop(slot, None)
        self.batcher.applied(batch.commands)
        for command in batch.commands:
            if command.method == "@session" and command.client_id in self.learner.sessions:
                self.sessions.open(command.client_id, self.learner.sessions[command.client_id],
                                   now)
        if self.state == ACTIVE:
            self._propose_more(now, effects)

    def read_barrier(self):
        """Slot the replica must have applied before a read may be answered locally: every
        slot this leader proposed, recovered or knows decided."""
        known = max(self.learner.decisions, default=0)
        return max(self.next_slot, known + 1, self.constrained_up_to + 1)

    # ---- liveness -------------------------------------------------------------------------

    def on_heartbeat(self, msg, now, effects):
        """An active leader is alive. It is followed even when this replica's own ballot is
        higher, unless this replica leads with it: a ballot no quorum adopted counts for
        nothing, and while that leader keeps its read lease the acceptors refuse our Prepare,
        so a candidate waiting for it would campaign (and stay out of the view) forever."""
        if msg.ballot < self.leader_ballot or (self.state == ACTIVE and msg.ballot < self.ballot):
            return
        if self.state == CANDIDATE and msg.ballot < self.ballot:
            self._step_down(now)
        self.preempted(msg.ballot, now, effects)
        self.leader_ballot = max(self.leader_ballot, msg.ballot)
        self.leader_id = msg.src
        self.last_heard = now
        self.leader_slot_out = max(self.leader_slot_out, msg.slot_out)

    def on_heartbeat_reply(self, msg, now, effects):
        if msg.ballot > self.ballot:
            return self.preempted(msg.ballot, now, effects)
        if msg.ballot == self.ballot:
            self.heartbeats.on_reply(msg, now)

    def on_applied_report(self, msg, now):
        self.progress.report(msg.src, msg.durable_slot, now)

    def update_gc_floor(self, now, own_durable):
        self.housekeeping.update_gc_floor(now, own_durable, self.node_id,
                                          self.configs.latest.replicas)

    def _governing(self):
        """The configurations of every slot this leader has not applied yet: another leader
        could decide in any of them, so leases and liveness must cover them all."""
        return self.configs.governing_from(self.learner.slot_out)

    def lease_valid(self, now):
        """True while this leader may answer reads from its replica's state (read_lease.py).
        Not while a scout runs: an acceptor set it has not won yet may hold another ballot's
        proposals."""
        return self.state == ACTIVE and not self.scouts and self.heartbeats.lease.valid(
            now, self._governing())

    def tick(self, now):
        effects = Effects()
        if self.state == FOLLOWER:
            if self._campaign_due(now):
                self.campaign(now, effects)
            return effects
        if self.node_id not in self.configs.latest.replicas:
            self._step_down(now)       # removed from the instance: stop leading
            return effects
        self._retransmit(now, effects)
        if self.state == ACTIVE:
            if self.heartbeats.due(now):
                self._heartbeat(now, effects)
            for command in self.housekeeping.proposals(now, self.node_id, self.learner):
                self.submit(command, now, effects)
        return effects

    def _retransmit(self, now, effects):
        interval = self.timing.retransmit_interval
        for scout in self.scouts.values():
            if now - scout.sent_at >= interval:
                scout.sent_at = now
                for acceptor in scout.silent():
                    effects.send(acceptor, self._prepare(scout, acceptor))
        for commander in self.commanders.values():
            if now - commander.sent_at >= interval:
                commander.sent_at = now
                effects.broadcast(commander.silent(), self._accept_message(commander))

    def _heartbeat(self, now, effects):
        """To every governing acceptor set, and to the replicas while those sets answer
        (heartbeats.py)."""
        self.heartbeats.send(self.node_id, self.ballot, self.learner.slot_out,
                             self._governing(), self.configs.latest, now, effects)

    def check_invariants(self):
        window_end = self.learner.slot_out + self.configs.window
        assert all(slot < window_end for slot in self.proposals), "proposal beyond the window"
        assert self.state != ACTIVE or self.leader_ballot == self.ballot
        assert self.ballot <= self.highest_ballot or self.state == FOLLOWER
        assert self.leader_ballot <= self.highest_ballot
        assert all(c.ballot == self.ballot for c in self.commanders.values())
