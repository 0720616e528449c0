"""The value codec: method arguments and results as msgpack with a few ext types.

Plain msgpack covers None, bool, int (64-bit), float, str, bytes, list and dict. Ext types add
what Python programs pass around and msgpack would silently change: tuple, set, frozenset,
integers of any size, and exceptions (carried as type name plus arguments, never as a class).
Decoding never imports, evaluates or unpickles anything.

Decoding a call's arguments also costs time linear in their size: integers are at most
MAX_INT_BYTES, and a value whose sets and dict keys hold more than MAX_COLLISIONS items that
hash alike without being equal is refused. (Inserting n items of one hash into a set costs
n**2/2 comparisons, and hashes of ints, floats and tuples are chosen by whoever picks the
values: 48,000 integers k * (2**61 - 1) + 7 froze a node for 20 s.) Snapshots and replies are
decoded without that budget: they come from the nodes, and refusing a legitimate state that
happens to collide would stop a replica from catching up.
"""

import threading
from typing import Annotated, Dict, List, Tuple, Union

import msgpack

from concoord.errors import WireError
from concoord.wire.exception_types import exception_name, exception_type
from concoord.wire.schema import Meta, msgspec

EXT_TUPLE = 1
EXT_SET = 2
EXT_FROZENSET = 3
EXT_EXCEPTION = 4
EXT_BIGINT = 5

MAX_DEPTH = 64
MAX_INT_BYTES = 64 << 10     # 524,288 bits: larger integers are refused both ways
MAX_COLLISIONS = 64          # per decoded call: at most 64**2/2 wasted comparisons
INT64_MIN, UINT64_MAX = -(2**63), 2**64 - 1
_UNPACK_LIMITS = dict(max_bin_len=16 << 20, max_str_len=16 << 20,
                      max_array_len=1 << 20, max_map_len=1 << 20, max_ext_len=16 << 20)


class ExceptionValue:
    """An exception as it travels: its class name and arguments (plain values)."""

    __slots__ = ("type_name", "args")

    def __init__(self, type_name, args):
        self.type_name = type_name
        self.args = tuple(args)

    def __eq__(self, other):
        return (isinstance(other, ExceptionValue) and self.type_name == other.type_name
                and self.args == other.args)

    def __hash__(self):
        return hash((self.type_name, self.args))

    def __repr__(self):
        return f"ExceptionValue({self.type_name!r}, {self.args!r})"

    @classmethod
    def from_exception(cls, exc):
        args = []
        for arg in exc.args:
            try:
                encode_value(arg)
                args.append(arg)
            except Exception:  # anything that cannot travel goes as its repr
                args.append(repr(arg))
        return cls(exception_name(type(exc)), args)

    def to_exception(self):
        """A builtin or declared standard exception type (see exception_types) re-raises as
        itself; anything else as RemoteError."""
        from concoord.errors import RemoteError
        exc_type = exception_type(self.type_name)
        if exc_type is not None:
            try:
                return exc_type(*self.args)
            except Exception:  # a builtin with an unusual constructor: keep the name
                pass
        return RemoteError(self.type_name, *self.args)


_nesting = threading.local()   # ext containers being encoded, per thread (clients share codecs)


def _default(obj):
    """Encode what msgpack lacks, nested no deeper than the decoder accepts (MAX_DEPTH)."""
    depth = getattr(_nesting, "depth", 0)
    if depth >= MAX_DEPTH:
        raise TypeError(f"value nested deeper than {MAX_DEPTH} tuples/sets")
    _nesting.depth = depth + 1
    try:
        return _ext(obj)
    finally:
        _nesting.depth = depth


def _ext(obj):
    if isinstance(obj, tuple):
        return msgpack.ExtType(EXT_TUPLE, _pack(list(obj)))
    if isinstance(obj, frozenset):
        return msgpack.ExtType(EXT_FROZENSET, _pack(list(obj)))
    if isinstance(obj, set):
        return msgpack.ExtType(EXT_SET, _pack(list(obj)))
    if isinstance(obj, int) and not isinstance(obj, bool):
        length = (obj.bit_length() + 8) // 8
        if length > MAX_INT_BYTES:
            raise TypeError(f"integer of more than {MAX_INT_BYTES} bytes")
        return msgpack.ExtType(EXT_BIGINT, obj.to_bytes(length, "big", signed=True))
    if isinstance(obj, BaseException):
        obj = ExceptionValue.from_exception(obj)
    if isinstance(obj, ExceptionValue):
        return msgpack.ExtType(EXT_EXCEPTION, _pack([obj.type_name, list(obj.args)]))
    raise TypeError(f"cannot send a value of type {type(obj).__name__}")


def _pack(obj):
    return msgpack.packb(obj, default=_default, strict_types=True, use_bin_type=True)


def encode_value(obj):
    """Encode one value to bytes; raises TypeError for values that cannot travel."""
    try:
        return _pack(obj)
    except (OverflowError, ValueError, RecursionError) as exc:
        raise TypeError(f"cannot send value: {exc}") from None


class _Collisions:
    """What is left of one decode's budget of hash collisions (None: unlimited)."""

    __slots__ = ("left",)

    def __init__(self, left):
        self.left = left

    def check(self, items):
        """Refuse ``items`` (set elements or dict keys, not yet inserted) if, with what came
        before, too many of them hash like an earlier item they are not equal to. Linear: one
        lookup per item in a dict keyed by distinct hash values."""
        if self.left is None:
            return
        first = {}
        for item in items:
            seen = first.setdefault(hash(item), item)
            if seen is not item and seen != item:
                self.left -= 1
                if self.left < 0:
                    raise WireError(f"more than {MAX_COLLISIONS} set elements or dict keys "
                                    "collide in one hash")


