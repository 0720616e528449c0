"""The value codec's flat fast path (msgspec, in C) accepts only what the general decoder
accepts, and decodes it to the very same value: for any bytes, either the fast path declines,
or both agree exactly (types included)."""

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concoord.errors import WireError
from concoord.wire import values
from concoord.wire.values import MAX_COLLISIONS, encode_call_arguments, encode_value
from tests.wire.test_codec_properties import mutate, mutations, typed
from tests.wire.test_codec_properties import values as any_values

pytestmark = [pytest.mark.skipif(not values._FLAT, reason="msgspec is not installed"),
              pytest.mark.filterwarnings("ignore:Generating overly large repr")]
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def general(data, budget):
    try:
        return ("ok", typed(values._unpack(bytes(data), 0, values._Collisions(budget))))
    except WireError:
        return ("refused",)


def check_agrees(data):
    for key, budget in ((None, None), (MAX_COLLISIONS, MAX_COLLISIONS)):
        try:
            fast = values._FLAT[key](data)
        except values._NOT_FLAT:
            continue
        assert general(data, budget) == ("ok", typed(fast)), data[:80]
    try:
        args, kwargs = values._FLAT["call"](data)
    except values._NOT_FLAT:
        return
    assert general(data, MAX_COLLISIONS) == ("ok", typed([args, kwargs]))
    assert values.decode_call_arguments(data) == (args, kwargs)


@SETTINGS
@given(any_values, mutations)
def test_any_value_and_its_mutations_decode_alike_on_both_paths(value, edits):
    data = encode_value(value)
    check_agrees(data)
    check_agrees(mutate(data, edits))


@SETTINGS
@given(st.lists(any_values, max_size=3), st.dictionaries(st.text(max_size=5), any_values,
                                                         max_size=3), mutations)
def test_call_arguments_and_their_mutations_decode_alike_on_both_paths(args, kwargs, edits):
    data = encode_call_arguments(args, kwargs)
    check_agrees(data)
    check_agrees(mutate(data, edits))


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_decode_alike_on_both_paths(data):
    check_agrees(data)


@pytest.mark.parametrize("data", [
    msgpack.packb("\u00e9" * (4 << 20) + "\u00e9"),            # fits 16 MB? the general path says
    msgpack.packb({str(i): i for i in range(MAX_COLLISIONS + 2)}),
    msgpack.packb([[1], {str(i): i for i in range(MAX_COLLISIONS + 2)}]),
    msgpack.packb(msgpack.Timestamp(1, 0)), msgpack.packb([msgpack.Timestamp(1, 0)]),
    msgpack.packb([1]) + b"\x00", msgpack.packb(2**64 - 1), msgpack.packb(-2**63),
    b"\xca\x3f\xc0\x00\x00",                                    # float32
])
def test_edges_decode_alike_on_both_paths(data):
    check_agrees(data)


def test_flat_values_take_the_fast_path():
    for value in (None, True, 7, -1.5, "x", [1, "a", None], {"k": 2.5}):
        assert typed(values._FLAT[None](encode_value(value))) == typed(value)
    assert values._FLAT["call"](encode_call_arguments([1, "x"], {"k": True})) == \
        ([1, "x"], {"k": True})


# Written by the value codec before msgspec (wire version 2): a snapshot-shaped value and three
# flat ones. Snapshots on disk and replies in flight decode to the same values after the upgrade.
WRITTEN_BEFORE = {
    "962a83a576616c756507a77761697465727392c705019201a26331c705019202a26332a468656c64c70302920"
    "30481a263319205c7090540000000000000000081a26331cb402900000000000091a263399192019391af3132"
    "372e302e302e313a313430303091af3132372e302e302e313a313530303090":
        [42, {"value": 7, "waiters": [(1, "c1"), (2, "c2")], "held": {3, 4}},
         {"c1": [5, 2**70]}, {"c1": 12.5}, ["c9"],
         [[1, [["127.0.0.1:14000"], ["127.0.0.1:15000"], []]]]],
    "07": 7, "9201a178": [1, "x"], "81a16bc0": {"k": None},
}


@pytest.mark.parametrize("data", sorted(WRITTEN_BEFORE))
def test_values_written_before_msgspec_decode_the_same(data):
    value = WRITTEN_BEFORE[data]
    assert typed(values.decode_value(bytes.fromhex(data))) == typed(value)
    assert encode_value(value) == bytes.fromhex(data)      # and the encoder writes them alike
