"""The objects run in this process by the same ObjectHost the replicas use: the model side of
the model-based tests, and a place to test blocking semantics without a cluster.

Outcomes are compared in one form on both sides: ``("ok", value)``, ``("raised", type name,
args)`` or ``("parked",)``; values are passed through the wire codec, as the cluster's are.
"""

import itertools

from concoord.errors import RemoteError
from concoord.host.object_host import ObjectHost
from concoord.wire.messages import BLOCKED, OK
from concoord.wire.exception_types import exception_name
from concoord.wire.types import Command
from concoord.wire.values import ExceptionValue, decode_value, encode_call_arguments

STAMP = 1_700_000_000.0


def remote_outcome(call):
    """Run ``call()`` (a proxy call) and describe how it ended."""
    try:
        return ("ok", call())
    except RemoteError as exc:
        return ("raised", exc.type_name, tuple(exc.remote_args))
    except Exception as exc:  # builtin and declared standard types re-raise as themselves
        return ("raised", exception_name(type(exc)), tuple(exc.args))


def reply_outcome(status, value):
    value = decode_value(value)
    if status == OK:
        return ("ok", value)
    if status == BLOCKED:
        return ("parked",)
    assert isinstance(value, ExceptionValue), value
    return ("raised", value.type_name, tuple(value.args))


class LocalObject:
    """One object and its parked calls, driven call by call as a replica would."""

    def __init__(self, cls, *init_args, host_class=ObjectHost):
        self.host = host_class(cls)
        self.numbers = itertools.count(1)
        self.slots = itertools.count(1)
        if init_args:
            outcome = self.call("init", "__concoordinit__", *init_args)
            assert outcome[0] == "ok", outcome

    @property
    def obj(self):
        return self.host.obj

    def command(self, client, method, *args, **kwargs):
        """Execute one call: ((client id, number) of the call, its outcome). ``client`` is a
        client id, whose calls come from its thread 1 (a proxy's first thread), or a
        (client id, thread) pair."""
        client_id, thread = (client, 1) if isinstance(client, str) else client
        number = next(self.numbers)
        command = Command(client_id, number, method, encode_call_arguments(args, kwargs), thread)
        status, value = self.host.execute(command, next(self.slots), STAMP)
        return (client_id, number), reply_outcome(status, value)

    def call(self, client, method, *args, **kwargs):
        return self.command(client, method, *args, **kwargs)[1]

    def wakeups(self):
        """{(client id, number): outcome} of the parked calls completed since last asked."""
        return {(cid, number): reply_outcome(*reply)
                for cid, number, reply in self.host.take_wakeups()}

    def time_out(self, caller):
        """What the instance does when a parked call's timeout passes (@cancel)."""
        self.host.cancel(*caller)
        return self.wakeups()

    def expire(self, client_id):
        self.host.expire(client_id)
        return self.wakeups()

    def describe(self):
        return self.host.describe()
