"""Every call's arguments, however small, are checked before the leader proposes the call.

Arguments up to 1 KiB used to skip that check: a few malformed bytes were proposed, entered the
log and were decoded by every replica (and again on every replay), only to fail there. Now the
node that receives the request decodes them within the caps and refuses the request: the log
does not move.
"""

import msgpack

from concoord.client.proxy import ClientProxy
from concoord.wire.messages import OK, REJECTED
from concoord.wire.values import EXT_BIGINT, EXT_SET, decode_value, encode_call_arguments
from tests.security.instance import CLIENT_CREDENTIAL, start_secured
from tests.security.latency import LatencyProbe
from tests.security.raw_client import RawClient

MALFORMED = [
    b"\xc1",                                   # a byte msgpack never uses
    b"\x01",                                   # not [args, kwargs]
    b"\x92\x90",                               # cut short
    b"\x92\x91\xc1\x80",                       # a bad byte inside
    b"\x92\x90\x81\x01\x02",                   # a keyword that is not a string
    b"\x92\x90\x80\x00",                       # extra bytes after the value
    b"\x92\x91\xd6\xff\x00\x00\x00\x00\x80",   # msgpack's own Timestamp type
    msgpack.packb([[msgpack.ExtType(EXT_BIGINT, b"")], {}]),            # an empty integer
    msgpack.packb([[msgpack.ExtType(EXT_SET, b"\x01")], {}]),           # a set of no list
    msgpack.packb([[msgpack.ExtType(99, b"")], {}]),                    # an unknown type
]


def test_small_malformed_arguments_are_refused_before_they_are_proposed(counter_harness,
                                                                        tmp_path):
    replica = start_secured(counter_harness, tmp_path, "-f", "counter.py", "-c", "Counter")
    with ClientProxy(replica.address, timeout=60, secret=CLIENT_CREDENTIAL) as client:
        client._invoke("getvalue")          # the replica leads (a raw call is not redirected)
    attacker = RawClient(replica.address, CLIENT_CREDENTIAL)
    assert attacker.call_as("attacker-key", 1, "increment").status == OK
    before = replica.status()["slot_out"]
    for number, args in enumerate(MALFORMED, start=2):
        assert len(args) <= 1024
        reply = attacker.call_as("attacker-key", number, "increment", args)
        assert reply.status == REJECTED, (args, reply)
        error = decode_value(reply.value)
        assert error.type_name == "TypeError" and "malformed arguments" in error.args[0], error
    assert replica.status()["slot_out"] == before        # none of them entered the log
    # Well-formed small arguments, and none at all, still pass.
    valid = encode_call_arguments([], {})
    assert attacker.call_as("attacker-key", 100, "increment", valid).status == OK
    with LatencyProbe(replica.address, CLIENT_CREDENTIAL, "small malformed arguments, "
                      f"{len(MALFORMED)} kinds sent in a loop", method="increment") as probe:
        number = 1000
        for _ in range(20):
            for args in MALFORMED:
                number += 1
                assert attacker.call_as("attacker-key", number, "increment",
                                        args).status == REJECTED
    attacker.close()
    probe.assert_served()
    with ClientProxy(replica.address, timeout=60, secret=CLIENT_CREDENTIAL) as client:
        # the attacker's two good calls, the probe's first call and its loop; nothing else ran
        assert client._invoke("getvalue") == 3 + len(probe.latencies)
