"""What the README promises replicated objects about order across a snapshot round trip."""

from concoord.wire.values import decode_value, encode_value


def test_dicts_and_lists_keep_their_order_across_an_encoding():
    value = {"b": 1, "a": [3, 1, 2], 7: {"z": 0, "y": 1}}
    decoded = decode_value(encode_value(value))
    assert decoded == value
    assert list(decoded) == list(value) and list(decoded[7]) == ["z", "y"]
    assert decoded["a"] == [3, 1, 2]


def test_a_set_keeps_its_elements_but_not_its_history():
    """Its iteration order may change (the README says not to depend on it)."""
    survivors = set(range(100))
    for number in range(95):
        survivors.discard(number)
    survivors |= {8, 1000}
    assert decode_value(encode_value(survivors)) == survivors
