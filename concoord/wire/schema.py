"""The field types of the wire: each a Python type with the constraints its values must meet.

msgspec checks them in C while it decodes a frame (codec.py). Where msgspec is not installed (the
zipapp bundles of ``make server``/``make client`` carry only pure-Python code), fallback.py reads
the same annotations and checks the same constraints in Python: one schema, two decoders, one
wire format.
"""

import os
import sys
from typing import Annotated, Any, Dict, Optional, Tuple, Union

try:
    if os.environ.get("CONCOORD_WIRE_PURE"):    # the bundles' path, on purpose (tests/wire)
        raise ImportError("CONCOORD_WIRE_PURE is set")
    import msgspec
    from msgspec import Meta
except ImportError:
    msgspec = None

    class Meta:
        """The constraints of msgspec.Meta that the wire uses, for the pure-Python decoder."""

        def __init__(self, *, ge=None, le=None, max_length=None):
            self.ge, self.le, self.max_length = ge, le, max_length

        def _key(self):
            return (self.ge, self.le, self.max_length)

        def __eq__(self, other):
            return type(other) is Meta and self._key() == other._key()

        def __hash__(self):
            return hash(self._key())

        def __repr__(self):
            return f"Meta(ge={self.ge}, le={self.le}, max_length={self.max_length})"


MAX_ID_LEN = 256            # node and client ids, method names
MAX_LIST = 1 << 20          # items in any list (commands of a batch, pvalues, decisions)
MAX_INT = 2**63 - 1
MAX_FLOAT = sys.float_info.max

Id = Annotated[str, Meta(max_length=MAX_ID_LEN)]
Count = Annotated[int, Meta(ge=0, le=MAX_INT)]          # numbers, rounds, slots of messages
Slot = Annotated[int, Meta(ge=1, le=MAX_INT)]           # a slot that holds a decision
OptionalId = Optional[Id]
Blob = bytes
# A finite float. msgspec would take an integer for a float field and widen it; the int branch
# keeps it an int so that check_floats (codec.py) refuses it, as the wire always did.
Seconds = Union[int, Annotated[float, Meta(ge=-MAX_FLOAT, le=MAX_FLOAT)]]
Ids = Annotated[Tuple[Id, ...], Meta(max_length=MAX_LIST)]
Plain = Dict[Id, Any]       # status information: plain values, checked by codec.check_plain


def sequence_of(item):
    """A tuple of ``item`` (a list on the wire), at most MAX_LIST long."""
    return Annotated[Tuple[item, ...], Meta(max_length=MAX_LIST)]


def wire_requires_all_fields(cls):
    """Keep a NamedTuple's Python defaults but require every field on the wire.

    msgspec (and fallback.py) let a trailing field with a default be left out of a frame; for
    ballots and configurations every field matters, so the defaults live only on ``__new__``.
    """
    cls._field_defaults = {}
    return cls


__all__ = ["msgspec", "Meta", "Any", "MAX_ID_LEN", "MAX_LIST", "MAX_INT", "MAX_FLOAT", "Id",
           "Count", "Slot", "OptionalId", "Blob", "Seconds", "Ids", "Plain", "sequence_of",
           "wire_requires_all_fields"]
