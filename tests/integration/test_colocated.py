"""`concoord replica --with-acceptor`: a replica and an acceptor in one process (real processes,
SIGKILL, restarts from --data-dir)."""

import os
import signal
import subprocess
import sys

from concoord.bench.cluster import LocalCluster
from concoord.client.proxy import ClientProxy
from concoord.client.status import query_status
from tests.integration.harness import wait_until

COUNTER = "concoord.objects.counter.Counter"


def _increment(proxy, times):
    """``times`` acknowledged increments (each returned, so each is in the log)."""
    for _ in range(times):
        proxy._invoke("increment")
    return times


def test_a_colocated_instance_survives_sigkill_of_the_leader_and_of_a_follower():
    cluster = LocalCluster(COUNTER, layout="colocated").start()
    try:
        assert len(cluster.procs) == 3             # three processes for six members
        acknowledged = 0
        with ClientProxy(cluster.replicas, timeout=30) as proxy:
            acknowledged += _increment(proxy, 50)
            leader = cluster.leader()
            cluster.signal(leader, signal.SIGKILL)        # its acceptor dies with it
            acknowledged += _increment(proxy, 50)
            assert proxy._invoke("getvalue") == acknowledged
            cluster.restart(leader)
            follower = next(r for r in cluster.replicas if r != cluster.leader())
            cluster.signal(follower, signal.SIGKILL)
            acknowledged += _increment(proxy, 50)
            assert proxy._invoke("getvalue") == acknowledged
            cluster.restart(follower)
            acknowledged += _increment(proxy, 10)
            assert proxy._invoke("getvalue") == acknowledged
        for replica in cluster.replicas:                 # every member back in every view
            view = query_status(replica)
            assert sorted(view["acceptors"]) == sorted(cluster.acceptors)
            assert sorted(view["replicas"]) == sorted(cluster.replicas)
    finally:
        cluster.stop()


def test_the_colocated_acceptor_is_reachable_on_its_own_port():
    cluster = LocalCluster(COUNTER, layout="colocated").start()
    try:
        with ClientProxy(cluster.replicas, timeout=30) as proxy:
            _increment(proxy, 5)
        for acceptor in cluster.acceptors:
            status = query_status(acceptor)
            assert status["role"] == "acceptor" and status["node"] == acceptor
            # Remote leaders reach it over TCP: every acceptor accepted the slots.
            assert status["accepted_slots"] > 0
    finally:
        cluster.stop()


def _restart_without_ports(cluster, address):
    """The replica command with only its --data-dir: both ports come from the directory."""
    data_dir = os.path.join(cluster.workdir, f"replica-{address.rpartition(':')[2]}")
    with open(os.path.join(cluster.workdir, "restarted.log"), "ab") as log:
        cluster.procs[address] = subprocess.Popen(
            [sys.executable, "-m", "concoord", "replica", "-o", COUNTER, "--with-acceptor",
             "--data-dir", data_dir], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
    return data_dir


def test_a_restart_from_the_data_dir_keeps_the_acceptors_promises():
    cluster = LocalCluster(COUNTER, layout="colocated").start()
    try:
        with ClientProxy(cluster.replicas, timeout=30) as proxy:
            _increment(proxy, 20)
        before = {a: query_status(a)["promised"] for a in cluster.acceptors}
        assert all(promised[0] >= 1 for promised in before.values())
        cluster.kill_all()                               # the whole instance at once
        for replica in cluster.replicas:
            data_dir = _restart_without_ports(cluster, replica)
            assert os.path.exists(os.path.join(data_dir, "acceptor", "acceptor.log"))
        cluster.wait_converged()
        for acceptor, promised in before.items():        # same address, promises kept
            after = wait_until(lambda: query_status(acceptor), 10)["promised"]
            assert after >= promised
        with ClientProxy(cluster.replicas, timeout=30) as proxy:
            assert proxy._invoke("getvalue") == 20       # no acknowledged write lost
            proxy._invoke("increment")
            assert proxy._invoke("getvalue") == 21
    finally:
        cluster.stop()


def _replica(*args):
    return subprocess.run([sys.executable, "-m", "concoord", "replica",
                           "-o", COUNTER, *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_bad_colocated_flags_are_one_line_usage_errors():
    alone = _replica("--acceptor-port", 14999)
    assert alone.returncode == 2 and "--acceptor-port needs --with-acceptor" in alone.stderr
    same = _replica("--with-acceptor", "-p", 14998, "--acceptor-port", 14998)
    assert same.returncode == 2 and "the replica's own port" in same.stderr
    assert same.stderr.strip().count("\n") == 0
    helped = subprocess.run([sys.executable, "-m", "concoord", "replica", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert "--with-acceptor" in helped.stdout and "DIR/acceptor" in helped.stdout
