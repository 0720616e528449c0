"""Finding 3 of issue 19: one request must not freeze a node with hash collisions.

Integers k * (2**61 - 1) + 7 all hash alike, so a set built of them costs n**2/2 comparisons:
48,000 of them froze a leader for ~20 s. Decoding now refuses a request whose sets or dict keys
collide more than a few times, in time linear in its size, before the leader proposes it (so
no replica decodes it from the log), and the instance keeps serving.
"""

import msgpack

from concoord.client.proxy import ClientProxy
from concoord.wire.messages import REJECTED
from concoord.wire.values import EXT_BIGINT, EXT_SET, decode_value, encode_value
from tests.integration.conftest import README_COUNTER
from tests.security.instance import CLIENT_CREDENTIAL, start_secured
from tests.security.latency import LatencyProbe
from tests.security.raw_client import RawClient

COLLIDING = 48_000
P = 2**61 - 1

SINK = README_COUNTER + '''
    def take(self, *args, **kwargs):
        self.value += 1
        return len(args)
'''


def _colliding_arguments():
    """take(<set of 48,000 colliding ints>) and take(<dict with them as keys>), encoded by
    hand: building that set or dict in this process would itself take quadratic time."""
    ints = [k * P + 7 for k in range(1, COLLIDING + 1)]
    as_set = msgpack.ExtType(EXT_SET, encode_value(ints))
    keys = msgpack.Packer(use_bin_type=True).pack_map_pairs(
        [(msgpack.ExtType(EXT_BIGINT, i.to_bytes(16, "big", signed=True)), 0) for i in ints])
    as_dict = b"\x92\x91" + keys + b"\x80"       # [[{...}], {}]
    return [msgpack.packb([[as_set], {}], use_bin_type=True), as_dict]


def test_a_colliding_set_is_refused_quickly_and_others_are_served(harness, tmp_path):
    harness.write_object(SINK, "counter.py", "Counter")
    replica = start_secured(harness, tmp_path, "-f", "counter.py", "-c", "Counter")
    attacks = _colliding_arguments()
    attacker = RawClient(replica.address, CLIENT_CREDENTIAL)
    with LatencyProbe(replica.address, CLIENT_CREDENTIAL, "finding 3: 48,000 colliding ints "
                      "(as a set, as dict keys), 5 requests each") as probe:
        for number in range(1, 11):
            reply = attacker.call_as("attacker-key", number, "take", attacks[number % 2])
            assert reply.status == REJECTED, reply      # refused before it was proposed
            error = decode_value(reply.value)
            assert error.type_name == "TypeError" and "collide" in error.args[0], error
    attacker.close()
    probe.assert_served()
    with ClientProxy(replica.address, timeout=60, secret=CLIENT_CREDENTIAL) as client:
        # Ordinary sets and dicts, large ones too, still travel.
        assert client._invoke("take", (set(range(50_000)), {i: i for i in range(50_000)},
                                       frozenset(("a", "b")))) == 3
        assert client._invoke("getvalue") == 1          # the refused calls never ran
