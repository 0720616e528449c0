"""Nodes restarted from their data directories (real processes, SIGKILL)."""

import signal

from concoord.bench.cluster import LocalCluster
from concoord.client.proxy import ClientProxy
from concoord.client.status import query_status
from tests.integration.harness import wait_until

COUNTER = "concoord.objects.counter.Counter"


def test_bootstrap_replica_killed_before_its_first_snapshot_catches_up():
    """Restarted, a replica trusts and asks only the replicas of the view it has on disk: the
    bootstrap replica must not come back knowing only the initial configuration."""
    cluster = LocalCluster(COUNTER).start()
    try:
        first = cluster.replicas[0]
        with ClientProxy(cluster.replicas, timeout=20) as proxy:
            for _ in range(10):
                proxy._invoke("increment")
            cluster.signal(first, signal.SIGKILL)
            cluster.restart(first)              # waits until every replica is at one slot
            proxy._invoke("increment")
        wait_until(lambda: query_status(first)["slot_out"] ==
                   query_status(cluster.replicas[1])["slot_out"], 10)
        assert sorted(query_status(first)["replicas"]) == sorted(cluster.replicas)
        assert "The counter value is 11" in query_status(first)["object"]
    finally:
        cluster.stop()


def test_an_acceptor_restarts_from_its_data_dir_without_bootstrap():
    """`concoord acceptor --data-dir DIR -p PORT` alone resumes the same member; it then counts
    in the quorum (another acceptor is killed and writes still go through)."""
    cluster = LocalCluster(COUNTER).start()
    try:
        restarted, other = cluster.acceptors[0], cluster.acceptors[1]
        with ClientProxy(cluster.replicas, timeout=20) as proxy:
            proxy._invoke("increment")
            cluster.signal(restarted, signal.SIGKILL)
            cluster.procs[restarted].wait()
            cluster._spawn("acceptor", [], restarted)          # no -b
            wait_until(lambda: query_status(restarted)["role"] == "acceptor", 10)
            cluster.signal(other, signal.SIGKILL)
            proxy._invoke("increment")
            assert proxy._invoke("getvalue") == 2
    finally:
        cluster.stop()
