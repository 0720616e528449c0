"""The leader colocated with a replica (PMMC's Leader): it elects itself when the active leader
falls silent, runs phase 1 then phase 2 under its ballot, and pipelines up to WINDOW slots past
its learner's slot_out. This module only routes messages and ticks between its parts, one
concept a module:

- election.py: who leads, under which ballot, when to campaign (ballots only grow);
- scouting.py: phase 1 of a ballot on every governing acceptor set (the pmax rule);
- proposing.py: phase 2, which batch in which slot (batcher.py) and a Commander per slot;
- heartbeats.py: who still answers, and the read lease (read_lease.py);
- housekeeping.py: what it proposes on its own (log GC floor, expired sessions, dead replicas).
(phases.py counts the Scouts' and Commanders' quorums.)
"""

from concoord.protocol.effects import Effects
from concoord.protocol.election import CANDIDATE, FOLLOWER, Election
from concoord.protocol.forwarding import forwarded
from concoord.protocol.heartbeats import Heartbeats
from concoord.protocol.housekeeping import Housekeeping
from concoord.protocol.proposing import Proposer
from concoord.protocol.scouting import Scouting


class Leader:
    # Read-only: the leader changes its election only through Election's methods.
    state = forwarded("election", "state")
    ballot = forwarded("election", "ballot")
    leader_ballot = forwarded("election", "leader_ballot")
    highest_ballot = forwarded("election", "highest_ballot")
    leader_id = forwarded("election", "leader_id")
    leader_slot_out = forwarded("election", "leader_slot_out")
    is_active = forwarded("election", "is_active")

    def __init__(self, node_id, learner, timing, now, incarnation=0):
        self.node_id = node_id
        self.clock_offset = 0.0           # driver's wall clock minus ``now``: batch time stamps
        self.learner = learner
        self.configs = learner.configs
        self.timing = timing
        self.election = Election(node_id, incarnation, self.configs, timing, now)
        self.heartbeats = Heartbeats(timing, now)
        self.housekeeping = Housekeeping(node_id, incarnation, timing, now)
        self.progress = self.housekeeping.progress    # the GC floor, sent with every Accept
        self.sessions = self.housekeeping.sessions    # clients' keepalives touch them
        self.proposer = Proposer(node_id, learner, self.progress)
        self.batcher = self.proposer.batcher
        learner.on_reconfigure = self._on_reconfigure
        self._reset_ballot_state(now)

    def _reset_ballot_state(self, now):
        self.scouting = Scouting(self.node_id, self.ballot)
        self.proposer.start(self.scouting)
        self.heartbeats.reset(now)

    # ---- election -------------------------------------------------------------------------

    def campaign(self, now, effects):
        """Start phase 1 with a new ballot, above every ballot seen."""
        self.election.new_ballot(now)
        self._reset_ballot_state(now)
        self.scouting.cover(self.configs, self.learner.slot_out, now, effects)

    def preempted(self, ballot, now, effects):
        """An acceptor reports a higher ballot: stop campaigning or leading with ours. Whom to
        follow is another matter: only a heartbeat makes its sender our leader (election.py)."""
        self.election.saw(ballot)
        if ballot > self.ballot and self.state != FOLLOWER:
            self._step_down(now)

    def _step_down(self, now):
        self.election.step_down(now)
        self._reset_ballot_state(now)
        self.batcher.clear()

    # ---- phase 1 --------------------------------------------------------------------------

    def on_promise(self, msg, now, effects):
        if msg.gc_below > self.learner.slot_out and self.state != FOLLOWER:
            # Acceptors forgot slots this replica never applied: recovering them from phase 1
            # is impossible, so catch up from a peer's snapshot first. (Also when the acceptor
            # refused us for another leader's lease: a replica restarted empty after it was
            # removed hears no heartbeats and would otherwise campaign forever.)
            self.election.behind(msg.gc_below, msg.ballot)
            return self._step_down(now)
        if msg.ballot > self.ballot:
            return self.preempted(msg.ballot, now, effects)
        if msg.ballot != self.ballot or self.state == FOLLOWER:
            return
        self.heartbeats.heard_from(msg.src, now)
        self.scouting.on_promise(msg, effects)
        if self.state == CANDIDATE and self.scouting.done:
            self.election.won()
            self.housekeeping.became_active(self.learner.sessions, now)
        self._propose_more(now, effects)

    # ---- phase 2 --------------------------------------------------------------------------

    def submit(self, command, now, effects):
        """Queue a client command (the caller checked it is new) for the next free slot."""
        if self.batcher.add(command):
            self._propose_more(now, effects)

    def _propose_more(self, now, effects):
        if self.is_active:      # a proposal is made only under a ballot that became active
            self.proposer.propose_more(now, float(now + self.clock_offset), effects)

    def _on_reconfigure(self, slot, config, previous):
        """A reconfiguration decided in ``slot`` governs from slot + WINDOW: pad up to there
        with no-ops so it takes effect without waiting for client traffic."""
        self.proposer.pad_below(slot + self.configs.window)
        self.housekeeping.dead.on_view_change(config, previous)

    def on_accepted(self, msg, now, effects):
        """Returns (slot, batch) when that slot has just been decided, else None."""
        if msg.ballot > self.ballot:
            self.preempted(msg.ballot, now, effects)
            return None
        commander = self.proposer.commander_for(msg)
        if commander is None:
            return None
        self.heartbeats.heard_from(msg.src, now)
        return self.proposer.on_accepted(commander, msg.src, effects)

    def on_applied(self, slot, batch, now, effects):
        """The colocated learner handed a slot over: its commands are no longer in flight."""
        self.proposer.applied(slot, batch)
        self.housekeeping.applied(batch.commands, self.learner.sessions, now)
        self._propose_more(now, effects)

    def installed_snapshot(self, now, effects):
        """The colocated learner jumped past slots by a snapshot: settle what was proposed
        there and go on proposing (nothing else would: on_applied never saw those slots)."""
        self.proposer.skipped_to(self.learner.slot_out)
        self._propose_more(now, effects)

    # ---- liveness and the read lease --------------------------------------------------------

    def on_heartbeat(self, msg, now, effects):
        """An active leader is alive: follow it (unless election.py says to ignore it)."""
        if self.election.ignores(msg, now, self.scouting.done):
            return
        if self.state != FOLLOWER and msg.ballot < self.ballot:
            self._step_down(now)
        self.preempted(msg.ballot, now, effects)
        self.election.follow(msg, now)

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
        """Every configuration of a slot not applied yet: another leader could decide there."""
        return self.configs.governing_from(self.learner.slot_out)

    def lease_valid(self, now):
        """True while this leader may answer reads from its replica's state (read_lease.py).
        Not while a scout runs: an acceptor set it has not won yet may hold another ballot's
        proposals."""
        return self.is_active and self.scouting.done and self.heartbeats.lease.valid(
            now, self._governing())

    def tick(self, now):
        effects = Effects()
        if self.state == FOLLOWER:
            if self.election.campaign_due(now):
                self.campaign(now, effects)
            return effects
        if self.node_id not in self.configs.latest.replicas:
            self._step_down(now)       # removed from the instance: stop leading
            return effects
        self.scouting.retransmit(now, self.timing.retransmit_interval, effects)
        self.proposer.retransmit(now, self.timing.retransmit_interval, effects)
        if self.is_active:
            self.scouting.cover(self.configs, self.learner.slot_out, now, effects)
            if self.heartbeats.due(now):
                self._heartbeat(now, effects)
            for command in self.housekeeping.proposals(now, self.node_id, self.learner):
                self.submit(command, now, effects)
        return effects

    def _heartbeat(self, now, effects):
        """To every governing acceptor set, and to the replicas while those sets answer
        (heartbeats.py)."""
        self.heartbeats.send(self.node_id, self.ballot, self.learner.slot_out,
                             self._governing(), self.configs.latest, now, effects)

    def check_invariants(self):
        self.election.check_invariants()
        self.proposer.check_invariants()
        assert self.proposer.ballot == self.scouting.ballot == self.ballot, \
            "phase 1 and phase 2 run under this node's ballot"
