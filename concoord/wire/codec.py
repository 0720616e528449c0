"""Framing and strict decoding of messages.

A frame is a 4-byte big-endian length followed by a msgpack array ``[tag, field, ...]``: the tag
says the protocol version and the message type (VERSION * 100 + TYPE), the fields follow in the
order of the message class. Decoding checks every field's type, length and range against the
schema (the annotations of messages.py and types.py) and raises WireError on anything else;
nothing read is ever imported, evaluated or unpickled.

msgspec does the checking in C while it decodes; without msgspec (the zipapp bundles) fallback.py
does the same in Python over msgpack. A few checks are outside what msgspec's schema can say and
run after it, on both paths (check_message): a float field must hold a float (msgspec would widen
an integer), and status information must be plain values of bounded nesting.
"""

import struct
from typing import Union

import msgpack

from concoord.errors import WireError
from concoord.wire import fallback
from concoord.wire.messages import (
    MESSAGE_TYPES, VERSION, Accept, CatchupReply, Decision, Heartbeat, HeartbeatReply, Promise,
    StatusReply)
from concoord.wire.schema import MAX_ID_LEN, MAX_LIST, Slot, msgspec
from concoord.wire.types import Ballot, PValue

__all__ = ["VERSION", "HEADER", "MAX_FRAME", "MAX_ID_LEN", "MAX_LIST", "FrameReader",
           "encode_body", "encode_frame", "decode_body", "encode_record", "decode_record"]

HEADER = struct.Struct(">I")
MAX_FRAME = 32 << 20
MAX_MAP = 4096
MAX_PLAIN_DEPTH = 16
_UNPACK_LIMITS = dict(max_bin_len=MAX_FRAME, max_str_len=MAX_FRAME, max_array_len=MAX_LIST,
                      max_map_len=MAX_MAP, max_ext_len=0)


def _check(cond, what):
    if not cond:
        raise WireError(what)


# ---- checks after decoding (both paths) --------------------------------------------------------

_PLAIN = (type(None), bool, int, float, str, bytes)


def check_plain(value, depth=0):
    """Status information: plain msgpack values only, bounded nesting and sizes, string keys
    (msgspec decodes it as Any: these are the limits the msgpack unpacker applied before)."""
    _check(depth < MAX_PLAIN_DEPTH, "value nested too deeply")
    kind = type(value)
    if kind in _PLAIN:
        return
    if kind is list:
        _check(len(value) <= MAX_LIST, "status list too long")
        for item in value:
            check_plain(item, depth + 1)
        return
    _check(kind is dict and len(value) <= MAX_MAP, "bad status value")
    for key, item in value.items():
        _check(type(key) is str and len(key) <= MAX_ID_LEN, "bad string")
        check_plain(item, depth + 1)


def _float(value):
    _check(type(value) is float, "bad number")


def _batch(batch):
    _check(type(batch.time) is float, "bad batch time")


_AFTER_DECODE = {
    Accept: lambda m: _batch(m.batch),
    Decision: lambda m: _batch(m.batch),
    Promise: lambda m: [_batch(p.batch) for p in m.accepted],
    CatchupReply: lambda m: [_batch(batch) for _, batch in m.decisions],
    Heartbeat: lambda m: (_float(m.sent_at), _float(m.lease)),
    HeartbeatReply: lambda m: _float(m.sent_at),
    StatusReply: lambda m: check_plain(m.info),
}


def check_message(msg):
    check = _AFTER_DECODE.get(type(msg))
    if check is not None:
        check(msg)
    return msg


# ---- messages ----------------------------------------------------------------------------------

def _explain(body, exc):
    """Why a frame did not decode, in the words a log reader needs (only on the error path)."""
    try:
        obj = msgpack.unpackb(body, raw=False, **_UNPACK_LIMITS)
    except Exception:
        return f"undecodable frame ({type(exc).__name__})"
    if type(obj) is dict:           # version 2 and before: {"v": version, "t": type, ...}
        return f"unsupported protocol version {obj.get('v')!r}"
    if type(obj) is not list:
        return "frame is not an array"
    tag = obj[0] if obj else None
    if type(tag) is not int:
        return "frame has no message tag"
    if tag // 100 != VERSION:
        return f"unsupported protocol version {tag // 100}"
    if tag % 100 not in MESSAGE_TYPES:
        return f"unknown message type {tag % 100}"
    return f"bad {MESSAGE_TYPES[tag % 100].__name__}: {exc}"


