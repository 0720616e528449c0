"""Failure detection: replicas silent for dead_after leave the view through the log.

Only while the silent ones are a minority (a partitioned majority is not "dead"); they rejoin
when they return. Silence counts from a replica's last report or its latest (re)join, whichever
is later: a replica that was removed and rejoined has not reported since it was cut off, and
removing it again at once would make it rejoin and leave forever. Acceptors are never removed
automatically: that would lower the fault tolerance.
"""


class DeadReplicas:
    def __init__(self):
        self.removing = set()    # replicas this leader proposed to remove
        self.joined = set()      # replicas that (re)joined since the last look
        self.joined_at = {}      # replica -> when it last (re)joined

    def on_view_change(self, config, previous):
        self.joined |= set(config.replicas) - set(previous.replicas)

    def to_remove(self, now, me, replicas, last_heard, dead_after):
        """The replicas to propose removing now (each once)."""
        if self.joined:
            for replica in self.joined:
                self.joined_at[replica] = now
                self.removing.discard(replica)      # an earlier removal of it is over
            self.joined.clear()
            self.joined_at = {r: at for r, at in self.joined_at.items() if r in replicas}
        silent = [r for r in replicas if r != me and r not in self.removing
                  and now - max(last_heard(r), self.joined_at.get(r, -1e18)) > dead_after]
        self.removing &= set(replicas)
        if not silent or 2 * (len(silent) + len(self.removing)) >= len(replicas):
            return []
        self.removing.update(silent)
        return silent
