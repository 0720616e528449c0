"""A condition variable, like threading.Condition, across threads and processes; it owns its lock
(a deliberate difference: threading.Condition(lock) may share one, but a lock cannot travel).

The lock is re-entrant, as threading.Condition's default lock is, and belongs to the calling
thread of a client (see RLock): ``acquire``/``release``/``with cond:`` work exactly as on RLock.
``wait()`` may only be called by a thread holding the lock: it releases the lock completely,
waits for ``notify``, then takes the lock back (at its previous depth) before it returns True.
``notify(n)`` and ``notify_all()`` also need the lock; a notified waiter queues for the lock
behind the callers already waiting for it.

``wait(timeout)`` returns False when the timeout passes first. Like threading, it returns only
once it holds the lock again: on a timeout the waiter moves to the lock's queue and the call
completes when the lock is granted (the instance tells the object about the timeout through
the ``__concoord_timeout__`` hook below).

``wait_for(predicate, timeout=None)`` runs in the client, as threading's does in the waiting
thread: the predicate is the caller's code, and code never travels, so the proxy loops over
``wait()`` and calls the predicate locally. A client that dies while waiting is forgotten; if it
held the lock, the lock passes on.
"""

import time

from concoord import client_side
from concoord.blocking import check_timeout_max, current_caller, is_parked, park, wake
from concoord.objects._waiters import WaitQueue
from concoord.objects.rlock import RLock


class Condition(RLock):
    def __init__(self):
        RLock.__init__(self)
        self.sleepers = WaitQueue()   # callers in wait(); data: their lock depth to restore

    def wait(self, timeout=None):
        caller = current_caller()
        self._check_owned("wait on")
        check_timeout_max(timeout)
        if timeout is not None and timeout < 0:
            timeout = 0
        self.sleepers.add(caller, self.count)
        self._pass_on()
        park(timeout=timeout, on_timeout=False)

    @client_side
    def wait_for(self, predicate, timeout=None):
        """Wait until ``predicate()`` (called in this client, with the lock held) is true;
        returns its last value. threading.Condition.wait_for's loop, run in the proxy."""
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = time.monotonic() + waittime
                else:
                    waittime = endtime - time.monotonic()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n=1):
        self._check_owned("notify on")
        for _ in range(n):
            entry = self.sleepers.pop()
            if entry is None:
                break
            self._requeue(entry[0], entry[1], True)

    def notify_all(self):
        self._check_owned("notify on")
        for caller, depth in self.sleepers.pop_all():
            self._requeue(caller, depth, True)

    def __concoord_timeout__(self, caller):
        """The instance tells us a parked call's timeout passed (see the module docstring)."""
        depth, sleeping = self.sleepers.remove(caller)
        if sleeping:
            self._requeue(caller, depth, False)
            return
        data, queued = self.waiters.find(caller)
        if queued and data[1] is not None:
            return                       # notified already: its timeout no longer counts
        self.waiters.remove(caller)      # a plain acquire(timeout=...) gives up
        wake(caller, False)

    def __concoord_expired__(self, client_id):
        self.sleepers.drop_client(client_id)
        RLock.__concoord_expired__(self, client_id)

    def _requeue(self, caller, depth, notified):
        """A waiter leaves wait(): it gets the lock back before its call returns."""
        if self.holder is None and is_parked(caller):
            self._grant(caller, depth)
            wake(caller, notified)
        else:
            self.waiters.add(caller, (depth, notified))

    def _check_owned(self, what):
        if self.holder != current_caller().owner:
            raise RuntimeError(f"cannot {what} un-acquired lock")

    def __str__(self):
        return (f"Condition(holder={self.holder}, count={self.count}, token={self.token}, "
                f"waiting={self.waiters.queued()}, sleeping={self.sleepers.queued()})")
