"""Finding 5 of issue 19: replies that clients leave unread have a node-wide budget.

Each connection could queue up to 64 MiB of replies it does not read, but nothing bounded the
sum: 16 connections leaving 7 replies of 8 MiB unread took a replica from 64 to 1,553 MiB. Now,
once the replies queued on all connections exceed the node's budget, a connection that already
has a large backlog is disconnected; clients that read their replies are served.
"""

import socket

from tests.integration.conftest import README_COUNTER
from tests.integration.harness import wait_until
from tests.security.instance import CLIENT_CREDENTIAL, start_secured
from tests.security.latency import LatencyProbe
from tests.security.raw_client import RawClient

READERS_THAT_NEVER_READ = 16
REPLIES_EACH = 7
BIG = README_COUNTER + '''
    def big(self):
        return b"x" * (8 << 20)
'''


def _rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


def test_unread_replies_are_bounded_node_wide(harness, tmp_path):
    harness.write_object(BIG, "counter.py", "Counter")
    replica = start_secured(harness, tmp_path, "-f", "counter.py", "-c", "Counter")
    before = _rss_mib(replica.proc.pid)
    attackers = []
    # Making 112 replies of 8 MiB can stall a node on a busy 2-core machine for seconds (CPU,
    # not memory: not what this test is about), so the probe has no session to lose meanwhile.
    with LatencyProbe(replica.address, CLIENT_CREDENTIAL, "finding 5: 16 connections x 7 "
                      "unread 8 MiB replies", session_lease=None) as probe:
        for i in range(READERS_THAT_NEVER_READ):
            attacker = RawClient(replica.address, CLIENT_CREDENTIAL)
            attacker.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            key = f"hoarder-{i}"
            for number in range(1, REPLIES_EACH + 1):
                attacker.send_as(key, number, "big")
            attackers.append(attacker)
        # 16 x 56 MiB is far over the node's 256 MiB budget: most of them must be closed.
        wait_until(lambda: _slow_readers(replica) >= READERS_THAT_NEVER_READ // 2, 120,
                   message="the replica to disconnect the connections that do not read")
        peak = _rss_mib(replica.proc.pid)
    probe.assert_served()
    for attacker in attackers:
        attacker.close()
    print(f"finding 5: replica RSS {before} MiB before, {peak} MiB during; "
          f"{_slow_readers(replica)} of {READERS_THAT_NEVER_READ} hoarding connections closed")


def _slow_readers(replica):
    return replica.log().count("slow reader")
