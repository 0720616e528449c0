"""Finding 6 of issue 19 (in part): one connection cannot mint client ids without end.

Every new client id costs an entry in the replicated client table on every replica (100,000
session-less ids added 68 MiB). A connection may now use only a few ids; one that keeps minting
them is disconnected, and the instance keeps serving.
"""

from concoord.runtime.admission import MAX_IDS_PER_CONNECTION
from tests.security.instance import CLIENT_CREDENTIAL, start_secured
from tests.security.latency import LatencyProbe
from tests.security.raw_client import RawClient

MINTED = 1000


def test_a_connection_minting_client_ids_is_disconnected(counter_harness, tmp_path):
    h = counter_harness
    replica = start_secured(h, tmp_path, "-f", h.object_file, "-c", h.class_name)
    with LatencyProbe(replica.address, CLIENT_CREDENTIAL, "finding 6: one connection minting "
                      "1,000 client ids") as probe:
        attacker = RawClient(replica.address, CLIENT_CREDENTIAL)
        answered = 0
        for i in range(MINTED):
            if attacker.call_as(f"minted-{i}", 1, "getvalue") is None:
                break           # disconnected
            answered += 1
        attacker.close()
    probe.assert_served()
    assert answered == MAX_IDS_PER_CONNECTION
