"""--metrics-port on real replica, acceptor and nameserver processes: scraped over HTTP and
parsed with prometheus-client's own parser."""

import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import free_port, wait_until


def scrape(port):
    """{sample name: [(labels, value)]} of one scrape."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples, name):
    (labels, number), = samples[name]
    return number


def start_with_metrics(harness, start, *args, extra=()):
    """Start a node through ``start`` with --metrics-port; (node, metrics port)."""
    port = free_port()
    harness.node_args = ["--metrics-port", str(port), *extra]
    try:
        return start(*args), port
    finally:
        harness.node_args = []


@pytest.fixture
def instance(counter_harness, tmp_path):
    """3 replicas and 3 durable acceptors, each serving metrics: (replicas, acceptors, ports)."""
    h = counter_harness
    first, first_port = start_with_metrics(h, h.start_replica)
    acceptors, ports = [], {first.address: first_port}
    for i in range(3):
        acceptor, port = start_with_metrics(h, h.start_acceptor, first,
                                            extra=["--data-dir", str(tmp_path / f"a{i}")])
        acceptors.append(acceptor)
        ports[acceptor.address] = port
    replicas = [first]
    for _ in range(2):
        replica, port = start_with_metrics(h, h.start_replica, first)
        replicas.append(replica)
        ports[replica.address] = port
    h.wait_converged(replicas, acceptors)
    return replicas, acceptors, ports


def test_replicas_and_acceptors_export_their_state(counter_harness, instance):
    replicas, acceptors, ports = instance
    replica_scrapes = {r.address: scrape(ports[r.address]) for r in replicas}
    for address, samples in replica_scrapes.items():
        assert value(samples, "concoord_up") == 1
        assert samples["concoord_node_info"] == [({"node": address, "role": "replica"}, 1.0)]
        assert value(samples, "concoord_replicas") == 3
        assert value(samples, "concoord_acceptors") == 3
    leaders = [a for a, s in replica_scrapes.items() if value(s, "concoord_is_leader") == 1]
    assert len(leaders) == 1
    assert leaders[0] == replicas[0].status()["leader"]

    before = {a: value(s, "concoord_applied_slot") for a, s in replica_scrapes.items()}
    counter_harness.run_client("""
        from counterproxy import Counter
        c = Counter(BOOTSTRAP)
        for _ in range(25):
            c.increment()
        print(c.getvalue())
    """, bootstrap=replicas)

    def every_replica_applied_them():
        scrapes = {r.address: scrape(ports[r.address]) for r in replicas}
        return scrapes if all(value(s, "concoord_applied_slot") > before[a]
                              and value(s, "concoord_commands_applied_total") >= 25
                              for a, s in scrapes.items()) else None
    after = wait_until(every_replica_applied_them, 30, message="applied slots to rise")
    leader = after[leaders[0]]
    assert value(leader, "concoord_client_requests_total") >= 26
    assert value(leader, "concoord_request_duration_seconds_count") >= 26
    assert value(leader, "concoord_proposal_wait_seconds_count") >= 25
    assert value(leader, "concoord_commit_duration_seconds_count") >= 1
    assert value(leader, "concoord_commit_duration_seconds_sum") > 0
    assert value(leader, "concoord_lag_slots") == 0
    assert value(leader, "concoord_elections_total") >= 0
    # Batch sizes are sampled a few times a second: the last slots may not be counted yet.
    wait_until(lambda: value(scrape(ports[leaders[0]]), "concoord_batch_commands_sum") >= 25,
               10, message="the decided batches to be sampled")
    for samples in after.values():
        assert value(samples, "concoord_lag_slots") >= 0

    for acceptor in acceptors:
        samples = scrape(ports[acceptor.address])
        assert samples["concoord_node_info"] == [({"node": acceptor.address, "role": "acceptor"},
                                                  1.0)]
        assert value(samples, "concoord_promised_ballot_round") >= 1
        assert value(samples, "concoord_fsync_duration_seconds_count") >= 1


def test_only_metrics_is_served_and_only_on_loopback(counter_harness, instance):
    replicas, _, ports = instance
    port = ports[replicas[0].address]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    assert refused.value.code == 404
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.split(":")[1], 16) == port:   # listening
            assert local.split(":")[0] == "0100007F"                     # 127.0.0.1


def test_elections_are_counted_after_the_leader_dies(counter_harness, instance):
    replicas, _, ports = instance
    old = counter_harness.leader(replicas)
    old.kill()
    survivors = [r for r in replicas if r is not old]

    def new_leader():
        scrapes = [scrape(ports[r.address]) for r in survivors]
        leading = [s for s in scrapes if value(s, "concoord_is_leader") == 1]
        if len(leading) == 1 and all(value(s, "concoord_elections_total") >= 1 for s in scrapes):
            return scrapes
        return None
    wait_until(new_leader, 30, message="one new leader, its election counted")


def test_nameserver_exports_its_view(counter_harness, instance):
    replicas, _, _ = instance
    port, dns_port = free_port(), free_port()
    log = open(counter_harness.workdir / "nameserver.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "concoord", "nameserver", "-n", "counterdomain",
         "-b", replicas[0].address, "--dns-port", str(dns_port), "--metrics-port", str(port)],
        cwd=counter_harness.workdir, env=counter_harness.env(), stdout=log,
        stderr=subprocess.STDOUT)
    try:
        samples = wait_until(lambda: scrape(port), 30, message="the nameserver's metrics")
        assert samples["concoord_node_info"][0][0]["role"] == "nameserver"
        wait_until(lambda: value(scrape(port), "concoord_replicas") == 3, 30,
                   message="the nameserver's view of 3 replicas")
        assert value(scrape(port), "concoord_acceptors") == 3
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


READONLY_COUNTER = '''\
import concoord


class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1

    @concoord.readonly
    def getvalue(self):
        return self.value
'''


def test_lease_reads_and_snapshots_are_counted(harness, tmp_path):
    harness.write_object(READONLY_COUNTER, "counter.py", "Counter")
    replica, port = start_with_metrics(harness, harness.start_replica,
                                       extra=["--data-dir", str(tmp_path / "replica")])
    harness.start_acceptor(replica)
    harness.wait_converged([replica], harness.nodes[1:])
    harness.run_client("""
        from counterproxy import Counter
        c = Counter(BOOTSTRAP)
        for _ in range(10):
            c.increment()
        for _ in range(30):
            assert c.getvalue() == 10
    """, bootstrap=replica)

    def counted():
        samples = scrape(port)
        return samples if (value(samples, "concoord_lease_reads_total") >= 10
                           and value(samples, "concoord_snapshots_total") >= 1) else None
    samples = wait_until(counted, 30, message="lease reads and a snapshot to be counted")
    assert value(samples, "concoord_snapshot_bytes") > 0
