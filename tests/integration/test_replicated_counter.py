"""The README's Counter on 3 replicas and 3 acceptors: concurrent clients, every replica agrees,
and the instance survives kill -9 of one replica and one acceptor."""

import pytest

from tests.integration.harness import wait_until

pytestmark = pytest.mark.timeout(120)

# Runs as its own process; N increments through the proxy given the full bootstrap list.
INCREMENTS = """
import sys
from counterproxy import Counter
n = int(sys.argv[1]) if len(sys.argv) > 1 else {n}
c = Counter(BOOTSTRAP)
for _ in range(n):
    assert c.increment() is None
print("done", n)
"""

GETVALUE = """
from counterproxy import Counter
print(Counter(BOOTSTRAP).getvalue())
"""


def _wait_same_object(replicas, expected):
    """Every replica at the same slot_out, each describing its object as ``expected``."""
    def agreed():
        statuses = [r.status(timeout=1.0) for r in replicas]
        if len({s["slot_out"] for s in statuses}) != 1:
            return None
        return [s["object"] for s in statuses]
    objects = wait_until(agreed, 30, message="the replicas to reach the same slot")
    assert objects == [expected] * len(replicas)


def test_concurrent_clients_then_kill_a_replica_and_an_acceptor(counter_harness):
    h = counter_harness
    replicas, acceptors = h.start_cluster(3, 3)
    for r in replicas:
        status = r.status()
        assert len(status["replicas"]) == 3 and len(status["acceptors"]) == 3
    everyone = replicas  # the clients' bootstrap list: every replica

    clients = [h.start_client(INCREMENTS.format(n=250), bootstrap=everyone) for _ in range(4)]
    for proc in clients:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, f"client failed:\n{out}\n{err}"
        assert out.strip() == "done 250"

    assert h.run_client(GETVALUE, bootstrap=everyone).stdout.strip() == "1000"
    _wait_same_object(replicas, "The counter value is 1000")

    # kill -9 a replica and an acceptor, neither of them the leader.
    leader = h.leader(replicas)
    victim_replica = next(r for r in replicas if r is not leader)
    victim_acceptor = acceptors[0] if acceptors[0].address != leader.address else acceptors[1]
    victim_replica.kill()
    victim_acceptor.kill()
    assert victim_replica.proc.returncode == -9 and victim_acceptor.proc.returncode == -9

    # A new client, still given the whole list (the dead replica included).
    out = h.run_client(INCREMENTS.format(n=100), bootstrap=everyone).stdout
    assert out.strip() == "done 100"
    assert h.run_client(GETVALUE, bootstrap=everyone).stdout.strip() == "1100"

    survivors = [r for r in replicas if r is not victim_replica]
    _wait_same_object(survivors, "The counter value is 1100")
    assert all(n.alive for n in survivors + [a for a in acceptors if a is not victim_acceptor])


def test_kill_the_leader_while_clients_increment(counter_harness):
    """kill -9 of the leader mid-stream: every call still takes effect exactly once."""
    h = counter_harness
    replicas, acceptors = h.start_cluster(3, 3)
    leader = h.leader(replicas)
    clients = [h.start_client(INCREMENTS.format(n=200), bootstrap=replicas) for _ in range(2)]

    def value(node):
        return int(node.status(timeout=1.0)["object"].rsplit(" ", 1)[1])
    wait_until(lambda: value(leader) >= 100, 60, message="the clients to make progress")
    leader.kill()

    for proc in clients:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, f"client failed:\n{out}\n{err}"
    survivors = [r for r in replicas if r is not leader]
    assert h.leader(survivors) in survivors
    assert h.run_client(GETVALUE, bootstrap=replicas).stdout.strip() == "400"
    _wait_same_object(survivors, "The counter value is 400")
