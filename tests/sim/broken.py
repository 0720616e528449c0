"""Deliberately broken protocol variants: the simulator must catch each of them."""

from concoord.protocol.phases import Scout
from concoord.protocol.leader import Leader
from concoord.protocol.progress import GC_STALE_FACTOR


class FirstPValueScout(Scout):
    def merge(self, pvalue):
        """BUG: keeps the first pvalue reported for a slot, not the highest-ballot one."""
        self.pvalues.setdefault(pvalue.slot, pvalue)


class FirstPValueLeader(Leader):
    def _ensure_scout(self, acceptors, from_slot, now, effects):
        super()._ensure_scout(acceptors, from_slot, now, effects)
        scout = self.scouts.get(acceptors)
        if scout is not None and type(scout) is Scout:
            scout.__class__ = FirstPValueScout


class ForgetfulGcLeader(Leader):
    def update_gc_floor(self, now, own_durable):
        """BUG (issue 13, bug 1): replicas that have not reported to this new leader yet are
        ignored, so the floor jumps to this leader's own progress."""
        progress = self.progress
        fresh = [durable for replica, (durable, seen) in progress.reports.items()
                 if replica in self.configs.latest.replicas
                 and now - seen < GC_STALE_FACTOR * self.timing.election_timeout]
        progress.gc_floor = max(progress.gc_floor, min(fresh + [own_durable]))

