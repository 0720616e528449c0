"""The replicated object inside a replica: decodes a command, calls the method, encodes the reply.

This is the StateMachine (host/state_machine.py) the Applier drives, in slot order. Only public
methods of the user's class and its readonly properties can be called (plus
``__concoordinit__``, which re-creates the object through the log, and ``__enter__``/``__exit__``
for ``with obj:``); exceptions raised by the object travel back to the client as (type name,
args). Parked calls (concoord.blocking) are replicated state kept here: which callers wait, and
what a timed-out wait returns.
"""

from concoord import blocking
from concoord.host import call_context
from concoord.errors import WireError
from concoord.wire.messages import BLOCKED, EXCEPTION, OK
from concoord.wire.values import (ExceptionValue, decode_call_arguments, encode_call_arguments,
                                  encode_value)

REINIT = "__concoordinit__"
CALLABLE_DUNDERS = (REINIT, "__enter__", "__exit__")
EXPIRED_HOOK = "__concoord_expired__"
TIMEOUT_HOOK = "__concoord_timeout__"
SNAPSHOT_HOOK, RESTORE_HOOK = "__concoord_snapshot__", "__concoord_restore__"
DESCRIBE_LIMIT = 200
# The commonest call and result, decoded and encoded once (this runs for every command).
NO_ARGUMENTS = encode_call_arguments((), {})
OK_NONE = (OK, encode_value(None))


class SessionExpired(Exception):
    """The client's session lease ran out while its call was parked."""


