"""What an active leader proposes on its own: the instance's housekeeping.

- the log GC floor it tells the acceptors with every Accept (progress.py);
- ``@expire`` for clients whose session lease ran out (sessions.py);
- ``@remove`` for replicas silent for dead_after (dead_replicas.py).
Each is a command through the log like a client's, numbered by this leader's own client id
(one per life of the node, so a restarted node never reuses a number).
"""

from concoord.protocol.dead_replicas import DeadReplicas
from concoord.protocol.progress import ReplicaProgress
from concoord.protocol.sessions import SessionTracker
from concoord.wire.types import Command
from concoord.wire.values import encode_call_arguments


class Housekeeping:
    def __init__(self, node_id, incarnation, timing, now):
        self.client_id = f"@{node_id}#{incarnation}"
        self.timing = timing
        self.progress = ReplicaProgress(timing)
        self.dead = DeadReplicas()
        self.sessions = SessionTracker()
        self.numbers = 0          # of the commands this life proposed itself
        self.active_since = now

    def became_active(self, open_sessions, now):
        self.active_since = now
        self.sessions.restart(open_sessions, now)

    def applied(self, commands, open_sessions, now):
        """Sessions opened in a slot just handed over: their lease runs from now."""
        for command in commands:
            if command.method == "@session" and command.client_id in open_sessions:
                self.sessions.open(command.client_id, open_sessions[command.client_id], now)

    def proposals(self, now, me, learner):
        """The commands due now: (method, args) of @expire and @remove."""
        due = [("@expire", [client]) for client in self.sessions.expired(now)
               if client in learner.sessions]
        replicas = learner.configs.latest.replicas
        due += [("@remove", [replica]) for replica in self.dead.to_remove(
            now, me, replicas, lambda r: self.progress.last_heard(r, self.active_since),
            self.timing.dead_after)]
        return [self._command(method, args) for method, args in due]

    def _command(self, method, args):
        self.numbers += 1
        return Command(self.client_id, self.numbers, method, encode_call_arguments(args, {}))

    def update_gc_floor(self, now, own_durable, me, replicas):
        self.progress.update_floor(now, own_durable, me, replicas, self.active_since)
