"""A barrier for any number of parties, like threading.Barrier, across threads and processes.

``wait()`` blocks until ``parties`` calls are waiting, then releases them all at once and
returns each its arrival index (0 for the first to arrive, parties - 1 for the last), as
threading.Barrier does. The barrier is then ready for the next generation. ``parties``,
``n_waiting`` and ``broken`` are properties, read through the read lease.

A broken barrier raises threading.BrokenBarrierError in the client. It breaks when ``abort()``
is called, when a wait times out (``wait(timeout)``, or the barrier's default ``timeout``), and
when a waiting client's session expires (that party can never arrive, so the others are failed
rather than left waiting). ``reset()`` fails the current waiters the same way and makes the
barrier usable again, as threading's does.

Deliberate differences: replicas create the object without arguments, so ``parties`` defaults
to 2 (``__concoordinit__(parties, action=None, timeout=None)`` sets it); and ``action`` must be
None, because code never travels to the replicas: run it in the client whose ``wait()`` returned
0 instead.
"""

from threading import BrokenBarrierError

from concoord import readonly
from concoord.blocking import check_timeout_max, current_caller, park, wake, wake_error
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue

NO_ACTION = ("a Barrier action cannot run on the replicas (code never travels): pass "
             "action=None and run it in the client whose wait() returns 0")


class Barrier(PlainState):
    def __init__(self, parties=2, action=None, timeout=None):
        if action is not None:
            raise TypeError(NO_ACTION)
        if parties < 1:
            raise ValueError("parties must be > 0")
        self.parties_count = parties
        self.default_timeout = timeout
        self.arrived = WaitQueue()   # this generation's waiters; data: their arrival index
        self.generation = 0
        self.is_broken = False

    def wait(self, timeout=None):
        caller = current_caller()
        if timeout is None:
            timeout = self.default_timeout
        check_timeout_max(timeout)
        self._notice_missing_waiters()
        if self.is_broken:
            raise BrokenBarrierError
        index = self.arrived.queued()
        if index + 1 == self.parties_count:
            for waiter, arrival in self.arrived.pop_all():
                wake(waiter, arrival)
            self.generation += 1
            return index
        self.arrived.add(caller, index)
        if timeout is not None and timeout < 0:
            timeout = 0
        park(timeout=timeout, on_timeout=BrokenBarrierError())

    @property
    @readonly
    def parties(self):
        return self.parties_count

    @property
    @readonly
    def n_waiting(self):
        return len(self.arrived)     # waiters still parked: a wait that timed out is gone

    @property
    @readonly
    def broken(self):
        return self.is_broken or len(self.arrived) != self.arrived.queued()

    def reset(self):
        """Fail the current waiters and start a fresh, unbroken generation."""
        self._fail_waiters()
        self.is_broken = False

    def abort(self):
        """Break the barrier: current and future waiters fail until reset()."""
        self.is_broken = True
        self._fail_waiters()

    def __concoord_timeout__(self, caller):
        self.abort()

    def __concoord_expired__(self, client_id):
        self._notice_missing_waiters()   # the dead client's parked wait was already failed

    def _notice_missing_waiters(self):
        """A waiter whose wait ended without us (its client died): the barrier breaks, as
        threading's does when a wait times out."""
        if len(self.arrived) != self.arrived.queued():
            self.abort()

    def _fail_waiters(self):
        for waiter, _ in self.arrived.pop_all():
            wake_error(waiter, BrokenBarrierError())
        self.generation += 1

    def __str__(self):
        return (f"Barrier(parties={self.parties_count}, waiting={self.arrived.queued()}, "
                f"generation={self.generation}, broken={self.is_broken})")