def _ext_hook(depth, collisions):
    def hook(code, data):
        if depth >= MAX_DEPTH:
            raise WireError("value nested too deeply")
        if code == EXT_BIGINT:
            if not data or len(data) > MAX_INT_BYTES:
                raise WireError("empty integer" if not data else
                                f"integer of more than {MAX_INT_BYTES} bytes")
            return int.from_bytes(data, "big", signed=True)
        items = _unpack(data, depth + 1, collisions)
        if code == EXT_TUPLE:
            return tuple(_expect_list(items))
        if code in (EXT_SET, EXT_FROZENSET):
            collisions.check(_expect_list(items))
            return set(items) if code == EXT_SET else frozenset(items)
        if code == EXT_EXCEPTION:
            items = _expect_list(items)
            if len(items) != 2 or not isinstance(items[0], str) or not isinstance(items[1], list):
                raise WireError("malformed exception value")
            return ExceptionValue(items[0], items[1])
        raise WireError(f"unknown value type {code}")
    return hook


def _expect_list(items):
    if not isinstance(items, list):
        raise WireError("malformed container value")
    return items


def _no_timestamp(items):
    """msgpack decodes its own Timestamp extension (type -1) without asking ext_hook; we never
    send one, so a value holding one is malformed. (``in map(type, ...)`` loops in C.)"""
    if msgpack.Timestamp in map(type, items):
        raise WireError("unknown value type -1")
    return items


def _map_hook(collisions):
    def build(pairs):
        _no_timestamp(pair[0] for pair in pairs)
        _no_timestamp(pair[1] for pair in pairs)
        collisions.check([pair[0] for pair in pairs])
        return dict(pairs)
    return build


def _unpack(data, depth, collisions):
    try:
        value = msgpack.unpackb(data, ext_hook=_ext_hook(depth, collisions),
                                strict_map_key=False, raw=False, use_list=True,
                                list_hook=_no_timestamp, object_pairs_hook=_map_hook(collisions),
                                **_UNPACK_LIMITS)
        return _no_timestamp((value,))[0]
    except WireError:
        raise
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError,
            msgpack.StackError, RecursionError, UnicodeDecodeError) as exc:
        raise WireError(f"malformed value: {type(exc).__name__}") from None


# ---- the common case in C ----------------------------------------------------------------------
#
# Most calls and results are flat: scalars, or one list or string-keyed dict of scalars. msgspec
# decodes those in C against a schema that accepts only what the general decoder above would
# accept, with the same result (a subset: no ext types, strings short enough that their UTF-8
# fits max_str_len, at most MAX_COLLISIONS + 1 keys where a collision budget applies, so the
# budget could not be exceeded). Anything else, valid or not, goes to the general decoder,
# which decides as it always did.

_FLAT = {}
if msgspec is not None:
    _Str = Annotated[str, Meta(max_length=_UNPACK_LIMITS["max_str_len"] // 4)]
    _Scalar = Union[None, bool, int, float, _Str]     # (msgspec: no str and bytes in a union)
    _List = Annotated[List[_Scalar], Meta(max_length=_UNPACK_LIMITS["max_array_len"])]

    def _dict(max_keys):
        return Annotated[Dict[_Str, _Scalar], Meta(max_length=max_keys)]

    _FLAT = {
        # decode_value: (no budget, with the calls' budget)
        None: msgspec.msgpack.Decoder(
            Union[_Scalar, _List, _dict(_UNPACK_LIMITS["max_map_len"])]).decode,
        MAX_COLLISIONS: msgspec.msgpack.Decoder(
            Union[_Scalar, _List, _dict(MAX_COLLISIONS + 1)]).decode,
        # decode_call_arguments: [args, kwargs]
        "call": msgspec.msgpack.Decoder(Tuple[_List, _dict(MAX_COLLISIONS + 1)]).decode,
    }
    _NOT_FLAT = (msgspec.ValidationError, msgspec.DecodeError)


def decode_value(data, max_collisions=None):
    """Decode bytes made by encode_value; anything malformed raises WireError. With
    ``max_collisions``, also values whose sets and dict keys collide more (see above)."""
    if not isinstance(data, (bytes, bytearray)):
        raise WireError("value is not bytes")
    flat = _FLAT.get(max_collisions)
    if flat is not None:
        try:
            return flat(data)
        except _NOT_FLAT:
            pass
    return _unpack(bytes(data), 0, _Collisions(max_collisions))


def encode_call_arguments(args, kwargs):
    """How a call's arguments travel: the 2-element list [args, kwargs]."""
    return encode_value([list(args), dict(kwargs or {})])


def decode_call_arguments(data):
    """(args list, kwargs dict) from encode_call_arguments' bytes; WireError if malformed."""
    flat = _FLAT.get("call")
    if flat is not None and isinstance(data, (bytes, bytearray)):
        try:
            return flat(data)
        except _NOT_FLAT:
            pass
    decoded = decode_value(data, MAX_COLLISIONS)
    if (not isinstance(decoded, list) or len(decoded) != 2 or not isinstance(decoded[0], list)
            or not isinstance(decoded[1], dict)
            or not all(isinstance(k, str) for k in decoded[1])):
        raise WireError("call arguments are not [args, kwargs]")
    return decoded[0], decoded[1]
