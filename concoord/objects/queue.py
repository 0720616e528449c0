"""A FIFO queue, like queue.Queue, across threads and processes.

``Queue(maxsize=0)``: ``put(item, block=True, timeout=None)`` waits while the queue is full
(``maxsize`` > 0); ``get(block=True, timeout=None)`` waits while it is empty; both serve waiting
callers first come, first served, and an item put while callers wait in ``get()`` goes straight
to the oldest of them. ``put_nowait``/``get_nowait``, ``qsize``/``empty``/``full``,
``task_done()`` and ``join()`` work as in queue.Queue, and so do the errors: an empty queue
raises queue.Empty and a full one queue.Full in the client (``get(block=False)``, or
``get(timeout=t)`` timing out; likewise for ``put``), a negative timeout ValueError.

A passed timeout reaches the object through the instance's ``__concoord_timeout__`` hook. A
client that dies while waiting is forgotten; an item it was waiting to put is not added.
"""

from collections import deque
from queue import Empty, Full

from concoord import readonly
from concoord.blocking import current_caller, park, wake, wake_error
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue

class Queue(PlainState):
    def __init__(self, maxsize=0):
        self.maxsize = maxsize
        self.items = deque()
        self.unfinished = 0           # items put and not yet marked task_done()
        self.getters = WaitQueue()
        self.putters = WaitQueue()    # data: the item each waits to put
        self.joiners = WaitQueue()

    def put(self, item, block=True, timeout=None):
        caller = current_caller()
        if self.full():
            if not block or timeout == 0:
                raise Full
            _check_timeout(timeout)
            self.putters.add(caller, item)
            park(timeout=timeout, on_timeout=Full())
        self._add(item)

    def get(self, block=True, timeout=None):
        caller = current_caller()
        if self.items:
            item = self.items.popleft()
            self._admit_putter()
            return item
        if not block or timeout == 0:
            raise Empty
        _check_timeout(timeout)
        self.getters.add(caller)
        park(timeout=timeout, on_timeout=Empty())

    def put_nowait(self, item):
        return self.put(item, block=False)

    def get_nowait(self):
        return self.get(block=False)

    def task_done(self):
        if self.unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self.unfinished -= 1
        if self.unfinished == 0:
            for caller, _ in self.joiners.pop_all():
                wake(caller, None)

    def join(self):
        """Wait until every item put so far has been marked task_done()."""
        if self.unfinished:
            self.joiners.add(current_caller())
            park()

    @readonly
    def qsize(self):
        return len(self.items)

    @readonly
    def empty(self):
        return not self.items

    @readonly
    def full(self):
        return 0 < self.maxsize <= len(self.items)

    def __concoord_timeout__(self, caller):
        for waiters, error in ((self.getters, Empty()), (self.putters, Full())):
            if waiters.remove(caller)[1]:
                wake_error(caller, error)
                return
        wake(caller, None)

    def __concoord_expired__(self, client_id):
        for waiters in (self.getters, self.putters, self.joiners):
            waiters.drop_client(client_id)

    def _add(self, item):
        self.unfinished += 1
        entry = self.getters.pop()
        if entry is None:
            self.items.append(item)
        else:
            wake(entry[0], item)

    def _admit_putter(self):
        """Room for one more item: the oldest waiting put completes."""
        entry = self.putters.pop()
        if entry is not None:
            caller, item = entry
            self.items.append(item)
            self.unfinished += 1
            wake(caller, None)

    def __str__(self):
        return (f"Queue(maxsize={self.maxsize}, items={len(self.items)}, "
                f"unfinished={self.unfinished}, getters={self.getters.queued()}, "
                f"putters={self.putters.queued()}, joiners={self.joiners.queued()})")


def _check_timeout(timeout):
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
