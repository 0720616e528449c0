"""Replicated replacements for the non-deterministic calls of a replicated object.

Every replica must compute the same result, so ``concoord object`` rewrites calls such as
``time.time()`` or ``random.random()`` in the server-side copy (``.pyfixed``) into calls of this
module (see concoord.codegen.determinize). They read values fixed by the log: the clock the
leader stamped on the slot's batch, and a random generator seeded from the slot and the command,
identical on every replica.

Outside a command (the object's construction when a replica starts, before any command; a
session-expiry hook, which has no stamp) there is no leader clock: ``time()`` then reads 0.0,
the epoch, and random values come from a generator with a fixed seed, made afresh for each
call. Both are the same on every replica, which is what matters; an object that needs a real
time or real randomness at creation should take it in ``__concoordinit__``, which runs through
the log.

Naive datetimes (``now()``, ``today()``, ``utcnow()``) are in UTC: the replicas may sit in
different time zones, and the local time of each would differ.
"""

import datetime as _datetime
import random as _random
import uuid as _uuid

from concoord.host import call_context

OUTSIDE_TIME = 0.0
OUTSIDE_SEED = "concoord: outside a replicated call"


def time():
    """The leader's clock when it proposed this call's slot (seconds since the epoch)."""
    context = call_context.current()
    return OUTSIDE_TIME if context is None or context.time is None else context.time


def time_ns():
    return int(round(time() * 1e9))


def now(tz=None):
    """``datetime.now(tz)`` at the replicated time; without ``tz``, naive UTC (see above)."""
    if tz is None:
        return utcnow()
    return _datetime.datetime.fromtimestamp(time(), tz)


def utcnow():
    return _datetime.datetime.fromtimestamp(time(), _datetime.timezone.utc).replace(tzinfo=None)


def today():
    return utcnow()


def date_today():
    return utcnow().date()


def rng():
    """A random generator seeded identically on every replica for this call."""
    context = call_context.current()
    if context is None or context.time is None:
        return _random.Random(OUTSIDE_SEED)
    if context.rng is None:
        context.rng = _random.Random(repr(context.seed))
    return context.rng


def new_rng():
    """What ``random.Random()`` (no seed) becomes: a generator seeded from this call's."""
    return _random.Random(rng().getrandbits(128))


def uuid4():
    return _uuid.UUID(int=rng().getrandbits(128), version=4)
