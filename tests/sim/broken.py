"""Deliberately broken protocol variants: the simulator must catch each of them."""

from concoord.protocol import learner as learner_module
from concoord.protocol.phases import Scout
from concoord.protocol.election import FOLLOWER
from concoord.protocol.leader import Leader
from concoord.protocol.progress import GC_STALE_FACTOR
from concoord.wire.messages import OK
from concoord.wire.values import encode_value


class FirstPValueScout(Scout):
    def merge(self, pvalue):
        """BUG: keeps the first pvalue reported for a slot, not the highest-ballot one."""
        self.pvalues.setdefault(pvalue.slot, pvalue)


class FirstPValueLeader(Leader):
    def on_promise(self, msg, now, effects):
        for scout in self.scouting.scouts.values():
            if type(scout) is Scout:
                scout.__class__ = FirstPValueScout
        super().on_promise(msg, now, effects)


class ForgetfulGcLeader(Leader):
    def update_gc_floor(self, now, own_durable):
        """BUG (issue 13, bug 1): replicas that have not reported to this new leader yet are
        ignored, so the floor jumps to this leader's own progress."""
        progress = self.progress
        fresh = [durable for replica, (durable, seen) in progress.reports.items()
                 if replica in self.configs.latest.replicas
                 and now - seen < GC_STALE_FACTOR * self.timing.election_timeout]
        progress.gc_floor = max(progress.gc_floor, min(fresh + [own_durable]))



class AnyBallotFollowerLeader(Leader):
    """BUG (issue 13, bug 4): a higher ballot seen only in a Promise or Accepted (its candidate
    may have reached a single acceptor and died) makes this replica follow it: it then drops
    the live leader's lower-ballot heartbeats, redirects clients to a dead node and never
    reports Applied."""

    def preempted(self, ballot, now, effects):
        election = self.election
        if ballot <= election.leader_ballot and election.state == FOLLOWER:
            return
        election.highest_ballot = max(election.highest_ballot, ballot)
        election.leader_ballot = max(election.leader_ballot, ballot)
        if ballot > election.ballot and election.state != FOLLOWER:
            self._step_down(now)
        election.leader_id = election.leader_ballot.leader
        election.last_heard = now


class LatestConfigLeaseLeader(Leader):
    """BUG (issue 13, bug 2): the read lease is checked against, and renewed from, the latest
    configuration only, not every configuration that governs a slot at or after slot_out:
    after several acceptor changes inside one WINDOW, a quorum of the newest set leases this
    leader while another leader wins the older set that still governs its next slot. (As the
    code before the fix, it also counts the lease while a scout is still winning a set.)

    With the no-op padding after a reconfiguration and the read barrier, the leader's slot_out
    is governed by an older set only while its own proposals there are pending: a read that
    arrived while two removals were in phase 2 is served once they are decided. The
    simulator's split_from_leader makes that happen (Cluster._split_from_leader): the
    acceptors cut off, a quorum of the older sets, accepted the removals but answer late,
    after their leases ran out; the leader, still leased by the newest set, serves the read
    while the older sets could elect another leader (test_faults.py finds it by itself)."""

    def lease_valid(self, now):
        return self.is_active and self.heartbeats.lease.valid(now, [self.configs.latest])

    def _heartbeat(self, now, effects):
        latest = self.configs.latest
        self.heartbeats.send(self.node_id, self.ballot, self.learner.slot_out, [latest], latest,
                             now, effects)


def admit_amnesiac_acceptors(monkeypatch):
    """BUG (issue 13, acceptor amnesia): an acceptor that restarted with its disk wiped and
    asks to join under the id of a member is let in (the view is unchanged, the join
    acknowledged), so it answers as that member with none of the promises it made."""
    original = learner_module._INTERNAL["@join"]

    def join(self, slot, command, args):
        if learner_module._is_join(args) and args[0] == "acceptor" \
                and args[1] in self.configs.latest.acceptors:
            current = self.configs.latest
            return OK, encode_value([list(group) for group in current])
        return original(self, slot, command, args)

    monkeypatch.setitem(learner_module._INTERNAL, "@join", join)
