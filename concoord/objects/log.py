"""An append-only log shared by processes: entries are numbered from 0 and never change.

``append(entry)`` returns the entry's index; ``read(from_index)`` returns the entries from that
index on (an empty list past the end), so a reader can follow the log by remembering how far it
got. A negative index raises IndexError.
"""

from concoord import readonly
from concoord.objects._state import PlainState


class Log(PlainState):
    def __init__(self):
        self.entries = []

    def append(self, entry):
        self.entries.append(entry)
        return len(self.entries) - 1

    @readonly
    def read(self, from_index=0, limit=None):
        """Entries from ``from_index`` on, at most ``limit`` of them (None: all)."""
        if from_index < 0:
            raise IndexError("log index out of range")
        end = None if limit is None else from_index + max(0, limit)
        return self.entries[from_index:end]

    @readonly
    def len(self):
        return len(self.entries)

    def __str__(self):
        return f"Log(len={len(self.entries)})"
