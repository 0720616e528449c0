"""The value codec's limits against requests built to be slow: hash collisions, huge ints."""

import msgpack
import pytest

from concoord.errors import WireError
from concoord.wire.values import (EXT_BIGINT, EXT_SET, MAX_COLLISIONS, MAX_INT_BYTES,
                                  decode_call_arguments, decode_value, encode_call_arguments,
                                  encode_value)

P = 2**61 - 1


def _colliding(n):
    return [k * P + 7 for k in range(1, n + 1)]


def _call_with_set(items):
    return msgpack.packb([[msgpack.ExtType(EXT_SET, encode_value(items))], {}])


def test_a_few_collisions_pass_many_are_refused():
    args, _ = decode_call_arguments(_call_with_set(_colliding(MAX_COLLISIONS + 1)))
    assert len(args[0]) == MAX_COLLISIONS + 1
    with pytest.raises(WireError, match="collide"):
        decode_call_arguments(_call_with_set(_colliding(MAX_COLLISIONS + 2)))


def test_the_budget_is_per_call_not_per_container():
    half = _colliding(MAX_COLLISIONS)
    sets = [msgpack.ExtType(EXT_SET, encode_value(half)) for _ in range(3)]
    with pytest.raises(WireError, match="collide"):
        decode_call_arguments(msgpack.packb([sets, {}]))


def test_colliding_dict_keys_are_refused_too():
    keys = msgpack.Packer().pack_map_pairs(
        [(msgpack.ExtType(EXT_BIGINT, k.to_bytes(16, "big", signed=True)), 0)
         for k in _colliding(MAX_COLLISIONS + 2)])
    with pytest.raises(WireError, match="collide"):
        decode_call_arguments(b"\x92\x91" + keys + b"\x80")


def test_equal_items_and_ordinary_values_are_not_collisions():
    data = _call_with_set([7] * 1000 + list(range(100_000)))
    assert decode_call_arguments(data)[0][0] == set(range(100_000))
    big = {(i, str(i)): frozenset({i, -i}) for i in range(20_000)}
    assert decode_call_arguments(encode_call_arguments([big], {}))[0][0] == big


def test_snapshots_and_replies_have_no_collision_budget():
    data = msgpack.ExtType(EXT_SET, encode_value(_colliding(300)))
    assert len(decode_value(msgpack.packb(data))) == 300


def test_integers_are_capped_both_ways():
    largest = 2**(8 * MAX_INT_BYTES - 1) - 1
    assert decode_value(encode_value(largest)) == largest
    with pytest.raises(TypeError):
        encode_value(largest * 2**8)
    too_big = msgpack.packb(msgpack.ExtType(EXT_BIGINT, b"\x01" * (MAX_INT_BYTES + 1)))
    with pytest.raises(WireError, match="integer"):
        decode_value(too_big)
