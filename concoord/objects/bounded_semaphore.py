"""A bounded semaphore, like threading.BoundedSemaphore, across processes.

A Semaphore (see semaphore.py: per-session permits, returned when a session expires) that raises
ValueError when a release would raise the number of free permits above the initial value: a
release without a matching acquire is a bug this object catches.
"""

from concoord.objects.semaphore import Semaphore


class BoundedSemaphore(Semaphore):
    def __init__(self, value=1):
        Semaphore.__init__(self, value)
        self.initial_value = value

    def _check_release(self, n):
        if self.value + n > self.initial_value:
            raise ValueError("Semaphore released too many times")

    def _returnable(self, n):
        # Another session may already have released this session's permits for it: never let
        # free plus held permits exceed the initial value.
        room = self.initial_value - self.value - sum(self.held.values())
        return max(0, min(n, room))
