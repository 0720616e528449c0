"""Nodes restarted from their data directories (real processes, SIGKILL)."""

import signal

from concoord import security
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


def test_a_bootstrap_replica_killed_right_after_admitting_its_first_acceptor_keeps_it():
    """Bug (issue 13, _genesis_join): the bootstrap replica answered its first acceptor's join
    before recording the initial configuration (a thread wrote genesis.json up to 0.1 s
    later). SIGKILLed right after the answer, it came back as a new instance with no acceptor,
    while the acceptor it had admitted went on as a member of the old one."""
    cluster = LocalCluster(COUNTER, replicas=1, acceptors=1)
    try:
        bootstrap, acceptor = cluster.replicas[0], cluster.acceptors[0]
        cluster._spawn("replica", [], bootstrap)
        cluster._wait(lambda: query_status(bootstrap), "the bootstrap replica to answer")
        joining = ClientProxy([bootstrap], timeout=20, role=security.NODE)
        try:
            joining._invoke("@join", ("acceptor", acceptor), {})
            cluster.signal(bootstrap, signal.SIGKILL)     # at once: no time for a lazy write
        finally:
            joining.close()
        cluster.procs[bootstrap].wait()
        cluster._spawn("replica", [], bootstrap)
        cluster._wait(lambda: query_status(bootstrap), "the restarted replica to answer")
        assert query_status(bootstrap)["acceptors"] == [acceptor]
    finally:
        cluster.stop()
