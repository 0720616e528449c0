"""An active leader's heartbeats: who still answers it, and its read lease.

Every heartbeat interval the leader sends a Heartbeat to the acceptors of every configuration
that governs a slot it has not applied (their replies prove a quorum still follows this ballot,
and renew the read lease, read_lease.py), and to the other replicas only while a quorum of each
of those sets answered recently: a leader cut off from the acceptors falls silent to the
replicas, so that they elect another one.
"""

from concoord.protocol.read_lease import ReadLease
from concoord.wire.messages import Heartbeat


class Heartbeats:
    def __init__(self, timing, now):
        self.timing = timing
        self.lease = ReadLease(timing)
        self.reset(now)

    def reset(self, now):
        """A new ballot: replies to the previous one say nothing about it."""
        self.acks = {}            # acceptor -> time of its last reply under the current ballot
        self.lease.reset()
        self.last_sent = now - self.timing.heartbeat_interval

    def heard_from(self, acceptor, now):
        """Any reply of ``acceptor`` under the current ballot (Promise, Accepted, ...)."""
        self.acks[acceptor] = now

    def on_reply(self, msg, now):
        """A HeartbeatReply of the current ballot: alive, and maybe a lease grant."""
        self.acks[msg.src] = now
        if msg.sent_at >= 0:
            self.lease.granted(msg.src, msg.sent_at)

    def due(self, now):
        return now - self.last_sent >= self.timing.heartbeat_interval

    def send(self, leader_id, ballot, slot_out, governing, latest, now, effects):
        self.last_sent = now
        beat = Heartbeat(leader_id, ballot, slot_out, latest, float(now),
                         float(self.timing.lease))
        effects.broadcast(sorted({a for c in governing for a in c.acceptors}), beat)
        if all(self._answered_recently(c, now) for c in governing):
            effects.broadcast([r for r in latest.replicas if r != leader_id], beat)

    def _answered_recently(self, config, now):
        recent = sum(1 for a in config.acceptors
                     if now - self.acks.get(a, -1e18) <= self.timing.election_timeout)
        return recent >= config.quorum()
