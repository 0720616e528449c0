"""Finding 2 of issue 19: a client is who it connected as, not whoever names its id.

The id that the object sees (a Lock's holder, what `concoord status` shows) is public; a
request must carry the key that id was derived from. Another client that learnt a victim's
id, here from the status output, can neither release the victim's lock nor pre-empt the
victim's command numbers.
"""

from concoord.client.proxy import ClientProxy
from concoord.wire.messages import OK
from tests.security.latency import LatencyProbe
from tests.security.instance import CLIENT_CREDENTIAL as credential, start_secured
from tests.security.raw_client import RawClient

def test_another_client_cannot_release_or_take_a_victims_lock(harness, tmp_path):
    replica = start_secured(harness, tmp_path, "-o", "concoord.objects.lock.Lock")
    with ClientProxy(replica.address, timeout=30, secret=credential) as victim:
        assert victim._invoke("acquire") == 1
        holder = victim.client_id
        assert holder in replica.status()["object"]        # status shows the holder's id ...
        impostor = RawClient(replica.address, credential)   # ... and the impostor uses it
        with LatencyProbe(replica.address, credential, "finding 2: forged client id",
                          method="locked") as probe:
            for number in range(1, 40):
                reply = impostor.call(holder, number, "release")
                assert reply is None or reply.status != OK, reply
            impostor.close()
        probe.assert_served()
        assert holder in replica.status()["object"]        # still the victim's
        victim._invoke("release")
        assert victim._invoke("acquire") == 2


def test_another_client_cannot_use_a_victims_command_numbers(counter_harness, tmp_path):
    h = counter_harness
    replica = start_secured(h, tmp_path, "-f", h.object_file, "-c", h.class_name)
    with ClientProxy(replica.address, timeout=30, secret=credential,
                     session_lease=None) as victim:
        victim._invoke("increment")
        impostor = RawClient(replica.address, credential)
        for number in range(2, 12):        # the victim's next numbers, as decrement calls
            reply = impostor.call(victim.client_id, number, "decrement")
            assert reply is None or reply.status != OK, reply
        impostor.close()
        for _ in range(3):
            victim._invoke("increment")
        assert victim._invoke("getvalue") == 4
