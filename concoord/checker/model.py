"""The replicated object's own class, used as the sequential specification of its history.

The checker asks: is there an order of the operations, consistent with real time, in which
calling the methods one after another on a fresh local instance returns what the clients saw?
A step calls the method on a copy of the state, so earlier states stay valid for backtracking. Results are passed through ConCoord's own value
codec, so the model's answer has exactly the types a client would have received.

Limits: the class must be deterministic given its arguments (``time.time()`` or ``random`` in a
method cannot be modelled: the replicas read values the leader stamped on the command), and
blocking methods (Lock.acquire parking a caller) are not modelled.
"""

import copy
import pickle

from concoord.checker.history import OK, RAISED, RaisedError
from concoord.errors import WireError
from concoord.wire.values import ExceptionValue, decode_value, encode_value

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class ObjectModel:
    """``ObjectModel(Counter)``: states are Counter instances, built with no arguments like
    a replica builds its object.

    A state is kept as a pickle of the instance when the class allows it (pickle is several
    times faster than deepcopy, and the bytes double as the memo key); otherwise as an instance,
    deep-copied before each step. Either way the pickles are of local model objects only.
    """

    def __init__(self, object_class, factory=None):
        self.object_class = object_class
        self._factory = factory or object_class
        self._pickled = _round_trips(self._factory())

    # Only states this class pickled itself are ever unpickled: histories and anything read
    # from a file or the network never reach pickle.loads.

    def initial(self):
        state = self._factory()
        return pickle.dumps(state, _PROTOCOL) if self._pickled else state

    def step(self, state, op):
        """(new state, (outcome, value)) of applying ``op`` to ``state`` (left unchanged)."""
        obj = pickle.loads(state) if self._pickled else copy.deepcopy(state)
        try:
            value = getattr(obj, op.method)(*op.args, **op.kwargs)
            result = (OK, _through_wire(value))
        except Exception as exc:   # the object raising is a result like any other
            result = (RAISED, _as_raised(exc))
        return (pickle.dumps(obj, _PROTOCOL) if self._pickled else obj), result

    @staticmethod
    def matches(op, result):
        """Whether the model's result is what the client recorded for ``op``."""
        return (op.outcome, op.value) == result

    def key(self, state):
        """Equal for equal states (used to memoize the search; a miss only costs time)."""
        if self._pickled:
            return state
        try:
            return pickle.dumps(state.__getstate__(), _PROTOCOL)
        except Exception:   # unpicklable attributes (a lock, a generator): fall back to repr
            return repr(vars(state)) if hasattr(state, "__dict__") else repr(state)

    def describe(self, state):
        obj = pickle.loads(state) if self._pickled else state
        attributes = getattr(obj, "__dict__", None)
        return repr(attributes) if attributes is not None else repr(obj)


def _round_trips(obj):
    """Whether instances survive pickling (a class defined inside a function does not)."""
    try:
        return type(pickle.loads(pickle.dumps(obj, _PROTOCOL))) is type(obj)
    except Exception:
        return False


def _through_wire(value):
    try:
        return decode_value(encode_value(value))
    except (TypeError, ValueError, WireError):
        return value   # the replica could not have sent it either; compare it as it is


def _as_raised(exc):
    carried = ExceptionValue.from_exception(exc)
    try:
        args = decode_value(encode_value(carried.args))
    except (TypeError, ValueError, WireError):
        args = carried.args
    return RaisedError(carried.type_name, tuple(args))
