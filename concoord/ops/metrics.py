"""Prometheus metrics of one node (`--metrics-port`): text exposition at /metrics over HTTP.

Most values are read from the node's own state at scrape time, under the node's lock (a custom
Collector), so the protocol code carries no instrumentation. What only exists as an event
is counted where it happens, and only when metrics are on:

- client requests, lease reads, request, proposal, commit and fsync latency: NodeRunner
  tells its ``observer`` (a RuntimeObserver) while it handles the node, and the observer
  looks at the leader's slots in phase 2 after each batch it handled;
- elections, view changes, snapshots written and batch sizes: a sampler thread looks at the
  node a few times a second and counts what changed since its last look (between two looks a
  change that came and went, e.g. two elections, counts once).
"""

import logging
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger("concoord.metrics")

SAMPLE_INTERVAL = 0.2      # seconds between two looks of the sampler
SCRAPE_TIMEOUT = 2.0       # a node that cannot be read this quickly is reported as such
MAX_TRACKED_REQUESTS = 100000   # requests awaiting their reply that latency is measured for
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)
FSYNC_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)


def serve_metrics(registry, address, port):
    """Serve ``registry`` at http://address:port/metrics (a daemon thread); returns the server.
    (prometheus-client's own server answers every path; this one answers /metrics only.)"""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics is served here")
                return
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass      # a scrape every few seconds is not worth a log line

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        daemon_threads = True

    server = Server((address, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="concoord-metrics-http").start()
    log.info("metrics at http://%s:%d/metrics", address, server.server_port)
    return server


def node_registry(runner, role):
    """The registry of a replica or acceptor driven by ``runner`` (a NodeRunner); it starts the
    runner's observer and the sampler thread."""
    registry = CollectorRegistry(auto_describe=True)
    events = RuntimeObserver(registry, role)
    runner.observer = events
    sampler = ChangeSampler(runner, registry) if role == "replica" else None
    registry.register(NodeCollector(runner, role, sampler))
    if sampler is not None:
        sampler.start()
    return registry


def _never_raises(method):
    """NodeRunner stops its node on any exception raised while handling it: a mistake in
    measuring must not take the node down, so it is logged (once per method) and ignored."""
    failed = []

    def guarded(*args):
        try:
            return method(*args)
        except Exception:       # noqa: BLE001 - see above
            if not failed:
                failed.append(True)
                log.exception("metrics: %s failed; this measurement is skipped",
                              method.__name__)
    guarded.__name__ = method.__name__
    return guarded


class RuntimeObserver:
    """Told by NodeRunner, on the thread that holds the node, of requests, replies and fsyncs."""

    def __init__(self, registry, role):
        self.request_seconds = self.fsync_seconds = None
        if role == "replica":
            self.request_seconds = Histogram(
                "concoord_request_duration_seconds", "From a client request's arrival at this "
                "replica to its reply leaving it (at the leader: proposal, commit and apply)",
                registry=registry, buckets=LATENCY_BUCKETS)
            self.proposal_seconds = Histogram(
                "concoord_proposal_wait_seconds", "At the leader: from a command's arrival to "
                "the proposal of the slot that carries it", registry=registry,
                buckets=LATENCY_BUCKETS)
            self.commit_seconds = Histogram(
                "concoord_commit_duration_seconds", "At the leader: from a slot's proposal "
                "(phase 2 sent) to its decision by a majority of acceptors", registry=registry,
                buckets=LATENCY_BUCKETS)
        else:
            self.fsync_seconds = Histogram(
                "concoord_fsync_duration_seconds", "Writing and fsyncing one batch of promises "
                "and accepts (acceptors with --data-dir)", registry=registry,
                buckets=FSYNC_BUCKETS)
        self.requests = 0
        self.lease_reads = 0
        self._arrived = {}     # (client id, number) -> monotonic arrival time
        self._proposed = {}    # slot in phase 2 at the leader -> when it was first seen there

    @_never_raises
    def request(self, node, command, now):
        self.requests += 1
        if len(self._arrived) >= MAX_TRACKED_REQUESTS:
            self._arrived.clear()     # replies that never came (clients gone): start afresh
        self._arrived[(command.client_id, command.number)] = now
        leader = getattr(node, "leader", None)
        # The same test as the replica's (ReplicaNode._on_client_request) for a lease read.
        if (leader is not None and leader.is_active
                and node.state_machine.is_readonly(command.method) and leader.lease_valid(now)):
            self.lease_reads += 1

    @_never_raises
    def replied(self, replies, now):
        if self.request_seconds is None:
            return
        for reply in replies:
            arrived = self._arrived.pop((reply.client_id, reply.number), None)
            if arrived is not None:
                self.request_seconds.observe(now - arrived)

    @_never_raises
    def handled(self, node, now):
        """After each batch: slots that entered phase 2 were proposed, slots that left it and
        were decided were committed (measured to within the handling of one batch)."""
        leader = getattr(node, "leader", None)
        if leader is None or not (leader.proposer.commanders or self._proposed):
            return
        in_phase2 = leader.proposer.commanders
        for slot in in_phase2.keys() - self._proposed.keys():
            self._proposed[slot] = now
            batch = leader.proposer.proposals.get(slot)
            for command in batch.commands if batch is not None else ():
                arrived = self._arrived.get((command.client_id, command.number))
                if arrived is not None:
                    self.proposal_seconds.observe(now - arrived)
        learner = node.learner
        for slot in self._proposed.keys() - in_phase2.keys():
            proposed = self._proposed.pop(slot)
            if slot < learner.slot_out or slot in learner.decisions:   # not a lost leadership
                self.commit_seconds.observe(now - proposed)

    @_never_raises
    def persisted(self, seconds):
        if self.fsync_seconds is not None:
            self.fsync_seconds.observe(seconds)


class ChangeSampler:
    """Counts elections, view changes, snapshots and decided batch sizes of a replica by
    looking at it every SAMPLE_INTERVAL seconds."""

    def __init__(self, runner, registry, interval=SAMPLE_INTERVAL):
        self.runner = runner
        self.interval = interval
        self.batch_commands = Histogram(
            "concoord_batch_commands", "Client commands in each decided slot (one batch)",
            registry=registry, buckets=BATCH_BUCKETS)
        self.elections = 0
        self.view_changes = 0
        self.snapshots = 0
        self._ballot = self._view = self._snapshot_at = None
        self._next_slot = None

    def start(self):
        threading.Thread(target=self._run, daemon=True, name="concoord-metrics").start()

    def _run(self):
        while not self.runner.stopping.wait(self.interval):
            try:
                self.runner.call(_never_raises(self._look), timeout=SCRAPE_TIMEOUT)
            except TimeoutError:
                continue

    def _look(self, node):
        """Runs on the thread that holds the node."""
        ballot, view = node.leader.leader_ballot, node.configs.latest
        if self._ballot is not None and ballot != self._ballot:
            self.elections += 1
        if self._view is not None and view != self._view:
            self.view_changes += 1
        self._ballot, self._view = ballot, view
        store = self.runner.snapshots
        if store is not None:
            if self._snapshot_at is not None and store.written_at != self._snapshot_at:
                self.snapshots += 1
            self._snapshot_at = store.written_at
        learner = node.learner
        first = learner.slot_out if self._next_slot is None else self._next_slot
        for slot in range(max(first, learner.oldest_decision()), learner.slot_out):
            batch = learner.decisions.get(slot)
            if batch is not None:
                self.batch_commands.observe(len(batch.commands))
        self._next_slot = learner.slot_out


class NodeCollector:
    """Reads the node under its lock at every scrape."""

    def __init__(self, runner, role, sampler=None):
        self.runner = runner
        self.role = role
        self.sampler = sampler

    def describe(self):
        return []      # the families depend on the role; nothing to check at registration

    def collect(self):
        up = GaugeMetricFamily("concoord_up", "1 if the node answered this scrape in time, 0 "
                               "if not (stopping, its lock held too long, or an error: see "
                               "its log)")
        try:
            values = self.runner.call(_never_raises(self._read), timeout=SCRAPE_TIMEOUT)
        except TimeoutError:
            values = None
        if values is None:        # not read in time, or reading failed (logged)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        info = GaugeMetricFamily("concoord_node_info", "This node's address and role",
                                 labels=["node", "role"])
        info.add_metric([self.runner.node_id, self.role], 1)
        yield info
        yield _gauge("concoord_connections", "Client and node connections accepted now",
                     len(getattr(self.runner.transport, "_connections", ())))
        yield _counter("concoord_forged_messages", "Protocol messages dropped because their "
                       "sender is not the node their connection authenticated as",
                       getattr(self.runner.admission, "forged", 0))
        yield from (self._replica(values) if self.role == "replica" else self._acceptor(values))

    def _read(self, node):
        """Runs on the thread that holds the node: copy out plain values only."""
        if self.role != "replica":
            return {"promised_round": node.promised.round, "accepted_slots": len(node.accepted),
                    "gc_below": node.gc_below}
        leader, learner, config = node.leader, node.learner, node.configs.latest
        applied = learner.slot_out - 1
        return {
            "is_leader": int(leader.is_active), "state": leader.state,
            "ballot_round": leader.leader_ballot.round, "applied": applied,
            "lag": 0 if leader.is_active else max(0, leader.leader_slot_out - 1 - applied),
            "commands": learner.commands_applied, "sessions": len(learner.sessions),
            "parked": len(getattr(node.state_machine, "parked", ())),
            "replicas": len(config.replicas), "acceptors": len(config.acceptors),
            "pending": len(leader.batcher.pending) if leader.is_active else 0,
        }

    def _replica(self, v):
        observer = self.runner.observer
        yield _gauge("concoord_is_leader", "1 on the active leader, 0 elsewhere", v["is_leader"])
        state = GaugeMetricFamily("concoord_leader_state", "The colocated leader's state "
                                  "(1 for the current one)", labels=["state"])
        for name in ("follower", "candidate", "active"):
            state.add_metric([name], int(v["state"] == name))
        yield state
        yield _gauge("concoord_ballot_round", "Round of the highest ballot this replica has "
                     "seen (the current leader's)", v["ballot_round"])
        yield _gauge("concoord_applied_slot", "Highest log slot this replica has applied",
                     v["applied"])
        yield _gauge("concoord_lag_slots", "Slots this replica is behind the leader it "
                     "follows (0 on the leader)", v["lag"])
        yield _counter("concoord_commands_applied_total", "Client and internal commands this "
                       "replica applied since it started", v["commands"])
        yield _counter("concoord_client_requests_total", "Client requests that reached this "
                       "replica", observer.requests)
        yield _counter("concoord_lease_reads_total", "Read-only calls answered under the "
                       "leader's read lease, without a log slot", observer.lease_reads)
        yield _gauge("concoord_pending_commands", "Commands waiting at the leader for a slot",
                     v["pending"])
        yield _gauge("concoord_sessions", "Open client sessions (replicated)", v["sessions"])
        yield _gauge("concoord_parked_calls", "Blocked calls waiting to be woken",
                     v["parked"])
        yield _gauge("concoord_replicas", "Replicas in this replica's latest view",
                     v["replicas"])
        yield _gauge("concoord_acceptors", "Acceptors in this replica's latest view",
                     v["acceptors"])
        yield _counter("concoord_elections_total", "Changes of the leader's ballot seen by "
                       "this replica (a leader elected)", self.sampler.elections)
        yield _counter("concoord_view_changes_total", "Changes of the membership view seen by "
                       "this replica", self.sampler.view_changes)
        yield from self._snapshots()

    def _snapshots(self):
        store = self.runner.snapshots
        if store is None:
            return
        yield _counter("concoord_snapshots_total", "Snapshots this replica wrote to its data "
                       "directory", self.sampler.snapshots)
        try:
            size = os.path.getsize(store.path)
        except OSError:
            size = 0
        yield _gauge("concoord_snapshot_bytes", "Size of the latest snapshot on disk", size)

    def _acceptor(self, v):
        yield _gauge("concoord_promised_ballot_round", "Round of the ballot this acceptor "
                     "promised", v["promised_round"])
        yield _gauge("concoord_accepted_slots", "Slots whose accepted value this acceptor "
                     "keeps", v["accepted_slots"])
        yield _gauge("concoord_gc_below_slot", "Slots below this were applied everywhere and "
                     "forgotten", v["gc_below"])


