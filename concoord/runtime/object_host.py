"""The replicated object inside a replica: decodes a command, calls the method, encodes the reply.

This is the state machine the protocol's Replica drives, in slot order. Only public methods of
the user's class can be called (and ``__concoordinit__``, which re-creates the object through the
log); exceptions raised by the object travel back to the client as (type name, args).
"""

from concoord.errors import WireError
from concoord.wire.messages import EXCEPTION, OK
from concoord.wire.values import ExceptionValue, decode_call_arguments, encode_value

REINIT = "__concoordinit__"
DESCRIBE_LIMIT = 200


class ObjectHost:
    def __init__(self, object_class):
        self.object_class = object_class
        self.obj = object_class()

    def refusal(self, method):
        """Why a client may not call ``method``, or None when it may."""
        if method == REINIT:
            return None
        if not method.isidentifier() or method.startswith("_"):
            return f"'{method}' is not a public method of {self.object_class.__name__}"
        if not callable(getattr(self.object_class, method, None)):
            return f"{self.object_class.__name__} has no method '{method}'"
        return None

    def execute(self, command, slot, time):
        reason = self.refusal(command.method)
        if reason is not None:
            return _raised(AttributeError(reason))
        try:
            args, kwargs = decode_call_arguments(command.args)
        except WireError as exc:
            return _raised(TypeError(f"malformed arguments: {exc}"))
        try:
            if command.method == REINIT:
                self.obj = self.object_class(*args, **kwargs)
                result = None
            else:
                result = getattr(self.obj, command.method)(*args, **kwargs)
        except Exception as exc:  # the object's own exception goes back to its caller
            return _raised(exc)
        try:
            return OK, encode_value(result)
        except TypeError as exc:
            return _raised(TypeError(f"{command.method}() returned a value that cannot be sent: "
                                     f"{exc}"))

    def describe(self):
        try:
            return str(self.obj)[:DESCRIBE_LIMIT]
        except Exception as exc:
            return f"<str() failed: {type(exc).__name__}>"


def _raised(exc):
    return EXCEPTION, encode_value(ExceptionValue.from_exception(exc))
