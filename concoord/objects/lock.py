"""A distributed mutual-exclusion lock, like threading.Lock, across processes.

``acquire()`` returns a fencing token: a number that strictly increases with every grant, so a
storage service can reject writes from a holder whose lock was since given to someone else.
A client that dies while holding the lock loses it when its session lease expires.
"""

from concoord import readonly
from concoord.blocking import current_caller, park, wake
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue


class Lock(PlainState):
    def __init__(self):
        self.holder = None          # client id of the holder, or None
        self.token = 0              # the last fencing token handed out
        self.waiters = WaitQueue()  # parked callers, first come first served

    def acquire(self, blocking=True, timeout=-1):
        caller = current_caller()
        if self.holder is None:
            return self._grant(caller.client_id)
        if self.holder == caller.client_id:
            raise RuntimeError("this client already holds the lock (use RLock to re-enter)")
        if not blocking or timeout == 0:
            return False
        self.waiters.add(caller)
        park(timeout=None if timeout is None or timeout < 0 else timeout, on_timeout=False)

    def release(self):
        if self.holder != current_caller().client_id:
            raise RuntimeError("release unlocked lock" if self.holder is None
                               else "the lock is held by another client")
        self._pass_on()

    @readonly
    def locked(self):
        return self.holder is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()

    def __concoord_expired__(self, client_id):
        self.waiters.drop_client(client_id)
        if self.holder == client_id:
            self._pass_on()

    def _grant(self, client_id):
        self.holder = client_id
        self.token += 1
        return self.token

    def _pass_on(self):
        self.holder = None
        entry = self.waiters.pop()    # skips callers whose wait timed out or whose client died
        if entry is not None:
            wake(entry[0], self._grant(entry[0].client_id))

    def __str__(self):
        return f"Lock(holder={self.holder}, token={self.token}, waiting={self.waiters.queued()})"