def nameserver_registry(service):
    """The registry of a `concoord nameserver` (a DnsService): the view it publishes."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(NameserverCollector(service))
    return registry


class NameserverCollector:
    def __init__(self, service):
        self.service = service

    def describe(self):
        return []

    def collect(self):
        view = self.service.follower.view
        info = GaugeMetricFamily("concoord_node_info", "This node's address and role",
                                 labels=["node", "role"])
        info.add_metric([self.service.node_id, "nameserver"], 1)
        yield info
        yield _gauge("concoord_up", "1 once the nameserver has a view of the instance",
                     int(view is not None))
        limiter = self.service.server.rate_limiter
        yield _counter("concoord_dns_rate_limited_dropped", "UDP queries left unanswered by "
                       "response rate limiting", limiter.dropped)
        yield _counter("concoord_dns_rate_limited_slipped", "UDP queries answered with an empty "
                       "truncated answer (TC=1) by response rate limiting", limiter.slipped)
        if view is None:
            return
        yield _gauge("concoord_replicas", "Replicas in the published view", len(view.replicas))
        yield _gauge("concoord_unreachable_replicas", "Replicas that missed the last status "
                     "polls", len(view.unreachable))
        yield _gauge("concoord_acceptors", "Acceptors in the published view",
                     len(view.acceptors))
        yield _gauge("concoord_leader_known", "1 if the view names a leader",
                     int(view.leader is not None))
        yield _counter("concoord_view_changes_total", "Changes of the published view "
                       "(its serial)", view.serial)


def _gauge(name, text, value):
    family = GaugeMetricFamily(name, text)
    family.add_metric([], value)
    return family


def _counter(name, text, value):
    family = CounterMetricFamily(name, text)     # the family adds the _total suffix itself
    family.add_metric([], value)
    return family



def serve_node_metrics(args, runner, role):
    """With --metrics-port: serve a replica's or acceptor's metrics; returns the server."""
    if args.metrics_port is None:
        return None
    return serve_metrics(node_registry(runner, role), args.metrics_address, args.metrics_port)


def serve_nameserver_metrics(args, service):
    """With --metrics-port: serve a nameserver's metrics; returns the server."""
    if args.metrics_port is None:
        return None
    return serve_metrics(nameserver_registry(service), args.metrics_address, args.metrics_port)