class ObjectHost:
    def __init__(self, object_class):
        self.object_class = object_class
        self.obj = object_class()
        self.parked = {}        # Caller -> value returned if the wait times out
        self.wakeups = []       # (client id, number, (status, value)) to deliver
        self._refusals = {}     # method -> refusal(method): the class does not change
        self._properties = {}   # method -> whether the class has it as a property

    def refusal(self, method):
        """Why a client may not call ``method``, or None when it may."""
        try:
            return self._refusals[method]
        except KeyError:
            pass
        reason = self._refusal(method)
        if len(self._refusals) < 4096:      # clients may send any number of made-up names
            self._refusals[method] = reason
        return reason

    def _refusal(self, method):
        name = self.object_class.__name__
        if method in CALLABLE_DUNDERS:
            return None if method == REINIT or hasattr(self.object_class, method) else \
                f"{name} does not support {method}"
        if not method.isidentifier() or method.startswith("_"):
            return f"'{method}' is not a public method of {name}"
        function = _function(self.object_class, method)
        if function is None:
            return f"{name} has no method '{method}'"
        if getattr(function, "_concoord_client_side", False):
            return f"{name}.{method} runs in the client (its proxy), not on the replicas"
        return None

    def is_readonly(self, method):
        return getattr(_function(self.object_class, method), "_concoord_readonly", False)

    def execute(self, command, slot, time):
        reason = self.refusal(command.method)
        if reason is not None:
            return _raised(AttributeError(reason))
        try:
            args, kwargs = (((), {}) if command.args == NO_ARGUMENTS
                            else decode_call_arguments(command.args))
        except WireError as exc:
            return _raised(TypeError(f"malformed arguments: {exc}"))
        caller = blocking.Caller(command.client_id, command.number, command.thread)
        try:
            with self._executing(caller, slot, time, command):
                result = self._call(command.method, args, kwargs)
        except blocking.Park as park:
            self.parked[caller] = park.on_timeout
            return BLOCKED, encode_value(park.timeout)
        except BaseException as exc:  # the object's own exception, even sys.exit(), goes back
            return _raised(exc)        # to its caller: it must never stop the replica
        return _result(command.method, result)

    def _call(self, method, args, kwargs):
        if method == REINIT:
            self.obj = self.object_class(*args, **kwargs)
            self._fail_all_parked("the object was re-initialised (__concoordinit__)")
            return None
        if self._is_property(method):
            if args or kwargs:
                raise TypeError(f"{method} is a property: it takes no arguments")
            return getattr(self.obj, method)
        return getattr(self.obj, method)(*args, **kwargs)

    def _is_property(self, method):
        try:
            return self._properties[method]
        except KeyError:    # (only names refusal() let through get here: a bounded set)
            self._properties[method] = isinstance(getattr(self.object_class, method, None),
                                                  property)
            return self._properties[method]

    def _executing(self, caller, slot, time, command):
        return _executing(self, caller, slot, time, command)

    # ---- parked calls -------------------------------------------------------------------------

    def take_wakeups(self):
        if not self.wakeups:        # the common case, after every command: nothing to take
            return ()
        wakeups, self.wakeups = self.wakeups, []
        return wakeups

    def _collect(self, wakeups):
        for caller, is_error, value in wakeups:
            reply = _raised(value) if is_error else _result("a woken call", value)
            self.wakeups.append((caller.client_id, caller.number, reply))

    def cancel(self, client_id, number, time=None):
        """The wait of a parked call timed out: the object's ``__concoord_timeout__(caller)``
        decides what happens (wake it with a value, make it raise, or leave it parked: a
        Condition's timed-out wait still waits for its lock, as threading's does); without
        that hook, or if the hook fails, the call completes with its on_timeout value."""
        caller = self._parked_caller(client_id, number)
        if caller is None:
            return
        hook = getattr(self.obj, TIMEOUT_HOOK, None)
        if hook is not None and self._run_hook(hook, caller, time):
            return
        if caller in self.parked:
            value = self.parked.pop(caller)
            self.wakeups.append((client_id, number, _result("a timed-out call", value)))

    def _parked_caller(self, client_id, number):
        """The parked Caller of a client's call number (its thread is not in the @cancel)."""
        for caller in self.parked:
            if caller.number == number and caller.client_id == client_id:
                return caller
        return None

    def _run_hook(self, hook, argument, time, caller=None):
        """Run an object's hook; False if it raised (a broken hook must not stop the replica)."""
        try:
            with self._executing(caller or (argument if isinstance(argument, blocking.Caller)
                                            else None), None, time, None):
                hook(argument)
        except BaseException:
            return False
        return True

    def _fail_all_parked(self, reason):
        """__concoordinit__ replaces the object: calls parked on the old one can never be woken."""
        for caller in list(self.parked):
            del self.parked[caller]
            self.wakeups.append((caller.client_id, caller.number, _raised(RuntimeError(reason))))

    def expire(self, client_id, time=None):
        """A dead client: fail its parked calls, then let the object release what it held."""
        for caller in [c for c in self.parked if c.client_id == client_id]:
            del self.parked[caller]
            self.wakeups.append((client_id, caller.number,
                                 _raised(SessionExpired(f"session {client_id} expired"))))
        hook = getattr(self.obj, EXPIRED_HOOK, None)
        if hook is not None:
            self._run_hook(hook, client_id, time)

    # ---- snapshots ------------------------------------------------------------------------------

    def snapshot(self):
        """The object's state as plain values: ``__concoord_snapshot__()`` if it defines one,
        else its attributes; None when they cannot travel (no snapshots, no log trimming)."""
        hook = getattr(self.obj, SNAPSHOT_HOOK, None)
        try:
            state = hook() if hook is not None else dict(vars(self.obj))
            parked = [[list(caller), value] for caller, value in self.parked.items()]
            encode_value([state, parked])
        except Exception:
            return None
        return [state, parked]

    def restore(self, snapshot):
        state, parked = snapshot
        obj = self.object_class.__new__(self.object_class)
        hook = getattr(obj, RESTORE_HOOK, None)
        if hook is not None:
            hook(state)
        else:
            obj.__dict__.update(state)
        self.obj = obj
        self.parked = {blocking.Caller(*caller): value for caller, value in parked}

    def describe(self):
        try:
            return str(self.obj)[:DESCRIBE_LIMIT]
        except Exception as exc:
            return f"<str() failed: {type(exc).__name__}>"


class _executing(call_context.running):
    """Run one call in its own CallContext, and collect the wake-ups it produced (a class, not
    a generator: it is on the path of every command)."""
    __slots__ = ("host",)

    def __init__(self, host, caller, slot, time, command):
        super().__init__(call_context.for_command(caller, host.parked, time, slot, command))
        self.host = host

    def __exit__(self, *exc_info):
        super().__exit__(*exc_info)
        self.host._collect(self.context.wakeups)


def _function(cls, name):
    """What a client calls by ``name``: a method, or the getter of a property marked readonly
    (the proxy offers those, and only those, as properties); None if ``name`` is neither."""
    attribute = getattr(cls, name, None)
    if isinstance(attribute, property):
        getter = attribute.fget
        return getter if getattr(getter, "_concoord_readonly", False) else None
    return attribute if callable(attribute) else None


def _result(method, result):
    if result is None:
        return OK_NONE
    try:
        return OK, encode_value(result)
    except TypeError as exc:
        return _raised(TypeError(f"{method} returned a value that cannot be sent: {exc}"))


def _raised(exc):
    return EXCEPTION, encode_value(ExceptionValue.from_exception(exc))
