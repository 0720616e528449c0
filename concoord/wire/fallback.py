"""The pure-Python decoder of the wire schema, for where msgspec is not installed.

The zipapp bundles (``make server``/``make client``) carry only Python code, so they decode with
msgpack's pure-Python unpacker and check each value here against the same annotations (schema.py)
that msgspec checks in C: the same format, the same constraints, the same refusals.
"""

import dataclasses
import functools
import operator
import typing

from concoord.wire.schema import Any, Meta


class Invalid(ValueError):
    """A decoded value does not fit the schema (the codec turns it into a WireError)."""


def _fail(what):
    raise Invalid(what)


@functools.lru_cache(maxsize=None)
def checker(kind):
    """A function that checks a decoded msgpack value against ``kind`` and returns it as the
    Python value of that type (tuples, NamedTuples), or raises Invalid."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated:
        metas = [m for m in args[1:] if isinstance(m, Meta)]
        if args[0] in (int, str) and len(metas) == 1:       # the hot cases, in one step
            return _bounded(args[0], metas[0])
        return _constrained(checker(args[0]), metas)
    if origin is typing.Union:
        return _union(tuple(checker(arg) for arg in args))
    if origin is typing.Literal:
        return _literal(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _tuple_of(checker(args[0]))
        return _fixed_tuple(tuple(checker(arg) for arg in args))
    if origin is dict:
        return _dict(checker(args[0]))
    if kind is Any:
        return lambda value: value
    if kind in (int, float, str, bytes, type(None)):
        return _exact(kind)
    if isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return _named_tuple(kind)
    raise TypeError(f"no wire checker for {kind!r}")


def _exact(kind):
    def check(value):
        if type(value) is not kind:
            _fail(f"expected {kind.__name__}, got {type(value).__name__}")
        return value
    return check


def _bounded(kind, meta):
    low = -float("inf") if meta.ge is None else meta.ge
    high = float("inf") if meta.le is None else meta.le
    longest = float("inf") if meta.max_length is None else meta.max_length
    if kind is int:
        def bounded_int(value):
            if type(value) is not int or not low <= value <= high:
                _fail(f"expected int in [{low}, {high}], got {value!r}")
            return value
        return bounded_int

    def bounded_str(value):
        if type(value) is not str or len(value) > longest:
            _fail(f"expected str of length <= {longest}")
        return value
    return bounded_str


def _constrained(check, metas):
    def constrained(value):
        value = check(value)
        for meta in metas:
            if meta.ge is not None and not value >= meta.ge:
                _fail(f"expected a value >= {meta.ge}")
            if meta.le is not None and not value <= meta.le:
                _fail(f"expected a value <= {meta.le}")
            if meta.max_length is not None and len(value) > meta.max_length:
                _fail(f"expected a length <= {meta.max_length}")
        return value
    return constrained


def _union(checks):
    def union(value):
        for check in checks:
            try:
                return check(value)
            except Invalid:
                pass
        _fail(f"unexpected {type(value).__name__}")
    return union


def _literal(values):
    def literal(value):
        if not any(type(value) is type(v) and value == v for v in values):
            _fail(f"invalid value {value!r}")
        return value
    return literal


def _list(value, low, high):
    if type(value) is not list:
        _fail(f"expected array, got {type(value).__name__}")
    if not low <= len(value) <= high:
        _fail(f"expected array of length {low} to {high}, got {len(value)}")
    return value


def _tuple_of(check):
    def tuple_of(value):
        if type(value) is not list:
            _fail(f"expected array, got {type(value).__name__}")
        return tuple([check(item) for item in value])
    return tuple_of


def _fixed_tuple(checks):
    def fixed(value):
        return tuple(check(v) for check, v in zip(checks, _list(value, len(checks),
                                                                 len(checks))))
    return fixed


def _dict(check_key):
    def check(value):
        if type(value) is not dict:
            _fail(f"expected map, got {type(value).__name__}")
        for key in value:
            check_key(key)
        return value
    return check


def _fields(cls):
    """(name, checker) of each field, and how many must be present (those without a default)."""
    if dataclasses.is_dataclass(cls):
        fields = dataclasses.fields(cls)
        required = sum(f.default is dataclasses.MISSING for f in fields)
        return tuple((f.name, checker(f.type)) for f in fields), required
    hints = typing.get_type_hints(cls, include_extras=True)
    required = len(cls._fields) - len(cls._field_defaults)
    return tuple((name, checker(hints[name])) for name in cls._fields), required


def _named_tuple(cls):
    fields, required = _fields(cls)

    checks, count = tuple(check for _, check in fields), len(fields)

    def check(value):
        if type(value) is not list or not required <= len(value) <= count:
            _list(value, required, count)       # raises, saying why
        return cls(*[check_field(v) for check_field, v in zip(checks, value)])
    return check


def decode_message(obj, version, message_types):
    """``[tag, field, ...]`` -> the message (Invalid if it is not one of this version)."""
    if type(obj) is not list or not obj or type(obj[0]) is not int:
        _fail("not a tagged array")
    tag = obj[0]
    cls = message_types.get(tag % 100) if tag // 100 == version else None
    if cls is None:
        _fail(f"invalid tag {tag}")
    fields, required = _message_fields(cls)
    values = _list(obj, required + 1, len(fields) + 1)[1:]
    return cls(*(check(v) for (_, check), v in zip(fields, values)))


@functools.lru_cache(maxsize=None)
def _message_fields(cls):
    return _fields(cls)


def decode_record(obj, record_types):
    """``[kind, value]`` -> (kind, value) (Invalid if it is not a record)."""
    kind, value = _list(obj, 2, 2)
    if type(kind) is not str or kind not in record_types:
        _fail(f"invalid record kind {kind!r}")
    return kind, checker(record_types[kind])(value)


def to_wire(msg):
    """A message as the msgpack value msgspec writes for it: ``[tag, field, ...]`` (msgpack
    writes tuples and NamedTuples as arrays)."""
    return [msg.TAG, *_field_values(type(msg))(msg)]


@functools.lru_cache(maxsize=None)
def _field_values(cls):
    getter = operator.attrgetter(*cls.FIELD_NAMES)
    return getter if len(cls.FIELD_NAMES) > 1 else lambda msg: (getter(msg),)
