"""Group membership shared by processes, with a blocking wait for changes.

Members are kept in the order they joined (never in a set: string hashing differs between
processes, so a set's order would differ between replicas). Every change bumps ``version``.
``wait_for_change(version)`` returns ``(version, members)`` at once if the group differs from
the version the caller knows, and otherwise waits until it changes, so a watcher loops:

    version, members = group.wait_for_change(-1)          # the current state, at once
    while True:
        version, members = group.wait_for_change(version)  # the next change

With ``timeout`` it returns the unchanged ``(version, members)`` when the timeout passes.
``add(member, ephemeral=True)`` ties the member to the calling session: it is removed when that
client's session expires, which turns the group into a list of live processes.
"""

from concoord import readonly
from concoord.blocking import current_caller, park, wake
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue


class Membership(PlainState):
    def __init__(self):
        self.group = {}             # member -> client id that added it ephemerally, or None
        self.version_number = 0
        self.watchers = WaitQueue()

    def add(self, member, ephemeral=False):
        """Add ``member`` and return the version after; adding a member again changes nothing
        (unless it changes whose session the member is tied to)."""
        owner = current_caller().client_id if ephemeral else None
        if member in self.group and self.group[member] == owner:
            return self.version_number
        self.group[member] = owner
        return self._changed()

    def remove(self, member):
        """Remove ``member`` (KeyError if it is not one). Returns the version after."""
        if member not in self.group:
            raise KeyError(member)
        del self.group[member]
        return self._changed()

    @readonly
    def members(self):
        return list(self.group)

    @readonly
    def contains(self, member):
        return member in self.group

    @readonly
    def version(self):
        return self.version_number

    def wait_for_change(self, version, timeout=None):
        current = (self.version_number, list(self.group))
        if version != self.version_number or (timeout is not None and timeout <= 0):
            return current
        self.watchers.prune()
        self.watchers.add(current_caller())
        park(timeout=timeout, on_timeout=current)

    def __concoord_expired__(self, client_id):
        self.watchers.drop_client(client_id)
        gone = [m for m, owner in self.group.items() if owner == client_id]
        for member in gone:
            del self.group[member]
        if gone:
            self._changed()

    def _changed(self):
        self.version_number += 1
        state = (self.version_number, list(self.group))
        for caller, _ in self.watchers.pop_all():
            wake(caller, state)
        return self.version_number

    def __str__(self):
        return (f"Membership(version={self.version_number}, watching={self.watchers.queued()}, "
                f"members={list(self.group)!r})")
