"""Property tests of the wire: the value codec round-trips every supported value with its exact
types, every message round-trips through a frame however the stream is cut, and nothing read
from the network raises anything but WireError (no pickle, no RecursionError, no hang)."""

import builtins
import math
import pickle
import struct
from typing import Tuple

import msgpack
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from concoord.errors import RemoteError, WireError
from concoord.wire.codec import (
    HEADER, MAX_FRAME, MAX_LIST, MAX_MAP, VERSION, FrameReader, decode_body, decode_record, encode_frame,
    encode_record)
from concoord.wire.messages import (MESSAGE_TYPES, STATUSES, ClientReply, Decision, Heartbeat,
                                    Promise, StatusReply)
from concoord.wire.schema import Count, Id, OptionalId, Plain, Seconds, Slot, sequence_of
from concoord.wire.types import Ballot, Batch, Command, Configuration, PValue
from concoord.wire.values import (
    MAX_DEPTH, ExceptionValue, decode_call_arguments, decode_value, encode_call_arguments,
    encode_value)

# The recursive value strategies have a long repr; hypothesis warns when it builds it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---- the value codec ---------------------------------------------------------------------------

def typed(value):
    """A form of ``value`` whose equality also compares types (tuple != list, 1 != True != 1.0),
    float bit patterns (nan == nan, 0.0 != -0.0) and dict order."""
    kind = type(value)
    if kind is float:
        return ("float", struct.pack(">d", value) if not math.isnan(value) else "nan")
    if kind in (list, tuple):
        return (kind.__name__, tuple(typed(v) for v in value))
    if kind in (set, frozenset):
        return (kind.__name__, frozenset(typed(v) for v in value))
    if kind is dict:
        return ("dict", tuple((typed(k), typed(v)) for k, v in value.items()))
    if kind is ExceptionValue:
        return ("exception", value.type_name, typed(value.args))
    return (kind.__name__, value)


big_ints = st.one_of(st.integers(-2**70, 2**70), st.integers(min_value=-2**300, max_value=2**300),
                     st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1,
                                      -2**64, 2**127, -2**127 - 1, 0, -1]))
floats = st.floats(allow_nan=True, allow_infinity=True)
scalars = st.one_of(st.none(), st.booleans(), big_ints, floats, st.text(max_size=20),
                    st.binary(max_size=20))
hashables = st.recursive(
    scalars,
    lambda inner: st.one_of(st.tuples(inner, inner), st.lists(inner, max_size=3).map(tuple),
                            st.frozensets(inner, max_size=3)),
    max_leaves=8)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(hashables, inner, max_size=4),
        st.sets(hashables, max_size=4),
        st.frozensets(hashables, max_size=4)),
    max_leaves=20)


@FAST
@given(values)
def test_every_value_round_trips_with_its_exact_types(value):
    assert typed(decode_value(encode_value(value))) == typed(value)


@FAST
@given(big_ints)
def test_integers_of_any_size_and_sign_round_trip_as_int(number):
    decoded = decode_value(encode_value(number))
    assert type(decoded) is int and decoded == number


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), -0.0, 5e-324, 1.7976931348623157e308])
def test_special_floats_round_trip_bit_exactly(number):
    assert typed(decode_value(encode_value(number))) == typed(number)


def test_nan_round_trips_as_nan():
    assert math.isnan(decode_value(encode_value(float("nan"))))


def test_containers_keep_their_types():
    value = {(1, 2): [1, (2,)], frozenset({3}): {4}, "s": frozenset({(5, 6)}), b"b": ()}
    decoded = decode_value(encode_value(value))
    assert typed(decoded) == typed(value)
    assert type(decoded[(1, 2)][1]) is tuple and type(decoded[frozenset({3})]) is set


@FAST
@given(st.lists(values, max_size=3), st.dictionaries(st.text(max_size=8), values, max_size=3))
def test_call_arguments_round_trip(args, kwargs):
    decoded_args, decoded_kwargs = decode_call_arguments(encode_call_arguments(args, kwargs))
    assert typed(decoded_args) == typed(list(args)) and typed(decoded_kwargs) == typed(kwargs)


