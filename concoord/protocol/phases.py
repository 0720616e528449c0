"""The two phases a leader runs, as plain bookkeeping objects (PMMC's Scout and Commander).

Both count quorums by distinct senders that belong to the acceptor set, so a duplicated or
forged reply from outside the set never counts twice or at all.
"""


class Scout:
    """Phase 1 for one ballot on one acceptor set, from ``from_slot`` on."""

    def __init__(self, ballot, acceptors, from_slot, now):
        self.ballot = ballot
        self.acceptors = acceptors
        self.from_slot = from_slot
        self.promised = set()   # acceptors that promised and reported all they accepted
        self.resume_at = {}     # acceptor -> slot its report goes on from (it came in parts)
        self.pvalues = {}       # slot -> PValue with the highest ballot reported for it
        self.sent_at = now

    def on_promise(self, src, accepted, resume_at=0, more_from=0):
        """Count one promise, or one part of it (from ``resume_at`` up to ``more_from``); True
        once a quorum of distinct acceptors has promised and reported everything. Only the
        part asked for next counts (a duplicate of an earlier one is ignored), so when the
        last part counts, every part before it was merged."""
        if src not in self.acceptors or src in self.promised or \
                resume_at != self.resume_at.get(src, 0):
            return False
        for pvalue in accepted:
            self.merge(pvalue)
        assert all(self.pvalues[p.slot].ballot >= p.ballot for p in accepted), \
            "pmax: a slot keeps the highest-ballot pvalue reported for it"
        if more_from:
            self.resume_at[src] = more_from
            return False
        self.resume_at.pop(src, None)
        self.promised.add(src)
        return len(self.promised) >= len(self.acceptors) // 2 + 1

    def merge(self, pvalue):
        """Keep, per slot, the pvalue with the highest ballot: the only safe value to propose."""
        best = self.pvalues.get(pvalue.slot)
        if best is None or pvalue.ballot > best.ballot:
            self.pvalues[pvalue.slot] = pvalue

    def silent(self):
        return [a for a in self.acceptors if a not in self.promised]


class Commander:
    """Phase 2 for one slot."""

    def __init__(self, ballot, slot, batch, acceptors, now):
        self.ballot = ballot
        self.slot = slot
        self.batch = batch
        self.acceptors = acceptors
        self.accepted = set()
        self.sent_at = now

    def on_accepted(self, src):
        """Count one acceptance; True once a quorum of distinct acceptors has accepted."""
        if src in self.acceptors:
            self.accepted.add(src)
        return len(self.accepted) >= len(self.acceptors) // 2 + 1

    def silent(self):
        return [a for a in self.acceptors if a not in self.accepted]
