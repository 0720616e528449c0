"""An event flag, like threading.Event, across processes.

``wait()`` returns True as soon as the flag is set (at once if it already is); ``wait(timeout)``
returns False if the timeout passes first. ``set()`` wakes every waiter; ``clear()`` resets the
flag for later waiters. A waiter whose client dies is simply forgotten.
"""

from concoord import readonly
from concoord.blocking import current_caller, park, wake
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue


class Event(PlainState):
    def __init__(self):
        self.flag = False
        self.waiters = WaitQueue()

    @readonly
    def is_set(self):
        return self.flag

    def set(self):
        self.flag = True
        for caller, _ in self.waiters.pop_all():
            wake(caller, True)

    def clear(self):
        self.flag = False

    def wait(self, timeout=None):
        caller = current_caller()
        if self.flag:
            return True
        if timeout is not None and timeout <= 0:
            return False
        self.waiters.prune()   # waits that timed out: keep the queue from growing for ever
        self.waiters.add(caller)
        park(timeout=timeout, on_timeout=False)

    def __concoord_expired__(self, client_id):
        self.waiters.drop_client(client_id)

    def __str__(self):
        return f"Event(set={self.flag}, waiting={self.waiters.queued()})"
