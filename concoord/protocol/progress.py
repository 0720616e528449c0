"""How far each replica has applied, as the active leader hears it: what the acceptors may
forget (log garbage collection) and which replicas have gone silent.

Followers answer heartbeats with an Applied report (their slot_out and the slot through which
their state is durable). Acceptors may forget every slot below the lowest durable slot of the
replicas of the view. A replica that has not reported to this leader yet counts as having
applied nothing: a new leader knows nothing of the others' progress, and a replica that is
alive but behind must still find its slots at the acceptors when every other replica dies.
Only a replica silent for GC_STALE_FACTOR election timeouts is left behind; when it returns it
installs a snapshot from a peer.
"""

GC_STALE_FACTOR = 20


class ReplicaProgress:
    def __init__(self, timing):
        self.timing = timing
        self.reports = {}     # replica -> (durable slot, when it said so)
        self.gc_floor = 1     # acceptors may forget slots below this; it never goes down

    def report(self, replica, durable_slot, now):
        self.reports[replica] = (durable_slot, now)

    def update_floor(self, now, own_durable, me, replicas, active_since):
        floor = own_durable
        for replica in replicas:
            if replica == me:
                continue
            durable, seen = self.reports.get(replica, (1, active_since))
            if now - max(seen, active_since) < GC_STALE_FACTOR * self.timing.election_timeout:
                floor = min(floor, durable)
        assert floor >= 1
        self.gc_floor = max(self.gc_floor, floor)

    def last_heard(self, replica, since):
        """When ``replica`` last reported, counting no earlier than ``since``."""
        return max(self.reports.get(replica, (0, since))[1], since)
