"""The replicated object the simulator uses: an append-only list of the commands executed.

It makes every check cheap: a replica's state is its list, the fold of its decisions is easy to
recompute, and a command executed twice shows up as a duplicate entry.
"""

import bisect

from concoord.wire.messages import OK
from concoord.wire.values import encode_value


class AppendLog:
    def __init__(self):
        self.entries = []
        self.on_lease_read = None     # the simulator's check of a read run outside the log

    def execute(self, command, slot, time):
        if slot is None and self.on_lease_read is not None:
            self.on_lease_read(command)
        if command.method == "count":
            return OK, encode_value(len(self.entries))
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
        return method == "count"     # the leader may answer it from its lease

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
            if key not in seen and command.method not in ("count",) \
                    and not command.method.startswith("@"):
                seen.add(key)
                entries.append(key)
    return entries


def check_real_time(histories):
    """Each append and count returns how many appends were applied at its linearization
    point, so it must be at least the number acknowledged before it was invoked, and at most
    the number invoked before it was answered. A stale lease read breaks the first bound.
    ``histories``: (client id, number, method, invoked, answered or None, value) per call.
    Returns a description of the first call that breaks a bound, or None."""
    appends = [h for h in histories if h[2] == "append"]
    acknowledged = sorted(h[4] for h in appends if h[4] is not None)
    invoked = sorted(h[3] for h in appends)
    for client, number, method, start, end, value in histories:
        if end is None:
            continue
        lower = bisect.bisect_left(acknowledged, start)
        upper = bisect.bisect_right(invoked, end)
        if not lower <= value <= upper:
            return (f"{method} {client}#{number} invoked at {start:.4f}, answered at {end:.4f} "
                    f"with {value}: {lower} appends were acknowledged before it was invoked, "
                    f"{upper} invoked before it was answered")
    return None
