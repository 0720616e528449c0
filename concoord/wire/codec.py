"""Framing and strict decoding of messages.

A frame is a 4-byte big-endian length followed by a msgpack map
``{"v": VERSION, "t": type code, <field>: <value>, ...}``. Decoding checks every field's type and
range and raises WireError on anything else; nothing read is ever imported, evaluated or unpickled.
"""

import math
import struct
from dataclasses import fields
from typing import Optional, Tuple

import msgpack

from concoord.errors import WireError
from concoord.wire.messages import MESSAGE_TYPES, STATUSES
from concoord.wire.types import Ballot, Batch, Command, Configuration, PValue

VERSION = 2     # 2: a command names the calling thread of its client (Command.thread)
HEADER = struct.Struct(">I")
MAX_FRAME = 32 << 20
MAX_ID_LEN = 256
MAX_LIST = 1 << 20
_UNPACK_LIMITS = dict(max_bin_len=MAX_FRAME, max_str_len=MAX_FRAME, max_array_len=MAX_LIST,
                      max_map_len=4096, max_ext_len=0)


def _fail(what):
    raise WireError(what)


def _check(cond, what):
    if not cond:
        _fail(what)


def _int(value, lo=0, hi=2**63 - 1):
    _check(type(value) is int and lo <= value <= hi, "bad integer")
    return value


def _str(value, max_len=MAX_ID_LEN):
    _check(type(value) is str and len(value) <= max_len, "bad string")
    return value


def _seq(value, length=None):
    _check(type(value) is list and (length is None or len(value) == length), "bad list")
    return value


def _ballot(value):
    rnd, leader, incarnation = _seq(value, 3)
    return Ballot(_int(rnd), _str(leader), _int(incarnation))


def _command(value):
    # Four fields: written by version 1 (an acceptor's log, a snapshot), before commands named
    # their client's thread; such a call was its client's only thread, 0.
    _check(type(value) is list and len(value) in (4, 5), "bad command")
    client_id, number, method, args, thread = value if len(value) == 5 else value + [0]
    _check(type(args) is bytes, "bad command arguments")
    return Command(_str(client_id), _int(number), _str(method), args, _int(thread))


def _batch(value):
    stamp, commands = _seq(value, 2)
    _check(type(stamp) is float and math.isfinite(stamp), "bad batch time")
    return Batch(stamp, tuple(_command(c) for c in _seq(commands)))


def _pvalue(value):
    ballot, slot, batch = _seq(value, 3)
    return PValue(_ballot(ballot), _int(slot, 1), _batch(batch))


def _decision(value):
    slot, batch = _seq(value, 2)
    return (_int(slot, 1), _batch(batch))


def _configuration(value):
    return Configuration(*(tuple(_str(node) for node in _seq(group)) for group in _seq(value, 3)))


def _float(value):
    _check(type(value) is float and math.isfinite(value), "bad number")
    return value


def _bytes(value):
    _check(type(value) is bytes, "bad bytes")
    return value


def _optional_str(value):
    return None if value is None else _str(value)


_PLAIN = (type(None), bool, int, float, str, bytes)


def _plain(value, depth=0):
    """Status information: plain msgpack values only, bounded nesting."""
    _check(depth < 16, "value nested too deeply")
    if isinstance(value, _PLAIN):
        return value
    if type(value) is list:
        return [_plain(v, depth + 1) for v in value]
    _check(type(value) is dict, "bad status value")
    return {_str(k): _plain(v, depth + 1) for k, v in value.items()}


_DECODERS = {
    str: _str, int: _int, float: _float, bytes: _bytes, dict: _plain,
    Optional[str]: _optional_str,
    Ballot: _ballot, Command: _command, Batch: _batch, Configuration: _configuration,
    Tuple[PValue, ...]: lambda v: tuple(_pvalue(p) for p in _seq(v)),
    Tuple[Tuple[int, Batch], ...]: lambda v: tuple(_decision(d) for d in _seq(v)),
}


def _decoders_for(cls):
    return tuple((f.name, _DECODERS[f.type]) for f in fields(cls))


_FIELD_DECODERS = {code: _decoders_for(cls) for code, cls in MESSAGE_TYPES.items()}


def _encodable(value):
    """NamedTuples and tuples travel as msgpack arrays; the schema restores their types."""
    if isinstance(value, tuple):
        return [_encodable(v) for v in value]
    return value


def encode_body(msg):
    body = {"v": VERSION, "t": msg.TYPE}
    for name in msg.FIELD_NAMES:
        body[name] = _encodable(getattr(msg, name))
    return msgpack.packb(body, use_bin_type=True)


def encode_frame(msg):
    """The bytes to write on a socket for one message."""
    body = encode_body(msg)
    if len(body) > MAX_FRAME:
        raise WireError(f"message of {len(body)} bytes exceeds the {MAX_FRAME}-byte frame limit")
    return HEADER.pack(len(body)) + body


def decode_body(body):
    """The message in one frame body; WireError if it is not a valid message of this version."""
    try:
        obj = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True,
                              **_UNPACK_LIMITS)
    except Exception as exc:  # msgpack raises many types on garbage; all mean the same here
        raise WireError(f"undecodable frame ({type(exc).__name__})") from None
    _check(type(obj) is dict, "frame is not a map")
    _check(obj.get("v") == VERSION, f"unsupported protocol version {obj.get('v')!r}")
    code = obj.get("t")
    decoders = _FIELD_DECODERS.get(code) if type(code) is int else None
    _check(decoders is not None, f"unknown message type {code!r}")
    _check(len(obj) == len(decoders) + 2, "wrong fields for message type")
    try:
        values = [decode(obj[name]) for name, decode in decoders]
    except KeyError as exc:
        raise WireError(f"missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise WireError("malformed field") from None
    msg = MESSAGE_TYPES[code](*values)
    _check_ranges(msg)
    return msg


def _check_ranges(msg):
    status = getattr(msg, "status", None)
    if status is not None:
        _check(status in STATUSES, "bad reply status")


class FrameReader:
    """Turns a byte stream into messages; keeps any partial frame for the next feed."""

    def __init__(self, max_frame=MAX_FRAME):
        self._buffer = bytearray()
        self._max_frame = max_frame

    def feed(self, data):
        """Add received bytes; return the complete messages now available (WireError if bad)."""
        self._buffer += data
        messages = []
        offset = 0
        buf = self._buffer
        while len(buf) - offset >= HEADER.size:
            (length,) = HEADER.unpack_from(buf, offset)
            if length > self._max_frame:
                raise WireError(f"frame of {length} bytes exceeds the {self._max_frame}-byte limit")
            end = offset + HEADER.size + length
            if end > len(buf):
                break
            messages.append(decode_body(bytes(buf[offset + HEADER.size:end])))
            offset = end
        if offset:
            del buf[:offset]
        return messages

    @property
    def pending_bytes(self):
        return len(self._buffer)


# ---- acceptor records (the same strict decoding, for what an acceptor reads back from disk) ----

def encode_record(record):
    """('promise', Ballot) | ('accept', PValue) | ('gc', slot) -> msgpack bytes."""
    kind, value = record
    return msgpack.packb([kind, _encodable(value)], use_bin_type=True)


_RECORD_DECODERS = {"promise": _ballot, "accept": _pvalue, "gc": lambda v: _int(v, 1)}


def decode_record(data):
    try:
        kind, value = msgpack.unpackb(data, raw=False, use_list=True, **_UNPACK_LIMITS)
        return kind, _RECORD_DECODERS[kind](value)
    except WireError:
        raise
    except Exception as exc:
        raise WireError(f"undecodable record ({type(exc).__name__})") from None
