"""A first-come-first-served queue of parked callers, shared by the blocking objects.

A parked call can stop waiting without the object being told: its park timeout passed (the
client asked the instance to complete it) or its client's session expired. Such entries stay in
the queue until they are met, and are skipped then: an entry counts only while
``blocking.is_parked`` says its caller still waits. Every decision here depends only on
replicated state, so every replica skips the same entries.
"""

from collections import deque

from concoord.blocking import Caller, check_timeout_max, is_parked


class WaitQueue:
    """Parked callers in arrival order, each with a value the object attaches to it."""

    def __init__(self):
        self._entries = deque()     # (caller, data)

    def add(self, caller, data=None):
        self._entries.append((caller, data))

    def pop(self):
        """The oldest entry whose caller still waits, removed; None if there is none."""
        while self._entries:
            caller, data = self._entries.popleft()
            if is_parked(caller):
                return caller, data
        return None

    def pop_all(self):
        """Every entry whose caller still waits, oldest first; the queue is left empty."""
        entries = [(c, d) for c, d in self._entries if is_parked(c)]
        self._entries.clear()
        return entries

    def find(self, caller):
        """(data, True) for ``caller``'s entry, or (None, False) if it is not queued."""
        for queued, data in self._entries:
            if queued == caller:
                return data, True
        return None, False

    def remove(self, caller):
        """Remove ``caller``'s entry: (its data, True), or (None, False) if it was not queued."""
        for index, (queued, data) in enumerate(self._entries):
            if queued == caller:
                del self._entries[index]
                return data, True
        return None, False

    def drop_client(self, client_id):
        """Forget every entry of one client (its session expired)."""
        self._entries = deque(e for e in self._entries if e[0].client_id != client_id)

    def prune(self):
        """Forget entries whose callers no longer wait (their waits timed out)."""
        self._entries = deque(e for e in self._entries if is_parked(e[0]))

    def entries(self):
        """Entries whose callers still wait, oldest first (the queue is unchanged)."""
        return [(c, d) for c, d in self._entries if is_parked(c)]

    def __len__(self):
        """Callers still waiting (only meaningful inside a replicated call)."""
        return len(self.entries())

    def queued(self):
        """Entries kept, stale ones included: what ``__str__`` may show outside any call."""
        return len(self._entries)

    def to_plain(self):
        """Every entry as ``[client id, number, thread, data]`` (for snapshots, see _state.py)."""
        return [[*caller, data] for caller, data in self._entries]

    @classmethod
    def from_plain(cls, entries):
        queue = cls()
        queue._entries.extend((Caller(client_id, number, thread), data)
                              for client_id, number, thread, data in entries)
        return queue


def park_timeout(blocking, timeout):
    """threading's rules for ``Lock.acquire(blocking, timeout)``, checked before anything else
    as threading does: the park timeout (None: forever), or 0 for "do not wait". -1
    (threading's default) means no limit; so does None, which threading refuses (TypeError) but
    ConCoord always accepted."""
    if timeout is None or timeout == -1:
        return None if blocking else 0
    if not blocking:
        raise ValueError("can't specify a timeout for a non-blocking call")
    if timeout < 0:
        raise ValueError("timeout value must be positive")
    check_timeout_max(timeout)
    return timeout