if msgspec is not None:
    _encoder = msgspec.msgpack.Encoder()
    _encode = _encoder.encode
    _decode = msgspec.msgpack.Decoder(
        Union[tuple(MESSAGE_TYPES.values())]).decode
    _ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, ValueError,
               TypeError, OverflowError, MemoryError)

    def encode_frame(msg):
        """The bytes to write on a socket for one message."""
        frame = bytearray(HEADER.size)
        _encoder.encode_into(msg, frame, HEADER.size)
        size = len(frame) - HEADER.size
        if size > MAX_FRAME:
            raise WireError(f"message of {size} bytes exceeds the {MAX_FRAME}-byte frame limit")
        HEADER.pack_into(frame, 0, size)
        return bytes(frame)
else:
    def _encode(msg):
        return msgpack.packb(fallback.to_wire(msg), use_bin_type=True)

    def _decode(body):
        obj = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True,
                              **_UNPACK_LIMITS)
        return fallback.decode_message(obj, VERSION, MESSAGE_TYPES)

    _ERRORS = (fallback.Invalid, msgpack.UnpackException, ValueError, TypeError, OverflowError,
               RecursionError, MemoryError)

    def encode_frame(msg):
        """The bytes to write on a socket for one message."""
        body = _encode(msg)
        if len(body) > MAX_FRAME:
            raise WireError(f"message of {len(body)} bytes exceeds the {MAX_FRAME}-byte "
                            f"frame limit")
        return HEADER.pack(len(body)) + body


def encode_body(msg):
    return _encode(msg)


def decode_body(body):
    """The message in one frame body (bytes or a memoryview); WireError if it is not a valid
    message of this version."""
    try:
        msg = _decode(body)
    except _ERRORS as exc:
        raise WireError(_explain(body, exc)) from None
    except Exception as exc:    # a decoder's surprise on garbage still means a bad frame
        raise WireError(f"undecodable frame ({type(exc).__name__})") from None
    return check_message(msg)


_HEADER_SIZE, _unpack_header = HEADER.size, HEADER.unpack_from


class FrameReader:
    """Turns a byte stream into messages; keeps any partial frame for the next feed."""

    def __init__(self, max_frame=MAX_FRAME):
        self._buffer = bytearray()
        self._max_frame = max_frame

    def feed(self, data):
        """Add received bytes; return the complete messages now available (WireError if bad)."""
        buf = self._buffer
        buf += data
        size, offset, messages = len(buf), 0, []
        with memoryview(buf) as view:       # frames decode in place, without a copy each
            while size - offset >= _HEADER_SIZE:
                (length,) = _unpack_header(buf, offset)
                if length > self._max_frame:
                    raise WireError(f"frame of {length} bytes exceeds the {self._max_frame}-byte "
                                    f"limit")
                end = offset + _HEADER_SIZE + length
                if end > size:
                    break
                messages.append(decode_body(view[offset + _HEADER_SIZE:end]))
                offset = end
        if offset:
            del buf[:offset]
        return messages

    @property
    def pending_bytes(self):
        return len(self._buffer)


# ---- acceptor records (the same strict decoding, for what an acceptor reads back from disk) ----
#
# A record is the msgpack array [kind, value], the same bytes in every version so far: an
# acceptor's log written before the upgrade loads as it is (commands of version 1 had four
# fields; the fifth, thread, defaults to 0).

RECORD_TYPES = {"promise": Ballot, "accept": PValue, "gc": Slot}


def encode_record(record):
    """('promise', Ballot) | ('accept', PValue) | ('gc', slot) -> msgpack bytes."""
    return _encode_record(record)


if msgspec is not None:
    _RECORDS = tuple(msgspec.defstruct(f"{kind.capitalize()}Record", [("value", kind_type)],
                                       tag=kind, array_like=True, frozen=True,
                                       forbid_unknown_fields=True, gc=False)
                     for kind, kind_type in RECORD_TYPES.items())
    _decode_record = msgspec.msgpack.Decoder(Union[_RECORDS]).decode
    _encode_record = _encoder.encode

    def _record_value(data):
        record = _decode_record(data)
        return record.__struct_config__.tag, record.value
else:
    def _encode_record(record):
        kind, value = record
        return msgpack.packb([kind, value], use_bin_type=True)

    def _record_value(data):
        obj = msgpack.unpackb(data, raw=False, use_list=True, **_UNPACK_LIMITS)
        return fallback.decode_record(obj, RECORD_TYPES)


def decode_record(data):
    try:
        kind, value = _record_value(data)
    except _ERRORS as exc:
        raise WireError(f"undecodable record ({type(exc).__name__}: {exc})") from None
    except Exception as exc:
        raise WireError(f"undecodable record ({type(exc).__name__})") from None
    if kind == "accept":
        _batch(value.batch)
    return kind, value
