"""Method arguments and results as JSON, without losing the types ConCoord's wire keeps.

JSON has no tuple, set, frozenset or bytes, and its object keys must be strings; a history that
turned a returned tuple into a list would make the checker compare ``(1, 2)`` with ``[1, 2]``
and report a violation that never happened. So those values are written as one-key tagged
objects, e.g. ``{"$tuple": [1, 2]}``, and read back as themselves.
"""

import base64

_TAGS = ("$tuple", "$set", "$frozenset", "$bytes", "$dict", "$float")


def to_json(value):
    """A JSON-serialisable form of ``value`` that from_json turns back into an equal value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # NaN and the infinities are not JSON; finite floats round-trip exactly through repr.
        return value if value == value and abs(value) != float("inf") else {"$float": repr(value)}
    if isinstance(value, tuple):
        return {"$tuple": [to_json(v) for v in value]}
    if isinstance(value, frozenset):
        return {"$frozenset": [to_json(v) for v in value]}
    if isinstance(value, set):
        return {"$set": [to_json(v) for v in value]}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not _looks_tagged(value):
            return {k: to_json(v) for k, v in value.items()}
        return {"$dict": [[to_json(k), to_json(v)] for k, v in value.items()]}
    raise TypeError(f"cannot record a value of type {type(value).__name__}: {value!r}")


def from_json(data):
    """The value that to_json(value) produced ``data`` from."""
    if isinstance(data, list):
        return [from_json(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        (tag, inner), = data.items()
        if tag == "$tuple":
            return tuple(from_json(v) for v in inner)
        if tag == "$set":
            return {from_json(v) for v in inner}
        if tag == "$frozenset":
            return frozenset(from_json(v) for v in inner)
        if tag == "$bytes":
            return base64.b64decode(inner)
        if tag == "$dict":
            return {from_json(k): from_json(v) for k, v in inner}
        if tag == "$float":
            return float(inner)
    return {k: from_json(v) for k, v in data.items()}


def _looks_tagged(mapping):
    """A user's dict such as {"$tuple": ...} must not be read back as a tuple."""
    return len(mapping) == 1 and next(iter(mapping)) in _TAGS
