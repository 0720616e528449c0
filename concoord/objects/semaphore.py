"""A counting semaphore, like threading.Semaphore, across processes.

``acquire()`` takes a permit, waiting (first come, first served) while there is none;
``acquire(blocking=False)`` and ``acquire(timeout=t)`` return False instead of waiting for ever.
``release(n)`` adds n permits, handing them to waiting callers first.

Permits are counted per client session, so that a client that dies while holding permits gives
them back when its session lease expires. A release by a session returns its own permits first;
a session that holds none may still release (threading's signalling use): that creates a permit.
"""

from concoord import readonly
from concoord.blocking import current_caller, park, wake
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue


class Semaphore(PlainState):
    def __init__(self, value=1):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self.value = value          # permits available now
        self.held = {}              # client id -> permits it acquired and has not released
        self.waiters = WaitQueue()

    def acquire(self, blocking=True, timeout=None):
        caller = current_caller()
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        if self.value > 0:
            self.value -= 1
            self._hold(caller.client_id, 1)
            return True
        if not blocking or (timeout is not None and timeout <= 0):
            return False
        self.waiters.add(caller)
        park(timeout=timeout, on_timeout=False)

    def release(self, n=1):
        if n < 1:
            raise ValueError("n must be one or more")
        self._check_release(n)
        client_id = current_caller().client_id
        self._hold(client_id, -min(n, self.held.get(client_id, 0)))
        self.value += n
        self._admit()

    @readonly
    def get_value(self):
        """Permits available now (threading's private _value)."""
        return self.value

    @readonly
    def held_by_me(self):
        """Permits the calling session holds."""
        return self.held.get(current_caller().client_id, 0)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()

    def __concoord_expired__(self, client_id):
        self.waiters.drop_client(client_id)
        returned = self._returnable(self.held.pop(client_id, 0))
        if returned:
            self.value += returned
            self._admit()

    def _check_release(self, n):
        """BoundedSemaphore refuses releases beyond its initial value; a Semaphore never does."""

    def _returnable(self, n):
        """How many of a dead session's n permits go back (a BoundedSemaphore stays bounded)."""
        return n

    def _hold(self, client_id, n):
        count = self.held.get(client_id, 0) + n
        if count:
            self.held[client_id] = count
        else:
            self.held.pop(client_id, None)

    def _admit(self):
        """Hand free permits to the oldest callers still waiting."""
        while self.value > 0:
            entry = self.waiters.pop()
            if entry is None:
                return
            caller = entry[0]
            self.value -= 1
            self._hold(caller.client_id, 1)
            wake(caller, True)

    def __str__(self):
        return (f"{type(self).__name__}(value={self.value}, held={sum(self.held.values())}, "
                f"waiting={self.waiters.queued()})")