builtin_exception_names = sorted(
    name for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
    and not issubclass(obj, (UnicodeError, BaseExceptionGroup)))


@FAST
@given(st.sampled_from(builtin_exception_names), st.lists(scalars, max_size=3))
def test_a_builtin_exception_travels_and_comes_back_as_itself(name, args):
    try:
        original = getattr(builtins, name)(*args)
    except Exception:
        assume(False)    # e.g. SyntaxError(None, None): not constructible with these arguments
    decoded = decode_value(encode_value(original))
    assert isinstance(decoded, ExceptionValue)
    assert decoded.type_name == type(original).__name__      # IOError travels as OSError
    assert typed(decoded.args) == typed(original.args)
    rebuilt = decoded.to_exception()
    assert type(rebuilt) is type(original)
    assert typed(rebuilt.args) == typed(original.args)


class AppError(Exception):
    pass


@FAST
@given(st.lists(scalars, max_size=3))
def test_a_non_builtin_exception_comes_back_as_remote_error(args):
    decoded = decode_value(encode_value(AppError(*args)))
    assert decoded.type_name == "AppError" and typed(decoded.args) == typed(tuple(args))
    rebuilt = decoded.to_exception()
    assert type(rebuilt) is RemoteError and rebuilt.type_name == "AppError"
    assert typed(rebuilt.remote_args) == typed(tuple(args))


def test_exception_args_that_cannot_travel_go_as_their_repr():
    marker = object()
    decoded = decode_value(encode_value(KeyError(marker, 1)))
    assert decoded == ExceptionValue("KeyError", [repr(marker), 1])


@pytest.mark.parametrize("name", ["SystemExit", "KeyboardInterrupt", "GeneratorExit", "print",
                                  "__import__", "NoSuchError", "BaseException"])
def test_names_that_are_not_builtin_exceptions_never_become_them(name):
    rebuilt = ExceptionValue(name, ["x"]).to_exception()
    assert type(rebuilt) is RemoteError and rebuilt.type_name == name


def test_exceptions_nested_in_values_travel_as_exception_values():
    decoded = decode_value(encode_value({"errors": [ValueError("bad"), (AppError(2),)]}))
    assert decoded == {"errors": [ExceptionValue("ValueError", ["bad"]),
                                  (ExceptionValue("AppError", [2]),)]}


@pytest.mark.parametrize("value", [object(), 1j, type, print, range(3), 2.5j])
def test_values_that_cannot_travel_raise_type_error(value):
    with pytest.raises(TypeError):
        encode_value(value)


# ---- hostile value bytes -----------------------------------------------------------------------

def nested(depth, wrap):
    value = None
    for _ in range(depth):
        value = wrap(value)
    return value


@pytest.mark.parametrize("body", [
    b"\x91" * 100_000 + b"\xc0",                               # plain arrays, 100k deep
    b"\x81\xa1k" * 100_000 + b"\xc0",                          # maps, 100k deep
])
def test_deeply_nested_plain_bytes_raise_wire_error(body):
    with pytest.raises(WireError):
        decode_value(body)


def ext_tuple_chain(depth):
    """``depth`` nested EXT_TUPLEs built as raw bytes (no encoder involved)."""
    data = msgpack.packb(None)
    for _ in range(depth):
        data = msgpack.packb(msgpack.ExtType(1, b"\x91" + data))   # tuple of one element
    return data


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 5000])
def test_deeply_nested_ext_values_raise_wire_error_not_recursion_error(depth):
    with pytest.raises(WireError):
        decode_value(ext_tuple_chain(depth))


def test_moderately_nested_values_still_decode():
    assert decode_value(ext_tuple_chain(10)) == nested(10, lambda v: (v,))


def test_whatever_encodes_also_decodes_at_the_depth_limit():
    assert decode_value(encode_value(nested(MAX_DEPTH, lambda v: (v,)))) is not None
    value = nested(MAX_DEPTH + 1, lambda v: (v,))
    try:
        data = encode_value(value)
    except TypeError:
        return      # refused when sent: consistent with the decoder
    assert decode_value(data) == value


