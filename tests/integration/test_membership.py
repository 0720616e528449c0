"""The view follows the live replicas: a silent replica is removed through the log (after
Timing.dead_after, 5 s) and, once it answers again, rejoins by itself."""

import os
import signal

import pytest

from tests.integration.harness import wait_until

pytestmark = pytest.mark.timeout(120)


def test_a_paused_replica_leaves_the_view_and_rejoins_when_it_resumes(counter_harness):
    h = counter_harness
    replicas, acceptors = h.start_cluster(3, 3)
    leader = h.leader(replicas)
    follower = next(r for r in replicas if r is not leader)
    os.kill(follower.proc.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: follower.address not in leader.status()["replicas"], 20,
                   message="the paused replica to be removed from the view")
        assert len(leader.status()["acceptors"]) == 3, "acceptors are never removed"
        h.run_client("from counterproxy import Counter\nCounter(BOOTSTRAP).increment()\n",
                     bootstrap=[r for r in replicas if r is not follower])
    finally:
        os.kill(follower.proc.pid, signal.SIGCONT)
    wait_until(lambda: follower.address in leader.status()["replicas"], 30,
               message="the resumed replica to rejoin")
    wait_until(lambda: follower.status()["object"] == "The counter value is 1", 30,
               message="the rejoined replica to catch up")


def test_status_shows_every_node_alive_or_not_with_its_lag(counter_harness):
    import json
    h = counter_harness
    replicas, acceptors = h.start_cluster(2, 1)
    leader = h.leader(replicas)
    other = next(r for r in replicas if r is not leader)
    other.kill()
    result = h.concoord("status", "-b", leader.address, "--json")
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    nodes = {n["address"]: n for n in view["nodes"]}
    assert nodes[other.address]["alive"] is False
    assert nodes[leader.address]["alive"] and nodes[leader.address]["lag"] == 0
    assert nodes[acceptors[0].address]["role"] == "acceptor"
    assert view["leader"] == leader.address and view["commands_per_second"] is not None
    table = h.concoord("status", "-b", leader.address).stdout
    assert other.address in table and "NO" in table
