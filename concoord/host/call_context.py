"""The call being executed: one explicit object per replicated method call.

The object host creates a CallContext for each call it runs (a command, a lease read, a watch
evaluation, an object's hook) and makes it current for that call only; what user code asks
while it runs (concoord.blocking: who called, park, wake; concoord.determinism: the replicated
clock and random generator) reads it. A context variable, not module state: two hosts in one
process (the simulator's replicas, tests) or on two threads never see each other's call.
"""

import contextvars


class CallContext:
    __slots__ = ("caller", "parked", "wakeups", "time", "seed", "rng")

    def __init__(self, caller, parked, time, seed):
        self.caller = caller      # blocking.Caller of the call, or None (a hook without one)
        self.parked = parked      # the host's Caller -> on_timeout value, of calls still waiting
        self.wakeups = []         # (caller, is_error, value) this call produced
        self.time = time          # the leader's clock stamp for the call, or None (none known)
        self.seed = seed          # what this call's random generator is seeded from
        self.rng = None           # that generator, made on first use


_current = contextvars.ContextVar("concoord_call", default=None)


def current():
    """The CallContext of the call being executed, or None outside one."""
    return _current.get()


class running:
    """Make ``context`` current for the duration of a call (``with running(context):``; a
    class, not a generator: it is on the path of every command)."""
    __slots__ = ("context", "_token")

    def __init__(self, context):
        self.context = context

    def __enter__(self):
        self._token = _current.set(self.context)
        return self.context

    def __exit__(self, *exc_info):
        _current.reset(self._token)


def for_command(caller, parked, time, slot, command):
    """The context of ``command`` decided in ``slot`` (None: a lease read or watch) or of a hook
    (command None): the random seed is the same on every replica for the same call."""
    seed = (slot, command.client_id, command.number) if command is not None else slot
    return CallContext(caller, parked, time, seed)