@pytest.mark.parametrize("wrap", [lambda v: (v,), lambda v: (1, v), lambda v: frozenset([v])],
                         ids=["tuple", "cons-list", "frozenset"])
def test_deeply_nested_tuples_raise_type_error_when_encoded(wrap):
    with pytest.raises(TypeError):
        encode_value(nested(600, wrap))


def test_deeply_nested_lists_raise_type_error_when_encoded():
    with pytest.raises(TypeError):
        encode_value(nested(5000, lambda v: [v]))


@pytest.mark.parametrize("value", [
    msgpack.Timestamp(1, 0), [1, msgpack.Timestamp(1, 0)], {"k": msgpack.Timestamp(1, 0)},
    {msgpack.Timestamp(1, 0): 1}, [[[msgpack.Timestamp(1, 0)]]]])
def test_msgpack_timestamp_ext_is_rejected(value):
    """msgpack decodes its Timestamp extension itself; our codec never sends one."""
    with pytest.raises(WireError):
        decode_value(msgpack.packb(value))


def test_timestamp_inside_our_own_extensions_is_rejected():
    inner = msgpack.packb([msgpack.Timestamp(1, 0)])
    with pytest.raises(WireError):
        decode_value(msgpack.packb(msgpack.ExtType(1, inner)))      # a tuple holding one


@pytest.mark.parametrize("data", [
    b"\xd4\xfb\x00",                                   # ext -5 (fixext 1)
    b"\xc7\x00\x05",                                   # EXT_BIGINT with no bytes
    b"\xc7\x01\x06\x00",                               # unknown ext 6
    b"\xd4\x01\x01",                                   # EXT_TUPLE whose body is not a list
    b"\xc7\x03\x02\x92\x91\xc0",                       # set of unhashable lists (truncated)
    msgpack.packb(msgpack.ExtType(2, msgpack.packb([[1]]))),    # set containing a list
    msgpack.packb({"a": 1})[:1] + b"\x91\xc0\x01",     # map keyed by a list
    msgpack.packb(msgpack.ExtType(4, msgpack.packb(["E", "notalist"]))),
    msgpack.packb(msgpack.ExtType(4, msgpack.packb([1, []]))),
    b"\xa3\xff\xfe\xfd",                               # invalid utf-8 str
    b"\x01\x02",                                       # trailing bytes
    b"",
])
def test_malformed_value_bytes_raise_wire_error(data):
    with pytest.raises(WireError):
        decode_value(data)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_is_never_accepted_as_a_value(protocol):
    with pytest.raises(WireError):
        decode_value(pickle.dumps({"x": (1, 2)}, protocol=protocol))


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_decode_as_a_value_or_raise_wire_error(data):
    try:
        decode_value(data)
    except WireError:
        pass


# ---- message strategies ------------------------------------------------------------------------

ids = st.text(max_size=12)
counts = st.integers(min_value=0, max_value=2**63 - 1)
slots = st.integers(min_value=1, max_value=2**63 - 1)
ballots = st.builds(Ballot, counts, ids, counts)
commands = st.builds(Command, ids, counts, ids, st.binary(max_size=30), counts)
batches = st.builds(Batch, st.floats(allow_nan=False, allow_infinity=False),
                    st.lists(commands, max_size=3).map(tuple))
pvalues = st.builds(PValue, ballots, slots, batches)
node_groups = st.lists(ids, max_size=4).map(tuple)
configurations = st.builds(Configuration, node_groups, node_groups, node_groups)
plain_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1),
                          st.floats(allow_nan=False), st.text(max_size=10), st.binary(max_size=10))
plain = st.recursive(plain_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10)

FIELD_STRATEGIES = {
    Id: ids, Count: counts, bytes: st.binary(max_size=40),
    Seconds: st.floats(allow_nan=False, allow_infinity=False), OptionalId: st.none() | ids,
    Plain: st.dictionaries(st.text(max_size=6), plain, max_size=4),
    Ballot: ballots, Command: commands, Batch: batches, Configuration: configurations,
    sequence_of(PValue): st.lists(pvalues, max_size=3).map(tuple),
    sequence_of(Tuple[Slot, Batch]): st.lists(st.tuples(slots, batches), max_size=3).map(tuple),
}
FIELD_OVERRIDES = {"status": st.sampled_from(STATUSES)}


