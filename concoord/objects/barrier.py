"""A barrier for any number of parties, like threading.Barrier, across processes.

``wait()`` blocks until ``parties`` calls are waiting, then releases them all at once and
returns each its arrival index (0 for the first to arrive, parties - 1 for the last), as
threading.Barrier does. The barrier is then ready for the next generation.

A broken barrier raises RuntimeError (the base class of threading.BrokenBarrierError; a
RuntimeError re-raises as itself on the client, where a non-builtin type would arrive as
concoord.RemoteError) with a message starting "BrokenBarrierError". It breaks when ``abort()``
is called, when a waiting client's session expires (that party can never arrive, so the others
are failed rather than left waiting), and when a wait times out. ``reset()`` fails the current
waiters the same way and makes the barrier usable again, as threading's does.

``wait(timeout)``: threading breaks the barrier at once when a wait times out. The instance
reports a passed timeout through the ``__concoord_timeout__`` hook; an instance without that hook
only completes the timed-out call, with a ``BrokenBarrierError`` value instead of raising it,
and the barrier breaks when it next notices that a waiter is gone.
"""

from concoord import readonly
from concoord.blocking import current_caller, park, wake, wake_error
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue

BROKEN = "BrokenBarrierError: the barrier is broken"


class Barrier(PlainState):
    def __init__(self, parties=2):
        if parties < 1:
            raise ValueError("parties must be > 0")
        self.parties_count = parties
        self.arrived = WaitQueue()   # this generation's waiters; data: their arrival index
        self.generation = 0
        self.is_broken = False

    def wait(self, timeout=None):
        caller = current_caller()
        self._notice_missing_waiters()
        if self.is_broken:
            raise RuntimeError(BROKEN)
        index = self.arrived.queued()
        if index + 1 == self.parties_count:
            for waiter, arrival in self.arrived.pop_all():
                wake(waiter, arrival)
            self.generation += 1
            return index
        self.arrived.add(caller, index)
        if timeout is not None and timeout < 0:
            timeout = 0
        park(timeout=timeout, on_timeout=RuntimeError(BROKEN))

    @readonly
    def parties(self):
        return self.parties_count

    def n_waiting(self):
        self._notice_missing_waiters()
        return self.arrived.queued()

    def broken(self):
        self._notice_missing_waiters()
        return self.is_broken

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
        """A waiter whose wait ended without us (timeout, or its client died): the barrier
        breaks, as threading's does when a wait times out."""
        if len(self.arrived) != self.arrived.queued():
            self.abort()

    def _fail_waiters(self):
        for waiter, _ in self.arrived.pop_all():
            wake_error(waiter, RuntimeError(BROKEN))
        self.generation += 1

    def __str__(self):
        return (f"Barrier(parties={self.parties_count}, waiting={self.arrived.queued()}, "
                f"generation={self.generation}, broken={self.is_broken})")
