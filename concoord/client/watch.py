"""proxy.watch(): the result of a @concoord.readonly method, now and after every change.

    for change in counter.watch("getvalue"):       # or counter.watch("getvalue", callback=f)
        print(change.value, change.slot)

The leader evaluates the method after every command it applies and pushes the result when it
changed (concoord.host.watches). What a watcher sees is in log order and never older than
what it has seen: each Change carries the (slot, index) of the command it reflects, and a
notification not newer than the last one is dropped. After a failover or a reconnect the watch
is registered again with the last tag seen; the first Change then has ``compacted`` True if the
log moved on meanwhile (intermediate results may have been skipped, as with etcd's compacted
revisions). close() (or the proxy's) ends it; so does the end of the client's session.
"""

import queue
import threading
from typing import Any, NamedTuple

from concoord.client.engine import _outcome
from concoord.errors import WireError
from concoord.wire.messages import ClientReply
from concoord.wire.types import Command
from concoord.wire.values import decode_value, encode_call_arguments

MAX_QUEUED = 10000      # changes an iterator holds before it drops the watch (a slow reader)


class Change(NamedTuple):
    value: Any            # the method's result after the command
    slot: int             # the slot of the command it reflects ...
    index: int            # ... and its index in that slot's batch
    compacted: bool       # changes before this one may have been skipped (after a failover)


class WatchDropped(Exception):
    """The watch ended with an error (refused, dropped by the leader, or read too slowly)."""


_END = object()


class Watch:
    def __init__(self, proxy, method, args, kwargs, callback=None):
        self._proxy, self._engine = proxy, proxy._engine
        self._call = (method, list(args), dict(kwargs))
        self._callback = callback
        self._queue = queue.Queue()
        self._lock = threading.Lock()
        self._last = (0, 0)
        self._closed = False
        self._thread = proxy._thread_number()
        self.number = self._engine.next_number()
        command = self._command()
        future = self._engine.submit("@watch", command, watch=(self._notified, self._frame))
        future.add_done_callback(self._ended)

    def _command(self):
        method, args, kwargs = self._call
        return Command(self._proxy.client_id, self.number, "@watch",
                       encode_call_arguments([method, args, kwargs, list(self._last)], {}),
                       self._thread)

    def _frame(self):
        return self._engine.request_frame(self._command())

    def _notified(self, encoded):
        try:
            slot, index, compacted, status, value = decode_value(encoded)
        except (WireError, TypeError, ValueError):
            return
        with self._lock:
            if (slot, index) <= self._last or self._closed:
                return              # already seen (a failover may repeat a tag)
            self._last = (slot, index)
        exception, result = _outcome(ClientReply("", "", 0, status, value, None))
        change = exception if exception is not None else Change(result, slot, index,
                                                                 bool(compacted))
        if self._callback is not None:
            self._callback(change)          # a Change, or the exception the method raised
        elif self._queue.qsize() >= MAX_QUEUED:
            self._drop(WatchDropped(f"more than {MAX_QUEUED} changes not read: watch dropped"))
        else:
            self._queue.put(change)

    def _ended(self, future):
        """The engine settled the watch: cancelled (None) or failed (an exception)."""
        error = future.exception()
        self._queue.put(error if error is not None else _END)

    def _drop(self, error):
        self.close()
        self._queue.put(error)

    def __iter__(self):
        return self

    def __next__(self):
        return self._unwrap(self._queue.get())

    def get(self, timeout=None):
        """The next Change; queue.Empty after ``timeout`` seconds without one."""
        return self._unwrap(self._queue.get(timeout=timeout))

    def _unwrap(self, item):
        if item is _END or isinstance(item, BaseException):
            self._queue.put(_END)          # every later read ends too
        if item is _END:
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return item

    @property
    def last_slot(self):
        return self._last[0]

    def close(self):
        with self._lock:
            if self._closed:
                return
            self._closed = True
        unwatch = Command(self._proxy.client_id, self._engine.next_number(), "@unwatch",
                          encode_call_arguments([self.number], {}))
        self._engine.cancel_watch(self.number, unwatch)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
