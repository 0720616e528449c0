"""Who leads, under which ballot, and when this replica campaigns (PMMC's ballot_num and
``active``, with its section 4 advice: watch the active leader, compete only when it falls
silent).

Only one replica campaigns at a time: followers wait in rank order after the silent leader. A
replica follows only a ballot that became active (a heartbeat's, or its own): a ballot seen in a
Promise or Accepted may never have won, and following it would ignore the live leader forever.

Ballots only grow: this node's ballot, the highest ballot seen anywhere and the highest known to
have become active are each raised, never lowered (asserted where they change).
"""

from concoord.wire.types import ZERO_BALLOT, Ballot

FOLLOWER, CANDIDATE, ACTIVE = "follower", "candidate", "active"


class Election:
    def __init__(self, node_id, incarnation, configs, timing, now):
        self.node_id = node_id
        self.incarnation = incarnation    # unique per life of this node (see Ballot)
        self.configs = configs
        self.timing = timing
        self.state = FOLLOWER
        self.ballot = ZERO_BALLOT         # this node's ballot while campaigning or active
        self.leader_ballot = ZERO_BALLOT  # the highest ballot known to have become active
        self.highest_ballot = ZERO_BALLOT # the highest ballot seen anywhere (for our next round)
        self.leader_id = None             # who we believe leads (a hint for clients)
        self.followed_ballot = ZERO_BALLOT  # the ballot it leads with (may go down: see ignores)
        self.last_heard = now             # last sign of life of the leader we follow
        self.leader_slot_out = 0          # how far the followed leader's replica has applied
        self.expected_member = False      # joined, but the view it has applied says not yet

    @property
    def is_active(self):
        return self.state == ACTIVE

    def rank(self):
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

    def campaign_due(self, now):
        rank = self.rank()
        if rank is None or not self.configs.latest.acceptors:
            return False
        return now - self.last_heard > self.timing.election_timeout * (1 + rank)

    def new_ballot(self, now):
        """Campaign with a ballot above every ballot seen."""
        round_ = max(self.ballot.round, self.highest_ballot.round) + 1
        ballot = Ballot(round_, self.node_id, self.incarnation)
        assert ballot > max(self.ballot, self.highest_ballot), "a new ballot is above all seen"
        self.ballot = self.highest_ballot = ballot
        self.state = CANDIDATE
        self.last_heard = now
        return ballot

    def saw(self, ballot):
        """Any ballot in any message: our next one must be higher."""
        self.highest_ballot = max(self.highest_ballot, ballot)

    def behind(self, gc_below, ballot):
        """An acceptor (of ``ballot``) forgot the slots below ``gc_below``: catch up to there
        before campaigning again."""
        self.leader_slot_out = max(self.leader_slot_out, gc_below)
        self.saw(ballot)

    def won(self):
        """A quorum of every acceptor set adopted our ballot: it is active."""
        assert self.state == CANDIDATE
        assert self.ballot >= max(self.leader_ballot, self.highest_ballot), \
            "ballots only grow: the ballot that won is the highest seen"
        self.state = ACTIVE
        self.leader_id = self.node_id
        self.leader_ballot = self.highest_ballot = self.followed_ballot = self.ballot

    def step_down(self, now):
        self.state = FOLLOWER
        self.last_heard = now

    def ignores(self, heartbeat, now, won_every_set):
        """A heartbeat is followed even when this replica's own ballot is higher, unless it
        leads with that ballot on every acceptor set its next slots need (``won_every_set``):
        a ballot no quorum adopted counts for nothing, and while that leader keeps its read
        lease the acceptors refuse our Prepare, so a candidate waiting for it would campaign
        (and stay out of the view) forever; so would a leader that won an older set and then
        learnt of a newer one held by that lease. A lower ballot than the followed leader's
        is ignored only while that leader is heard: a higher ballot may have won on acceptors
        the view had already replaced and lead no one any more (ours, after we stepped down,
        or a leader gone silent)."""
        if self.state == ACTIVE and won_every_set:
            return heartbeat.ballot < self.ballot
        return heartbeat.ballot < self.followed_ballot and self._followed_is_heard(now)

    def _followed_is_heard(self, now):
        if self.leader_id == self.node_id:
            return False               # not active: its own leadership ended
        return now - self.last_heard <= self.timing.election_timeout

    def follow(self, heartbeat, now):
        """An active leader is alive: its ballot is known to have become active."""
        self.leader_ballot = max(self.leader_ballot, heartbeat.ballot)
        self.followed_ballot = heartbeat.ballot
        self.leader_id = heartbeat.src
        self.last_heard = now
        self.leader_slot_out = max(self.leader_slot_out, heartbeat.slot_out)

    def check_invariants(self):
        assert self.state != ACTIVE or self.leader_ballot == self.ballot
        assert self.ballot <= self.highest_ballot or self.state == FOLLOWER
        assert self.leader_ballot <= self.highest_ballot
