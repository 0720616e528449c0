"""Snapshots of the library objects as plain values (see ObjectHost.snapshot).

A replica that fell far behind installs a peer's snapshot instead of replaying forgotten
history, and a replica with a data directory keeps one on disk; both need the object's state as
values the wire codec carries (never pickle). The library objects keep plain attributes (numbers,
strings, lists, dicts, tuples) plus two kinds the codec does not know: deques and WaitQueues of
parked callers. ``PlainState`` converts those two at the top level of the object's attributes
and back; anything nested is left as it is, so user data stored in an object is never
reinterpreted.
"""

from collections import deque

from concoord.objects._waiters import WaitQueue


class PlainState:
    def __concoord_snapshot__(self):
        plain, deques, waiters = {}, {}, {}
        for name, value in vars(self).items():
            if isinstance(value, WaitQueue):
                waiters[name] = value.to_plain()
            elif isinstance(value, deque):
                deques[name] = list(value)
            else:
                plain[name] = value
        return {"plain": plain, "deques": deques, "waiters": waiters}

    def __concoord_restore__(self, state):
        # Runs on an object made without __init__ (ObjectHost.restore).
        self.__dict__.update(state["plain"])
        for name, items in state["deques"].items():
            setattr(self, name, deque(items))
        for name, entries in state["waiters"].items():
            setattr(self, name, WaitQueue.from_plain(entries))