def message_strategy(cls):
    return st.builds(cls, **{name: FIELD_OVERRIDES[name] if name in FIELD_OVERRIDES
                             else FIELD_STRATEGIES[kind] for name, kind in cls.FIELD_TYPES.items()})


MESSAGE_CLASSES = sorted(MESSAGE_TYPES.values(), key=lambda cls: cls.TYPE)
any_message = st.one_of(*(message_strategy(cls) for cls in MESSAGE_CLASSES))


def same_message(a, b):
    """Equal with the same classes field by field (a decoded Ballot is a Ballot, not a tuple)."""
    return type(a) is type(b) and a == b and all(
        type(getattr(a, name)) is type(getattr(b, name)) for name in a.FIELD_NAMES)


def test_every_message_field_type_has_a_strategy():
    missing = {(cls.__name__, name) for cls in MESSAGE_CLASSES
               for name, kind in cls.FIELD_TYPES.items()
               if kind not in FIELD_STRATEGIES and name not in FIELD_OVERRIDES}
    assert not missing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda cls: cls.__name__)
def test_each_message_type_round_trips_through_a_frame(cls, data):
    msg = data.draw(message_strategy(cls))
    frame = encode_frame(msg)
    assert struct.unpack(">I", frame[:4])[0] == len(frame) - 4
    (decoded,) = FrameReader().feed(frame)
    assert same_message(decoded, msg)
    assert same_message(decode_body(frame[4:]), msg)


@FAST
@given(st.lists(any_message, min_size=1, max_size=4))
def test_messages_fed_byte_by_byte_come_out_whole_and_in_order(msgs):
    stream = b"".join(encode_frame(m) for m in msgs)
    reader = FrameReader()
    out = []
    for i in range(len(stream)):
        out.extend(reader.feed(stream[i:i + 1]))
    assert len(out) == len(msgs) and all(same_message(a, b) for a, b in zip(out, msgs))
    assert reader.pending_bytes == 0


@FAST
@given(st.lists(any_message, min_size=1, max_size=4), st.data())
def test_messages_fed_in_random_chunks_come_out_whole_and_in_order(msgs, data):
    stream = b"".join(encode_frame(m) for m in msgs)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(stream)), max_size=8)))
    reader, out, start = FrameReader(), [], 0
    for cut in cuts + [len(stream)]:
        out.extend(reader.feed(stream[start:cut]))
        start = cut
    assert out == msgs and reader.pending_bytes == 0


def test_a_batch_keeps_its_float_time_and_commands_as_a_tuple():
    msg = Decision("r1", 3, Batch(0.0, (Command("c", 1, "m", b""),)))
    (decoded,) = FrameReader().feed(encode_frame(msg))
    assert type(decoded.batch) is Batch and type(decoded.batch.commands) is tuple
    assert type(decoded.batch.commands[0]) is Command and type(decoded.batch.time) is float


def test_a_heartbeat_keeps_the_ballot_incarnation_and_configuration():
    msg = Heartbeat("r1", Ballot(4, "r1", 7), 12, Configuration(("r1",), ("a1", "a2"), ("n1",)))
    (decoded,) = FrameReader().feed(encode_frame(msg))
    assert decoded.ballot.incarnation == 7 and type(decoded.config) is Configuration


# ---- hostile frames ----------------------------------------------------------------------------

def feed_all(data):
    """Feed ``data`` to a fresh reader; any exception but WireError fails the test."""
    try:
        FrameReader().feed(data)
    except WireError:
        pass


def decode_all(body):
    try:
        decode_body(body)
    except WireError:
        pass


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_wire_error(data):
    feed_all(data)
    decode_all(data)
    feed_all(HEADER.pack(len(data)) + data)


mutations = st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "set"]),
                               st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4)


