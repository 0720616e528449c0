"""The active leader's read lease: while it holds one, no other leader can decide anything, so
it may answer read-only calls from its own replica's state without a slot in the log.

An acceptor that answers a heartbeat of the ballot it promised grants that ballot a lease of
``timing.lease`` seconds from when it received it, and refuses every other ballot's Prepare
meanwhile (Acceptor._on_prepare). The leader counts a grant from when it *sent* that heartbeat,
shortened by the clock drift bound, so its lease ends before any acceptor's does. It needs a
quorum of grants in every configuration that governs a slot it has not applied: another
leader could decide in any of them.
"""


class ReadLease:
    def __init__(self, timing):
        self.timing = timing
        self.grants = {}      # acceptor -> send time of the latest heartbeat it leased

    def reset(self):
        """A new ballot: grants to the previous one say nothing about it."""
        self.grants = {}

    def granted(self, acceptor, sent_at):
        self.grants[acceptor] = max(self.grants.get(acceptor, -1.0), sent_at)

    def valid(self, now, configurations):
        """True while every configuration in ``configurations`` has a quorum of grants."""
        if not self.timing.lease:
            return False
        safe_length = self.timing.lease * (1 - self.timing.clock_drift)
        return all(now < self._start(config) + safe_length for config in configurations)

    def _start(self, config):
        """When the quorum-th most recent grant of ``config``'s acceptors was asked for."""
        grants = sorted((self.grants.get(a, -1.0) for a in config.acceptors), reverse=True)
        if len(grants) < config.quorum() or grants[config.quorum() - 1] < 0:
            return float("-inf")
        return grants[config.quorum() - 1]
