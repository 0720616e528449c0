"""A distributed mutual-exclusion lock, like threading.Lock, across processes.

``acquire()`` returns a fencing token: a number that strictly increases with every grant, so a
storage service can reject writes from a holder whose lock was since given to someone else.
A client that dies while holding the lock loses it when its session lease expires.
"""

from collections import deque

from concoord.blocking import current_caller, park, wake


class Lock:
    def __init__(self):
        self.holder = None        # client id of the holder, or None
        self.token = 0            # the last fencing token handed out
        self.waiters = deque()    # parked callers, first come first served

    def acquire(self, blocking=True, timeout=-1):
        caller = current_caller()
        if self.holder is None:
            return self._grant(caller.client_id)
        if self.holder == caller.client_id:
            raise RuntimeError("this client already holds the lock (use RLock to re-enter)")
        if not blocking or timeout == 0:
            return False
        self.waiters.append(caller)
        park(timeout=None if timeout is None or timeout < 0 else timeout, on_timeout=False)

    def release(self):
        if self.holder != current_caller().client_id:
            raise RuntimeError("release unlocked lock" if self.holder is None
                               else "the lock is held by another client")
        self._pass_on()

    def locked(self):
        return self.holder is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()

    def __concoord_expired__(self, client_id):
        self.waiters = deque(c for c in self.waiters if c.client_id != client_id)
        if self.holder == client_id:
            self._pass_on()

    def _grant(self, client_id):
        self.holder = client_id
        self.token += 1
        return self.token

    def _pass_on(self):
        self.holder = None
        while self.waiters:
            caller = self.waiters.popleft()
            if wake(caller, self.token + 1):   # skips callers whose wait timed out
                self._grant(caller.client_id)
                return

    def __str__(self):
        return f"Lock(holder={self.holder}, token={self.token}, waiting={len(self.waiters)})"