def mutate(data, edits):
    data = bytearray(data)
    for kind, pos, byte in edits:
        if kind == "insert":
            data.insert(pos % (len(data) + 1), byte)
        elif data:
            i = pos % len(data)
            if kind == "flip":
                data[i] ^= 1 << (byte % 8)
            elif kind == "set":
                data[i] = byte
            else:
                del data[i]
    return bytes(data)


@FUZZ
@given(any_message, mutations)
def test_mutated_frames_never_raise_anything_but_wire_error(msg, edits):
    frame = encode_frame(msg)
    feed_all(mutate(frame, edits))
    body = mutate(frame[4:], edits)
    decode_all(body)
    feed_all(HEADER.pack(len(body)) + body)


@FUZZ
@given(any_message, st.sampled_from(["v", "t", "src", "ballot", "slot", "batch", "command",
                                     "from_slot", "accepted", "config", "decisions", "info",
                                     "status", "leader", "value", "number"]),
       plain)
def test_a_field_replaced_by_any_value_decodes_or_raises_wire_error(msg, name, value):
    body = msgpack.unpackb(encode_frame(msg)[4:], raw=False)   # [tag, field, ...]
    if name in ("v", "t"):
        body[0] = value                                         # the tag says version and type
    elif name in msg.FIELD_NAMES:
        body[msg.FIELD_NAMES.index(name) + 1] = value
    else:
        body.append(value)                                      # a field this type does not have
    decode_all(msgpack.packb(body, use_bin_type=True))


@pytest.mark.parametrize("length", [MAX_FRAME + 1, 2**32 - 1])
def test_a_length_above_max_frame_raises_at_once(length):
    with pytest.raises(WireError):
        FrameReader().feed(HEADER.pack(length))


def test_a_length_of_exactly_max_frame_waits_for_the_body():
    reader = FrameReader()
    assert reader.feed(HEADER.pack(MAX_FRAME) + b"\x80") == []
    assert reader.pending_bytes == 5


def test_a_frame_larger_than_max_frame_is_refused_when_encoding():
    with pytest.raises(WireError):
        encode_frame(StatusReply("x", {"blob": b"\0" * (MAX_FRAME + 1)}))


def tagged(type_code, *fields, version=VERSION):
    """A frame body of message type ``type_code`` with these fields, as raw msgpack."""
    return msgpack.packb([version * 100 + type_code, *fields], use_bin_type=True)


@pytest.mark.parametrize("body", [
    b"\x91" * 100_000 + b"\xc0",
    tagged(StatusReply.TYPE, "x", {"k": nested(100, lambda v: {"k": v})}),
    tagged(StatusReply.TYPE, "x", {"k": nested(100, lambda v: [v])}),
    b"\x93" + msgpack.packb(VERSION * 100 + StatusReply.TYPE) + b"\xa1x\x81\xa1k"
    + b"\x91" * 100_000 + b"\xc0",                              # 100k deep, as raw bytes
])
def test_deeply_nested_frames_raise_wire_error(body):
    with pytest.raises(WireError):
        decode_body(body)
    with pytest.raises(WireError):
        FrameReader().feed(HEADER.pack(len(body)) + body)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickle_frame_is_rejected(protocol):
    payload = pickle.dumps(Decision("r1", 1, Batch(0.0, ())), protocol=protocol)
    with pytest.raises(WireError):
        decode_body(payload)
    with pytest.raises(WireError):
        FrameReader().feed(HEADER.pack(len(payload)) + payload)


