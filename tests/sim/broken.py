"""Deliberately broken protocol variants: the simulator must catch each of them."""

from concoord.protocol.phases import Scout
from concoord.protocol.leader import Leader


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
