"""Replicated replacements for the non-deterministic calls of a replicated object.

Every replica must compute the same result, so ``concoord object`` rewrites calls such as
``time.time()`` or ``random.random()`` in the server-side copy (``.pyfixed``) into calls of this
module. They read values fixed by the log: the clock the leader stamped on the slot's batch, and
a random generator seeded from the slot and the command, identical on every replica.
"""

import datetime as _datetime
import random as _random
import uuid as _uuid


class _Context:
    time = None
    rng = None


_context = _Context()


def enter(stamp, slot, command):
    _context.time = stamp
    _context.rng = None
    _context.seed = (slot, command.client_id, command.number) if command is not None else slot


def leave():
    _context.time = None
    _context.rng = None


def _require_time():
    if _context.time is None:
        raise RuntimeError("replicated time is only available inside a replicated method")
    return _context.time


def time():
    """The leader's clock when it proposed this call's slot (seconds since the epoch)."""
    return _require_time()


def now(tz=None):
    return _datetime.datetime.fromtimestamp(_require_time(), tz)


def utcnow():
    return _datetime.datetime.fromtimestamp(_require_time(), _datetime.timezone.utc).replace(
        tzinfo=None)


def rng():
    """A random generator seeded identically on every replica for this call."""
    if _context.rng is None:
        _require_time()
        _context.rng = _random.Random(repr(_context.seed))
    return _context.rng


def uuid4():
    return _uuid.UUID(int=rng().getrandbits(128), version=4)