@pytest.mark.parametrize("body", [
    tagged(7, "r", 1, [0.0, []], version=VERSION + 1),                    # future version
    msgpack.packb([7, "r", 1, [0.0, []]]),                                # no version
    tagged(99, "r"),                                                      # unknown type
    tagged(7, "r", 1),                                                    # missing field
    tagged(7, "r", 1, [0.0, []], 1),                                      # extra field
    tagged(7, "r", -1, [0.0, []]),                                        # negative
    tagged(7, "r", True, [0.0, []]),                                      # bool is no int
    tagged(7, "r", 2**63, [0.0, []]),                                     # out of range
    tagged(7, "r", 1, [float("nan"), []]),                                # nan time
    tagged(7, "r", 1, [float("inf"), []]),                                # infinite time
    tagged(7, "r", 1, [1, []]),                                           # int time
    tagged(7, "r" * 257, 1, [0.0, []]),                                   # id too long
    tagged(2, "r", "c", 1, 9, b"", None),                                 # bad status
    tagged(2, "r", "c", 1, True, b"", None),                              # bool status
    tagged(11, "r", [[0, [0.0, []]]]),                                    # slot 0 decision
    tagged(4, "r", [1, "a"], 1, []),                                      # ballot of 2 fields
    tagged(8, "r", [1, "a", 0], 1, [["r"], ["a"]]),                       # configuration of 2
    tagged(8, "r", [1, "a", 0], 1, [["r"], ["a"], []], 1, 0.5),           # int sent_at
    tagged(9, "r", [1, "a", 0], float("nan")),                            # nan sent_at
    tagged(7, "r", 1, [0.0, [["c", 1, "m", "not bytes", 0]]]),           # str args
    tagged(7, "r", 1, [0.0, [["c", 1, "m", b"", 0, 1]]]),                # command of 6 fields
    tagged(13, "r", {"k": msgpack.ExtType(1, b"x")}),                     # ext in status
    tagged(13, "r", {"k": {1: 2}}),                                       # non-str status key
    tagged(13, "r", {"k": [None] * (MAX_LIST + 1)}),                      # list too long
    tagged(13, "r", {"k": {str(i): 0 for i in range(MAX_MAP + 1)}}),      # map too large
    tagged(7, "r", 1, [0.0, [["c", 1, "m", b""]] * (MAX_LIST + 1)]),      # batch too long
])
def test_invalid_fields_are_rejected(body):
    with pytest.raises(WireError):
        decode_body(body)


def test_a_frame_that_is_not_a_message_is_rejected():
    for value in ([1, 2], 5, "x", None, {}, [], [VERSION * 100 + 7.0]):
        with pytest.raises(WireError):
            decode_body(msgpack.packb(value))


def test_a_version_2_frame_is_refused_with_its_version_named():
    old = msgpack.packb({"v": 2, "t": 7, "src": "r", "slot": 1, "batch": [0.0, []]})
    with pytest.raises(WireError, match="unsupported protocol version 2"):
        decode_body(old)


def test_a_trailing_field_with_a_default_may_be_left_out():
    """As a version-1 command left out its thread: the field takes its declared default."""
    ballot = Ballot(1, "a", 0)
    assert decode_body(tagged(4, "r", list(ballot), 1, [])) == Promise("r", ballot, 1, (), 1)
    assert decode_body(tagged(7, "r", 1, [0.5, [["c", 1, "m", b""]]])) == \
        Decision("r", 1, Batch(0.5, (Command("c", 1, "m", b"", 0),)))


def test_replies_encode_compactly():
    """Arrays, not maps: a reply carries no field names."""
    assert len(encode_frame(ClientReply("r", "c", 1, 0, b"\xc0", None))) < 24


# ---- acceptor records (read back from disk with the same strictness) ---------------------------

records = st.one_of(st.tuples(st.just("promise"), ballots), st.tuples(st.just("accept"), pvalues),
                    st.tuples(st.just("gc"), slots))


@FAST
@given(records)
def test_acceptor_records_round_trip(record):
    decoded = decode_record(encode_record(record))
    assert decoded == record and type(decoded[1]) is type(record[1])


@FUZZ
@given(records, mutations)
def test_mutated_records_decode_or_raise_wire_error(record, edits):
    try:
        decode_record(mutate(encode_record(record), edits))
    except WireError:
        pass


@pytest.mark.parametrize("data", [b"", b"\x92\xa4nope\x01", b"\x92\x91\xc0\x01", b"\x91\xa2gc",
                                  b"\x92\xa2gc\x00", msgpack.packb(["promise", [1, "x"]]),
                                  pickle.dumps(("gc", 3))])
def test_malformed_records_raise_wire_error(data):
    with pytest.raises(WireError):
        decode_record(data)
