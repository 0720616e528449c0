"""A network partition, with real processes on three pretend hosts (network namespaces):
each host runs one replica and one acceptor; the leader's host is cut off under load."""

import os
import subprocess
import sys

import pytest

from concoord.bench.cluster import LocalCluster
from tests.integration import netns
from tests.integration.nemesis import Load

COUNTER = "concoord.objects.counter.Counter"
pytestmark = pytest.mark.timeout(240)

# A client on the cut-off host, talking only to the old leader: nothing may be acknowledged.
MINORITY_CLIENT = """
import sys
from concoord.checker import HistoryWriter, RecordingProxy
from concoord.client.proxy import ClientProxy
from concoord.errors import ConcoordError
with HistoryWriter(sys.argv[2], process="minority") as writer:
    proxy = ClientProxy(sys.argv[1], timeout=3.0)
    counter = RecordingProxy(proxy, writer)
    for method in ("increment", "increment", "getvalue"):
        try:
            print(method, "acknowledged", getattr(counter, method)())
        except ConcoordError as exc:
            print(method, "unknown:", exc)
    proxy.close()
"""


@pytest.fixture
def network():
    why_not = netns.available()
    if why_not:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run partition tests (as root, with iproute2): {why_not}")
        pytest.skip(f"network namespaces unavailable: {why_not}")
    with netns.Network(hosts=3) as net:
        yield net


def test_leader_cut_off_from_the_majority(network, tmp_path):
    cluster = LocalCluster(COUNTER, hosts=network.hosts()).start()
    try:
        with Load(cluster.replicas, tmp_path) as load:
            load.wait_for(200)
            leader = cluster.leader()
            cut = network.index_of(leader)
            network.isolate(cut)
            # The majority side elects a new leader and goes on serving.
            load.wait_for(200)
            others = [r for r in cluster.replicas if network.index_of(r) != cut]
            assert cluster.leader(exclude={leader}) in others
            # The cut-off leader makes no progress and stops serving (its lease ran out).
            minority = tmp_path / "history-minority.jsonl"
            result = subprocess.run(
                ["ip", "netns", "exec", network.namespaces[cut], sys.executable, "-c",
                 MINORITY_CLIENT, leader, str(minority)],
                capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            assert "acknowledged" not in result.stdout, result.stdout
            assert result.stdout.count("unknown:") == 3, result.stdout
            network.heal(cut)
            cluster.wait_converged()
            load.wait_for(100)
            load.paths.append(minority)
            load.check(cluster.replicas)
    finally:
        cluster.stop()
