"""Blocking methods for replicated objects: park the caller now, wake it later.

A method that cannot complete yet (``Lock.acquire`` while another client holds the lock) calls
``park()``: the caller's reply is held back (the client waits without polling) while the method's
other effects stay applied. A later method, on any replica in the same slot order, calls
``wake(caller, value)`` to complete a parked call with a return value, or ``wake_error(caller,
exc)`` to make it raise. Everything here is replicated state changed in log order, so a wake-up
survives leader failover.

    from concoord.blocking import current_caller, park, wake

    class Gate:
        def __init__(self):
            self.waiting = []
        def wait(self):
            self.waiting.append(current_caller())
            park()
        def open(self):
            for caller in self.waiting:
                wake(caller, "opened")
            self.waiting = []

``current_caller()`` is the call's Caller: its client (session), its command number and the
client's thread that made it; ``current_caller().owner``, (client id, thread), is what
threading calls the owning thread, and what a lock should record as its holder.

``park(timeout=t, on_timeout=v)``: if nothing wakes the call within t seconds, the client asks the
instance (through the log) to complete it: the object's ``__concoord_timeout__(self, caller)``, if
it defines one, decides how (``wake``/``wake_error``, e.g. to raise ``queue.Empty``, or leave
it parked: a Condition's wait first takes its lock back); otherwise the call returns v. A
timeout over threading.TIMEOUT_MAX raises OverflowError, as threading does. ``wake`` returns False when the caller is no
longer parked (it timed out, or its client died): skip it and wake the next one. An object may
define ``__concoord_expired__(self, client_id)`` to release what a dead client held (its session
lease ran out); its parked calls are already cancelled then.
"""

from typing import NamedTuple

from concoord.host import call_context


class Caller(NamedTuple):
    """Who made the call being executed: a client session, its command number, and which of
    the client's threads made it (see ``owner``)."""
    client_id: str
    number: int
    thread: int = 0

    @property
    def owner(self):
        """What threading calls the owning thread: (client id, thread). An object that owns
        something per thread (Lock, RLock, Condition) keys it on this, so that a lock held by
        one thread of a client is not held by the client's other threads."""
        return (self.client_id, self.thread)


def owned_by_client(owner, client_id):
    """Whether ``owner`` (a Caller.owner, or None) is a thread of ``client_id``: what a client
    whose session expired held is released."""
    return owner is not None and owner[0] == client_id


class Park(BaseException):
    """Raised by park(); a BaseException so that a user's ``except Exception`` lets it through."""

    def __init__(self, timeout, on_timeout):
        super().__init__()
        self.timeout = timeout
        self.on_timeout = on_timeout


def current_caller():
    context = call_context.current()
    if context is None or context.caller is None:
        raise RuntimeError("current_caller() is only meaningful inside a replicated method")
    return context.caller


# threading raises OverflowError for a wait longer than threading.TIMEOUT_MAX, so do we; this is
# its value on Linux, fixed here because every replica must decide alike whatever its platform.
TIMEOUT_MAX = 9223372036.0


def park(timeout=None, on_timeout=None):
    """Hold the current call's reply until wake(); never returns."""
    if timeout is not None and timeout < 0:
        raise ValueError("timeout must be non-negative")
    check_timeout_max(timeout)
    raise Park(timeout, on_timeout)


def check_timeout_max(timeout):
    """OverflowError for a timeout threading could not wait for either."""
    if timeout is not None and timeout > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")


def wake(caller, value=None):
    """Complete a parked call with ``value``; False if that caller is no longer parked."""
    return _complete(caller, False, value)


def wake_error(caller, exc):
    """Make a parked call raise ``exc`` in its client; False if it is no longer parked."""
    return _complete(caller, True, exc)


def is_parked(caller):
    context = call_context.current()
    return context is not None and caller in context.parked


def _complete(caller, is_error, value):
    context = call_context.current()
    if context is None or caller not in context.parked:
        return False
    del context.parked[caller]
    context.wakeups.append((caller, is_error, value))
    return True
