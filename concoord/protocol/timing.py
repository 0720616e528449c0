"""Protocol timeouts, in seconds of the driver's clock."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    heartbeat_interval: float = 0.05   # how often the active leader announces itself
    election_timeout: float = 0.3      # silence after which the next replica in line campaigns
    retransmit_interval: float = 0.1   # resend phase 1/2 messages not yet answered
    catchup_interval: float = 0.1      # how often a lagging replica asks for decisions
    lease: float = 0.25                # read lease the leader asks acceptors for (0: none)
    clock_drift: float = 0.1           # assumed worst relative clock rate error
    dead_after: float = 5.0            # a replica silent this long is removed from the view

    def validate(self):
        """One clear line per bad relation, or an empty list."""
        problems = []
        for name in ("heartbeat_interval", "election_timeout", "retransmit_interval",
                     "catchup_interval"):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        if self.lease > self.election_timeout:
            problems.append("the read lease must not exceed the election timeout, or every "
                            "failover would wait for the dead leader's lease to run out")
        if self.lease and self.lease < 2 * self.heartbeat_interval:
            problems.append("the read lease must span at least 2 heartbeats to be renewed")
        if self.dead_after < 3 * self.election_timeout:
            problems.append("dead_after must be at least 3 election timeouts, or replicas "
                            "would be removed during an ordinary failover")
        if self.election_timeout < 3 * self.heartbeat_interval:
            problems.append("election timeout must be at least 3 heartbeat intervals, or a "
                            "healthy leader would be replaced after a few late heartbeats")
        return problems
