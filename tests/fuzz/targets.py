"""Fuzz targets: functions of one input (bytes) that must never fail except in the documented
way. Run coverage-guided by scripts/fuzz.py (atheris), and over a fixed corpus plus random
inputs by tests/fuzz/test_targets.py.

- wire: the value codec, the frame reader (fed in arbitrary pieces), the message decoder and
  the acceptor's disk records may only raise WireError; whatever decodes re-encodes to bytes
  that decode to the same thing.
- dns: the nameserver's query handler returns a reply (bytes) or None and never raises.
"""

import math
import time

import msgpack

from concoord.errors import WireError
from concoord.wire.codec import FrameReader, decode_body, decode_record, encode_body, \
    encode_record
from concoord.wire.messages import (Accept, Accepted, ClientReply, ClientRequest, Decision,
                                    Heartbeat, Prepare, Promise, StatusRequest)
from concoord.wire.types import Ballot, Batch, Command, Configuration, PValue
from concoord.wire.values import decode_value, encode_call_arguments, encode_value

SLOW = 1.0     # seconds: one input taking longer is a hang


class FuzzFailure(AssertionError):
    pass


def _timed(function, data):
    started = time.monotonic()
    try:
        return function(data)
    finally:
        if time.monotonic() - started > SLOW:
            raise FuzzFailure(f"{function.__name__} took over {SLOW} s on {data[:64]!r}")


def _value(data):
    try:
        value = decode_value(data)
    except WireError:
        return
    again = decode_value(encode_value(value))     # anything we accept, we can send back ...
    if not _same(again, value):                    # ... unchanged
        raise FuzzFailure(f"value does not round-trip: {data!r}")


def _same(a, b):
    """Equal values of equal types (NaN equals NaN; sets compare without order)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):     # in order: keys may be NaN, which equals nothing
        return _same(list(a.items()), list(b.items()))
    return a == b


def _message(data):
    try:
        msg = decode_body(data)
    except WireError:
        return
    if decode_body(encode_body(msg)) != msg:
        raise FuzzFailure(f"message does not round-trip: {data!r}")


def _frames(data):
    """The frame reader fed ``data`` in pieces whose sizes the input itself chooses."""
    reader, offset = FrameReader(max_frame=1 << 16), 0
    step = (data[0] % 7) + 1 if data else 1
    try:
        while offset < len(data):
            reader.feed(data[offset:offset + step])
            offset += step
    except WireError:
        pass


def _record(data):
    try:
        record = decode_record(data)
    except WireError:
        return
    if decode_record(encode_record(record)) != record:
        raise FuzzFailure(f"disk record does not round-trip: {data!r}")


def wire(data):
    for function in (_value, _message, _frames, _record):
        _timed(function, data)


def dns_query(data):
    from concoord.dns.responder import respond
    for over_tcp in (False, True):
        reply = _timed(lambda wire: respond(_zone(), wire, over_tcp), data)
        if reply is not None and not isinstance(reply, bytes):
            raise FuzzFailure(f"reply is {type(reply).__name__}, not bytes")


_ZONE = []


def _zone():
    if not _ZONE:
        from concoord.dns.view import View
        from concoord.dns.zone import build_zone
        view = View(replicas=("10.0.0.1:14000", "10.0.0.2:14001", "[2001:db8::7]:14002"),
                    acceptors=("10.0.0.9:15000",), nameservers=("10.0.0.5:53",),
                    leader="10.0.0.1:14000")
        _ZONE.append(build_zone(view, "counterdomain", 7, own_nameserver="10.0.0.5:53"))
    return _ZONE[0]


def wire_corpus():
    """Real encodings of every kind the decoders accept, so mutations start deep inside."""
    ballot = Ballot(3, "127.0.0.1:14000", 1795529621391164933)
    command = Command("c0ffee", 7, "increment", encode_call_arguments([1, "x"], {"k": 2.5}))
    batch = Batch(1.5, (command, Command("c1", 1, "@join", encode_call_arguments(
        ["replica", "127.0.0.1:14001"], {}))))
    messages = [ClientRequest("c0ffee", command), ClientReply("r", "c0ffee", 7, 0, b"\xc0", None),
                Prepare("r", ballot, 4), Promise("a", ballot, 4, (PValue(ballot, 4, batch),), 1),
                Accept("r", ballot, 5, batch, 1), Accepted("a", ballot, 5),
                Decision("r", 5, batch), StatusRequest("s"),
                Heartbeat("r", ballot, 9, Configuration(("r",), ("a",)), 2.5, 0.25)]
    corpus = [encode_body(m) for m in messages]
    corpus += [encode_value(v) for v in ([1, (2, 3), {4, 5}, frozenset({6})], {"a": b"\x00"},
                                         2**80, -1.5, "\u00e9", None, True)]
    corpus += [encode_record(("promise", ballot)), encode_record(("gc", 12)),
               encode_record(("accept", PValue(ballot, 4, batch)))]
    corpus.append(msgpack.packb(msgpack.Timestamp(1, 0)))
    return corpus


def dns_corpus():
    import dns.message
    import dns.rdatatype
    corpus = []
    for name, rdtype in (("counterdomain.", "A"), ("_concoord._tcp.counterdomain.", "SRV"),
                         ("counterdomain.", "TXT"), ("ns1.counterdomain.", "AAAA"),
                         ("counterdomain.", "SOA"), ("other.", "NS"), ("counterdomain.", "AXFR")):
        query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype), use_edns=0)
        corpus.append(query.to_wire())
    return corpus
