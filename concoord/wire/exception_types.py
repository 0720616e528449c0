"""Which exception types a client re-raises as themselves, and the names they travel under.

An exception travels as a type name plus arguments, never as a class. A builtin type travels
under its bare name (``ValueError``); a short declared list of standard-library types travels
under its module-qualified name (``queue.Empty``), so that a user type that happens to be called
``Empty`` is never mistaken for it. Every other type arrives as ``concoord.RemoteError``.
"""

import builtins
import queue
import threading

# What the object library raises where its standard counterpart does (Queue, Barrier).
STANDARD = {
    "queue.Empty": queue.Empty,
    "queue.Full": queue.Full,
    "threading.BrokenBarrierError": threading.BrokenBarrierError,
}
_NAMES = {exc_type: name for name, exc_type in STANDARD.items()}


def exception_name(exc_type):
    """The name ``exc_type`` travels under."""
    return _NAMES.get(exc_type, exc_type.__name__)


def exception_type(name):
    """The exception class a client re-raises for ``name``, or None (then: RemoteError)."""
    exc_type = STANDARD.get(name) or getattr(builtins, name, None)
    if isinstance(exc_type, type) and issubclass(exc_type, Exception):
        return exc_type
    return None
