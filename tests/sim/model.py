"""The replicated object the simulator uses: an append-only list of the commands executed.

It makes every check cheap: a replica's state is its list, the fold of its decisions is easy to
recompute, and a command executed twice shows up as a duplicate entry.
"""

from concoord.wire.messages import OK
from concoord.wire.values import encode_value


class AppendLog:
    def __init__(self):
        self.entries = []

    def execute(self, command, slot, time):
        self.entries.append((command.client_id, command.number))
        return OK, encode_value(len(self.entries))

    def refusal(self, method):
        return None

    def describe(self):
        return f"{len(self.entries)} entries"

    def snapshot(self):
        return [list(entry) for entry in self.entries]

    def restore(self, state):
        self.entries = [tuple(entry) for entry in state]

    def is_readonly(self, method):
        return False

    def take_wakeups(self):
        return []

    def cancel(self, client_id, number, time=None):
        pass

    def expire(self, client_id, time=None):
        pass


def fold(decisions, upto):
    """What an AppendLog must hold after applying slots 1..upto-1 with exactly-once (internal
    '@' commands change the configuration, not the object)."""
    seen, entries = set(), []
    for slot in range(1, upto):
        for command in decisions[slot].commands:
            key = (command.client_id, command.number)
            if key not in seen and not command.method.startswith("@"):
                seen.add(key)
                entries.append(key)
    return entries
