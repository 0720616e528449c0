"""A re-entrant lock, like threading.RLock, across threads and processes.

The owner is the calling thread of a client (a thread of one proxy), as in threading: the thread
that holds the lock may acquire it again, and must release it as many times as it acquired it
before anyone else gets it; another thread, of the same proxy or not, waits, and releasing a
lock the calling thread does not own raises RuntimeError. Every grant to a new owner hands out a
fencing token, as Lock does (re-entering returns the owner's token again). A client that dies
while holding the lock loses it, however deep its re-entry, when its session lease expires.

Waiters are served first come, first served. ``acquire(timeout=t)`` that times out returns False.
Deliberate differences: ``acquire()`` returns the fencing token (true) instead of True, and
``timeout=None`` means no limit, where threading raises TypeError.
"""

from concoord import readonly
from concoord.blocking import current_caller, owned_by_client, park, wake
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue, park_timeout


class RLock(PlainState):
    def __init__(self):
        self.holder = None          # the owner (client id, thread), or None
        self.count = 0              # how many times the owner acquired it without releasing
        self.token = 0              # the last fencing token handed out
        self.waiters = WaitQueue()  # data: (count to restore, value to return; None: token)

    def acquire(self, blocking=True, timeout=-1):
        caller = current_caller()
        wait = park_timeout(blocking, timeout)
        if self.holder is None:
            return self._grant(caller, 1)
        if self.holder == caller.owner:
            self.count += 1
            return self.token
        if wait == 0:
            return False
        self.waiters.add(caller, (1, None))
        park(timeout=wait, on_timeout=False)

    def release(self):
        if self.holder != current_caller().owner:
            raise RuntimeError("cannot release un-acquired lock")
        self.count -= 1
        if self.count == 0:
            self._pass_on()

    @readonly
    def locked(self):
        return self.holder is not None

    @readonly
    def owned(self):
        """Whether the calling thread holds the lock (threading's private _is_owned)."""
        return self.holder == current_caller().owner

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()

    def __concoord_expired__(self, client_id):
        self.waiters.drop_client(client_id)
        if owned_by_client(self.holder, client_id):
            self._pass_on()

    def _grant(self, caller, count):
        self.holder, self.count = caller.owner, count
        self.token += 1
        return self.token

    def _pass_on(self):
        """The lock is free: give it to the oldest caller still waiting, if any."""
        self.holder, self.count = None, 0
        entry = self.waiters.pop()
        if entry is not None:
            caller, (count, value) = entry
            token = self._grant(caller, count)
            wake(caller, token if value is None else value)

    def __str__(self):
        return (f"RLock(holder={self.holder}, count={self.count}, token={self.token}, "
                f"waiting={self.waiters.queued()})")
