"""A distributed mutual-exclusion lock, like threading.Lock, across threads and processes.

The lock is held by the calling thread of a client (a thread of one proxy): another thread of
the same proxy that calls ``acquire()`` waits like any other caller, and ``acquire(timeout=t)``
returns False if the lock is not released in time. As with threading.Lock, any thread (of any
client) may release a held lock, and ``acquire(False, t)`` raises ValueError.

``acquire()`` returns a fencing token (threading returns True; a token is just as true): a
number that strictly increases with every grant, so a storage service can reject writes from a
holder whose lock was since given to someone else. A client that dies while holding the lock
loses it when its session lease expires.

Deliberate differences: a thread that calls ``acquire()`` (blocking, no timeout) on the lock it
already holds would deadlock in threading; here it raises RuntimeError instead. With a timeout
it waits, as threading does (another thread may release the lock meanwhile). ``timeout=None``
means no limit, where threading raises TypeError.
"""

from concoord import readonly
from concoord.blocking import current_caller, owned_by_client, park, wake
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue, park_timeout

SELF_DEADLOCK = "this thread already holds the lock: acquire() would wait for ever (use RLock)"


class Lock(PlainState):
    def __init__(self):
        self.holder = None          # the owner (client id, thread) holding it, or None
        self.token = 0              # the last fencing token handed out
        self.waiters = WaitQueue()  # parked callers, first come first served

    def acquire(self, blocking=True, timeout=-1):
        caller = current_caller()
        wait = park_timeout(blocking, timeout)
        if self.holder is None:
            return self._grant(caller)
        if wait == 0:
            return False
        if wait is None and self.holder == caller.owner:
            raise RuntimeError(SELF_DEADLOCK)
        self.waiters.add(caller)
        park(timeout=wait, on_timeout=False)

    def release(self):
        if self.holder is None:
            raise RuntimeError("release unlocked lock")
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
        if owned_by_client(self.holder, client_id):
            self._pass_on()

    def _grant(self, caller):
        self.holder = caller.owner
        self.token += 1
        return self.token

    def _pass_on(self):
        self.holder = None
        entry = self.waiters.pop()    # skips callers whose wait timed out or whose client died
        if entry is not None:
            wake(entry[0], self._grant(entry[0]))

    def __str__(self):
        return f"Lock(holder={self.holder}, token={self.token}, waiting={self.waiters.queued()})"
