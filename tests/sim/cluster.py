"""A deterministic simulation of a whole ConCoord cluster in one process.

Everything random comes from one seeded generator: which message is delivered next (reordering),
drops, duplicates, delays, partitions, crashes and restarts of a minority of acceptors (restarted
from their persisted records, including acceptors that died in the middle of writing a batch:
only a prefix of its records is on disk and none of its messages left) and replicas (restarted
from their last snapshot, they catch up from peers). After
every step the checker asserts agreement, state = fold(decisions) and exactly-once; at the end,
after healing everything, every submitted command must have been decided.

Faults added for issue 13 (each has an injected bug it catches: tests/sim/test_faults.py):
bursts of acceptor changes inside one WINDOW, and a follower that missed the burst; while
the leader proposes the removals, a partition that forms one direction first (the acceptors
on the far side, a quorum of every set but the newest, answer the leader late, then nothing
more gets through; read-heavy runs make a lease read likely in between); a candidate that
reaches one acceptor and dies; acceptors whose disk is wiped asking to join again under
their old id; power loss of what was written but not fsynced (by an acceptor, a replica, or
with data directories the whole instance at once: a replica comes back with its last synced
snapshot); large values near the frame limit. Checks added: every acceptor keeps what it
acknowledged (promised ballots never go down, accepted values are reported until forgotten
by GC); replicas follow only ballots that became active; a member never ignores the live
leader's heartbeats for long; every lease read is served while a quorum of every acceptor
set that governs an unapplied slot would refuse another leader (_check_lease); acceptors
forget only slots some replica holds in a synced snapshot (_check_forgotten).
"""

import random

from concoord.errors import WireError
from concoord.protocol.acceptor_node import AcceptorNode
from concoord.protocol.effects import Effects
from concoord.protocol.progress import GC_STALE_FACTOR
from concoord.host.hosted_replica import HostedReplica
from concoord.protocol.timing import Timing
from concoord.wire.codec import MAX_FRAME, encode_frame
from concoord.wire.messages import (NOTIFY, OK, REDIRECT, REJECTED, Accept, Accepted,
                                   CatchupReply, ClientRequest, Decision, Heartbeat,
                                   HeartbeatReply, Promise)
from concoord.wire.types import ZERO_BALLOT, Command, Configuration
from concoord.wire.values import decode_value, encode_call_arguments

from tests.sim.model import AppendLog, check_real_time, fold


SPARE_ACCEPTORS = 2
RETAINED_DECISIONS = 8   # small, so that lagging replicas often need a snapshot
SNAPSHOT_EVERY = 10
BIG_RETAINED_DECISIONS = 64   # with large values: catch-up replies of up to 64 MiB if unbounded
BIG_SIZES = (256 << 10, 1 << 20, 2 << 20)
# Calls whose arguments bring their request, and so their Accept, to within bytes of MAX_FRAME.
EDGE_SIZES = (MAX_FRAME - 300, MAX_FRAME - (1 << 20))
_PAYLOADS = {}


def payload(size):
    """Encoded call arguments of about ``size`` bytes (built once: they are large)."""
    if size not in _PAYLOADS:
        _PAYLOADS[size] = encode_call_arguments([b"x" * size], {})
    return _PAYLOADS[size]


def _batch_bytes(batch):
    return sum(len(c.args) + len(c.method) + len(c.client_id) + 64 for c in batch.commands)


def estimated_size(msg):
    """About how many bytes ``msg`` takes on the wire (its bulk: arguments and snapshots)."""
    if isinstance(msg, (Accept, Decision)):
        return _batch_bytes(msg.batch)
    if isinstance(msg, Promise):
        return sum(_batch_bytes(pvalue.batch) for pvalue in msg.accepted)
    if isinstance(msg, CatchupReply):
        return sum(_batch_bytes(batch) for _, batch in msg.decisions) + len(msg.snapshot or b"")
    if isinstance(msg, ClientRequest):
        return len(msg.command.args)
    return 0


def fits_in_a_frame(msg):
    """Whether the codec can frame ``msg`` (encoded only when near the limit: it is slow)."""
    size = estimated_size(msg)
    if size < MAX_FRAME - (2 << 20):
        return True
    if size > MAX_FRAME + (2 << 20):
        return False
    try:
        encode_frame(msg)
    except WireError:
        return False
    return True


# What _fault draws from (a kind listed twice is drawn twice as often).
FAULT_KINDS = ("crash", "crash", "restart", "partition", "partition", "isolate_leader",
               "crash_leader", "rolling_restart", "reconfigure", "partial_partition", "heal",
               "reconfigure_burst", "lone_candidate", "amnesia", "power_loss")

# Bursts of acceptor changes twice as often as each of a few common faults: a stale lease read
# across reconfiguration (issue 13, bug 2) needs two removals in flight when a split forms, and
# a read in the lease that follows; in FAULT_KINDS a burst is 1 fault in 15, too rare for that.
BURST_HEAVY = ("reconfigure_burst", "reconfigure_burst", "crash", "partition", "heal",
               "crash_leader")


def fault_kinds_for(seed):
    """The mix a seed draws from when a run names none: one seed in four is burst-heavy, so a
    plain run over many seeds hunts every class of bug (chosen by the seed number, not the
    seed's random stream, so the other seeds' schedules stay as they were)."""
    return BURST_HEAVY if seed % 4 == 3 else FAULT_KINDS


# The broken driver (sends_before_fsync) syncs at a tick with this chance: a periodic fsync.
LAZY_SYNC = 0.05


class Violation(AssertionError):
    pass


class SimClient:
    """A synchronous client: one command at a time, resent (same number) until answered."""
    RETRY_AFTER = 0.5
    BACKOFF = 0.02

    def __init__(self, client_id, replicas, rng):
        self.client_id = client_id
        self.replicas = replicas
        self.rng = rng
        self.number = 0
        self.outstanding = None     # Command waiting for its reply
        self.target = rng.choice(replicas)
        self.resend_at = 0.0
        self.follow_hint = False    # the next resend goes to a redirect's hint
        self.submitted = []
        self.refused = set()        # numbers the instance refused (they are never decided)
        self.history = []           # [client, number, method, invoked, answered, value]

    def next_request(self, now, method="append", args=(), encoded=None):
        self.number += 1
        self.outstanding = Command(self.client_id, self.number, method,
                                   encoded or encode_call_arguments(args, {}))
        self.submitted.append(self.outstanding)
        self.history.append([self.client_id, self.number, method, now, None, None])
        return self._send(now)

    def _send(self, now):
        self.resend_at = now + self.RETRY_AFTER
        return self.target, ClientRequest(self.client_id, self.outstanding)

    def on_reply(self, reply, now):
        if self.outstanding is None or reply.number != self.outstanding.number:
            return
        if reply.status == REDIRECT:
            self.target = reply.leader or self.rng.choice(self.replicas)
            self.follow_hint = True
            self.resend_at = now + self.BACKOFF
            return
        if reply.status == OK:
            self.history[-1][4:] = [now, decode_value(reply.value)]
        elif reply.status == REJECTED:
            self.refused.add(reply.number)   # e.g. a call too large for the log: never decided
        self.outstanding = None

    def retry(self, now):
        if self.outstanding is None or now < self.resend_at:
            return None
        if not self.follow_hint:
            self.target = self.rng.choice(self.replicas)   # silent replica: try another
        self.follow_hint = False
        return self._send(now)


class SimWatcher:
    """A client watching ``count`` (host/watches.py): it registers at a replica, follows
    redirects, registers again (with the last tag seen) when it has heard nothing for a while,
    as a proxy does after a reconnect, and keeps the changes it accepted."""
    SILENCE = 0.5

    def __init__(self, client_id, replicas, rng):
        self.client_id, self.replicas, self.rng = client_id, replicas, rng
        self.number = 0
        self.target = rng.choice(replicas)
        self.last = (0, 0)
        self.heard_at = 0.0
        self.changes = []           # (tag, value, compacted) accepted, in order

    def register(self, now, target=None):
        self.target = target or self.rng.choice(self.replicas)
        self.number += 1
        self.heard_at = now
        command = Command(self.client_id, self.number, "@watch", encode_call_arguments(
            ["count", [], {}, list(self.last)], {}))
        return self.target, ClientRequest(self.client_id, command)

    def on_reply(self, reply, now):
        if reply.number != self.number:
            return None
        if reply.status == REDIRECT:
            return self.register(now, reply.leader)
        if reply.status != NOTIFY:
            return None
        self.heard_at = now
        slot, index, compacted, _, value = decode_value(reply.value)
        if (slot, index) > self.last:
            self.last = (slot, index)
            self.changes.append(((slot, index), decode_value(value), compacted))
        return None

    def retry(self, now):
        return self.register(now) if now - self.heard_at > self.SILENCE else None


class Cluster:
    def __init__(self, seed, n_acceptors=3, n_replicas=3, n_clients=5, leader_class=None,
                 faults=True, clock_skew=None, sends_before_fsync=False, big_values=None,
                 fault_kinds=None, straggler_rate=None, serves_before_admitted=False,
                 reports_unsynced_snapshots=False):
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = 0.0
        self.faults = faults
        # Short timeouts relative to message delays: many elections per run.
        self.timing = Timing(heartbeat_interval=0.01, election_timeout=0.05,
                             retransmit_interval=0.02, catchup_interval=0.02, lease=0.04,
                             dead_after=0.5)
        assert not self.timing.validate(), self.timing.validate()
        self.replica_ids = [f"r{i}" for i in range(n_replicas)]
        self.acceptor_ids = [f"a{i}" for i in range(n_acceptors + SPARE_ACCEPTORS)]
        self.config = Configuration(tuple(self.replica_ids),
                                    tuple(self.acceptor_ids[:n_acceptors]))
        self.leader_class = leader_class
        self.disks = {a: [] for a in self.acceptor_ids}
        # A driver that breaks the contract of effects.py: sends leave before the persist
        # records are on disk (they reach it at one of the node's next ticks, as a periodic
        # fsync would); a power loss in between loses them.
        self.sends_before_fsync = sends_before_fsync
        # The broken launcher: a wiped acceptor serves while its join is pending.
        self.serves_before_admitted = serves_before_admitted
        self.unsynced = {a: [] for a in self.acceptor_ids}
        # A replica driver that reports a snapshot durable once it is renamed into place,
        # before the directory is synced (the rename then reaches the disk at a later tick,
        # as the kernel's writeback would); a power loss in between brings the older back.
        self.reports_unsynced_snapshots = reports_unsynced_snapshots
        # Every node reads its own clock, running at its own rate: within the documented
        # bound (Timing.clock_drift) unless a test asks for more, to show leases break then.
        skew = self.rng.choice([0.0, 0.02, 0.04]) if clock_skew is None else clock_skew
        self.clock_rate = {n: 1 + self.rng.uniform(-skew, skew)
                           for n in self.replica_ids + self.acceptor_ids}
        self.nodes = {}
        self.executed = {}           # replica -> number of entries checked so far
        self.snapshots = {}          # replica -> (slot_out, its last snapshot on disk, synced)
        self.unsynced_snapshots = {}     # replica -> (slot_out, a newer one renamed, not synced)
        self.incarnations = 0
        # How many slots of new commands a leader keeps in phase 2 at once: the production
        # default (1, batching under load), a little more, or the whole window (the most
        # concurrent slots, which recovery bugs need to show).
        self.batching_depth = self.rng.choice([1, 2, 10])
        # Of client calls, the reads the leader may answer from its lease: some workloads are
        # mostly writes, coordination ones mostly reads (a lease read race needs a read to
        # arrive within a lease of a partition forming).
        self.read_share = self.rng.choice(self.READ_SHARES)
        # Replicas with a data directory restart from their last snapshot; without one they
        # come back empty (and whole again only once caught up): both are supported setups.
        self.durable_replicas = self.rng.random() < 0.5
        self.caught_up_at = {}       # restarted empty replica -> slot it must reach to be whole
        for node_id in self.replica_ids + self.acceptor_ids:
            self._start(node_id)
        self.crashed = set()
        self.fault_mix = {}          # fault kind -> how many times it was drawn
        self.partition = None        # set of node ids cut off from the rest, or None
        self.cut_links = set()       # (src, dest): one-way cuts of a partial partition
        self.slow_links = set()      # (src, dest): links whose messages take up to 0.3 s
        self.next_tick = 0.0
        self.next_fault = 0.0
        self.straggler_rate = self.rng.choice([0.01, 0.1, 0.3])
        if straggler_rate is not None:
            self.straggler_rate = straggler_rate
        self.fault_kinds = fault_kinds or fault_kinds_for(seed)
        self.submitting = True       # clients stop submitting while the cluster settles
        self.faulty_step = False
        self.network = []            # [deliver_at, src, dest, msg]
        self.clients = [SimClient(f"c{i}", self.replica_ids, self.rng) for i in range(n_clients)]
        self.n_workers = n_clients
        self.admin = SimClient("admin", self.replica_ids, self.rng)
        self.rejoiners = {r: SimClient(f"join-{r}", self.replica_ids, self.rng)
                          for r in self.replica_ids}
        self.clients += [self.admin] + list(self.rejoiners.values())
        self.watchers = [SimWatcher(f"w{i}", self.replica_ids, self.rng) for i in range(2)]
        self.decided = {}            # slot -> batch, across all replicas
        # Acceptor-set changes submitted at once (reconfigure_burst): several inside one WINDOW.
        self.admins = [SimClient(f"admin{i}", self.replica_ids, self.rng) for i in range(4)]
        self.clients += self.admins
        # Acceptors restarted with their disk wiped (amnesia) ask to join again under their
        # old id; refused, they stay out for good (the operator replaces them).
        self.amnesiacs = {}          # acceptor -> its SimClient asking to @join
        self.retired = set()
        self.scheduled = []          # (time, is a fault, action): later halves of faults
        self.burst_removals = []     # (admin, acceptor) to remove once the burst's joins are in
        self.burst_split = None      # (follower, acceptors) to split off once removals are out
        self.split_when_proposed = None  # (removals, follower, acceptors): split when a
                                         # leader proposes the removals (_split_from_leader)
        self.active_ballots = set()  # every ballot some leader has led with
        self.acknowledged_promise = {}   # acceptor -> highest ballot it answered with
        self.acknowledged_accepts = {}   # acceptor -> {slot: highest ballot it said it accepted}
        self.ignoring = {}           # (leader, replica) -> when the replica began to ignore
                                     # the heartbeats of that live leader
        # Some runs carry large values (1 MiB batches, catch-up replies of many of them, a few
        # client calls at the frame limit): every message is then sized as the codec would
        # frame it, and one over MAX_FRAME is not sent (nor anything after it in that output).
        self.big_values = self.rng.random() < 0.15 if big_values is None else big_values
        if self.big_values:
            for node_id in self.replica_ids:
                self.nodes[node_id].retained_decisions = BIG_RETAINED_DECISIONS

    def _start(self, node_id):
        if node_id in self.disks:
            self._sync(node_id)     # a process kill loses nothing written, even unsynced
            self.nodes[node_id] = AcceptorNode(node_id, list(self.disks[node_id]),
                                               max_lease=self.timing.lease)
            return
        self.incarnations += 1
        machine = AppendLog()
        machine.on_lease_read = lambda command: self._check_lease(node_id, command)
        node = HostedReplica(node_id, self.config, machine, self.clock(node_id), self.timing,
                           incarnation=self.incarnations)
        node.retained_decisions = (BIG_RETAINED_DECISIONS if getattr(self, "big_values", False)
                                   else RETAINED_DECISIONS)
        node.leader.batcher.depth = self.batching_depth
        node.durable = self.durable_replicas
        # A replica restarts from its last snapshot on disk (a process kill loses nothing
        # written, synced or not; a power loss took the unsynced one: _power_loss).
        _, snapshot = self.unsynced_snapshots.get(node_id, self.snapshots.get(node_id, (0, None)))
        if snapshot is not None:
            node.install_snapshot(snapshot)
            node.durable_slot = node.learner.slot_out
        elif not self.durable_replicas and node_id in self.nodes:
            # Like `concoord replica -b` without a data directory: it starts from the genesis
            # view, knows the live replicas to catch up from, and is whole once caught up.
            self.caught_up_at[node_id] = self._highest_applied()
            node.known_peers = set(self.replica_ids) - {node_id}
        if self.leader_class is not None:
            node.leader.__class__ = self.leader_class
        self.nodes[node_id] = node
        self.executed[node_id] = -1

    def _persist_snapshots(self):
        """Replicas write a snapshot every few slots, like a replica with a data directory:
        written, fsynced, renamed into place and the directory fsynced (snapshot_store.py)
        before the replica reports it durable and acceptors may forget the slots it holds."""
        if not self.durable_replicas:
            return
        for node_id in self.replica_ids:
            node = self.nodes[node_id]
            if node_id in self.unsynced_snapshots and self.rng.random() < LAZY_SYNC:
                self.snapshots[node_id] = self.unsynced_snapshots.pop(node_id)   # writeback
            if node_id not in self.crashed and \
                    node.learner.slot_out >= node.durable_slot + SNAPSHOT_EVERY:
                snapshot = (node.learner.slot_out, node.take_snapshot())
                if self.reports_unsynced_snapshots:    # BROKEN driver: see __init__
                    self.unsynced_snapshots[node_id] = snapshot
                else:
                    self.snapshots[node_id] = snapshot
                node.durable_slot = node.learner.slot_out

    def clock(self, node_id):
        """What ``node_id``'s monotonic clock reads now."""
        return self.now * self.clock_rate[node_id]

    # ---- the network -------------------------------------------------------------------------

    def _connected(self, a, b):
        """Partitions cut links between nodes; clients reach every node they can."""
        if a not in self.nodes or b not in self.nodes:
            return True
        if (a, b) in self.cut_links:
            return False
        return self.partition is None or (a in self.partition) == (b in self.partition)

    def _post(self, src, dest, msg):
        delay = self.rng.expovariate(1 / 0.001)
        if self.rng.random() < self.straggler_rate:
            delay += self.rng.uniform(0, 0.1)      # a straggler, overtaken by later messages
        if (src, dest) in self.slow_links:
            delay += self.rng.uniform(0.02, 0.3)   # a congested path (TCP retransmissions)
        self.network.append([self.now + delay, src, dest, msg])

    CRASH_DURING_WRITE = 0.003   # chance that an acceptor dies while its batch is on its way
                                 # to disk (between write() and the end of fsync)

    def _apply(self, node_id, effects):
        if effects.persist and self.sends_before_fsync:
            self.unsynced[node_id].extend(effects.persist)   # BROKEN driver: see __init__
        elif effects.persist:
            if self._crashes_while_writing(node_id):
                # Only a prefix of the batch's records reached the disk, and nothing was sent:
                # the runtime replies only after fsync. The acceptor restarts from what is left.
                kept = self.rng.randrange(len(effects.persist))
                self.disks[node_id].extend(effects.persist[:kept])
                self._crash_node(node_id)
                return
            self.disks[node_id].extend(effects.persist)   # durable before anything is sent
        if node_id in self.disks:
            self._check_acceptor_answers(node_id, effects.sends)
        elif self.split_when_proposed and self._proposes_all(node_id, self.split_when_proposed[0]):
            # A partition may form at any moment: this is the one that matters, with the
            # burst's removals in flight (they change the newest acceptor set).
            _, lagging, cut_off = self.split_when_proposed
            self.split_when_proposed = None
            self._split_from_leader(node_id, lagging, cut_off)
        for dest, msg in effects.sends:
            if self.big_values and not fits_in_a_frame(msg):
                # The runtime's encode raises: this send and the rest of the output are lost.
                self.fault_mix["frame_too_large"] = self.fault_mix.get("frame_too_large", 0) + 1
                return
            self._post(node_id, dest, msg)
        for reply in effects.replies:
            self._post(node_id, reply.client_id, reply)

    def _check_acceptor_answers(self, acceptor, sends):
        """What an acceptor said, it keeps saying, across crashes and restarts: its promised
        ballot (in every Promise, Accepted and HeartbeatReply) never goes down, and a Promise
        reports, for every slot it has not forgotten, a value at least as recent as any it
        acknowledged. An acceptor that forgot (a wiped disk let back in, a driver that
        answered before its write was durable) breaks this before it breaks agreement."""
        promised = self.acknowledged_promise.get(acceptor, ZERO_BALLOT)
        accepts = self.acknowledged_accepts.setdefault(acceptor, {})
        for _, msg in sends:
            if not isinstance(msg, (Promise, Accepted, HeartbeatReply)):
                continue
            if msg.ballot < promised:
                raise Violation(f"{acceptor} answered with ballot {msg.ballot} after it had "
                                f"acknowledged {promised}: it forgot a promise")
            promised = msg.ballot
            stored = self.nodes[acceptor].accepted.get(getattr(msg, "slot", None))
            if isinstance(msg, Accepted) and stored is not None and stored.ballot == msg.ballot:
                accepts[msg.slot] = max(accepts.get(msg.slot, ZERO_BALLOT), msg.ballot)
            elif isinstance(msg, Promise):
                reported = {pvalue.slot: pvalue.ballot for pvalue in msg.accepted}
                end = msg.more_from or float("inf")     # a part of a report: up to there
                for slot, ballot in accepts.items():
                    if max(msg.from_slot, msg.resume_at, msg.gc_below) <= slot < end and \
                            reported.get(slot, ZERO_BALLOT) < ballot:
                        raise Violation(f"{acceptor} acknowledged accepting slot {slot} with "
                                        f"{ballot}, then promised without it: it forgot it")
        self.acknowledged_promise[acceptor] = promised

    def _sync(self, node_id):
        """The broken driver's late fsync (sends_before_fsync)."""
        if self.unsynced.get(node_id):
            self.disks[node_id].extend(self.unsynced[node_id])
            self.unsynced[node_id] = []

    def _deliver(self, index):
        _, src, dest, msg = self.network.pop(index)
        if src in self.crashed and self._watching(dest, src):
            # A crashed node's connections close: its watcher notices and registers again
            # (the notifications still in flight on that connection are lost with it).
            return self._watch_connection_lost((None, src, dest, msg))
        if not self._connected(src, dest) or src in self.crashed or dest in self.crashed:
            return
        if dest in self.nodes:
            self._apply(dest, self.nodes[dest].handle(msg, self.clock(dest)))
            self._check(dest)
            if isinstance(msg, Heartbeat) and dest in self.replica_ids:
                self._check_followed(src, dest, msg)
            return
        watcher = next((w for w in self.watchers if w.client_id == dest), None)
        if watcher is not None and watcher.target == src:
            resend = watcher.on_reply(msg, self.now)
            if resend:
                self._post(watcher.client_id, *resend)
            return
        client = self._client(dest)
        if client is not None and client.target == src:
            self._note_rejoined(client, msg)
            if client.client_id[len("join-"):] in self.amnesiacs:
                self._amnesiac_answered(client, msg)
            client.on_reply(msg, self.now)

    IGNORED_FOR = 6           # election timeouts a member may ignore a live leader's heartbeats

    def _check_followed(self, leader_id, replica_id, beat):
        """Liveness, checked as the run goes: a member of the view that keeps receiving the
        heartbeats of the active leader (its current ballot) must follow it. A stale leader
        stops beating within an election timeout of losing its quorum; a replica that still
        ignores a live one after IGNORED_FOR timeouts is stuck (as behind a ballot that never
        became active: issue 13, bug 4)."""
        leader, replica = self.nodes[leader_id].leader, self.nodes[replica_id]
        key = (leader_id, replica_id)
        if not leader.is_active or beat.ballot != leader.ballot or \
                replica.leader.leader_id == leader_id or \
                leader_id not in replica.configs.latest.replicas or \
                replica_id not in replica.configs.latest.replicas:
            self.ignoring.pop(key, None)
            return
        since = self.ignoring.setdefault(key, self.now)
        if self.now - since > self.IGNORED_FOR * self.timing.election_timeout:
            raise Violation(f"{replica_id} has ignored the heartbeats of the active leader "
                            f"{leader_id} ({beat.ballot}) since {since:.3f}, following "
                            f"{replica.leader.leader_id} ({replica.leader.leader_ballot})")

    def _note_rejoined(self, client, reply):
        """As `concoord replica` does once its join is acknowledged: until it has applied the
        join, the replica may have to recover the log itself (Election.expected_member)."""
        command = client.outstanding
        if (command is not None and command.method == "@join" and reply.status == OK
                and reply.number == command.number and client in self.rejoiners.values()):
            joined = client.client_id[len("join-"):]
            if joined not in self.crashed:
                self.nodes[joined].leader.election.expected_member = True

    def _client(self, client_id):
        for client in self.clients:
            if client.client_id == client_id:
                return client
        return None

    # ---- steps ---------------------------------------------------------------------------------

    TICK = 0.005
    READ_SHARES = (0.3, 0.8)  # of client calls, drawn per run (see __init__)
    FAULT_INTERVAL = 0.15     # mean sim-seconds between faults

    def step(self, faulty):
        """One event: a fault, a timer tick, a client request, or one message delivered (any
        due message, so deliveries reorder). Time jumps to the next event when nothing is due."""
        self.faulty_step = faulty
        while self.scheduled and self.scheduled[0][0] <= self.now:
            self.scheduled.pop(0)[2]()
        if faulty and self.now >= self.next_fault:
            self.next_fault = self.now + self.rng.expovariate(1 / self.FAULT_INTERVAL)
            self._fault()
        if self.now >= self.next_tick:
            self.next_tick = self.now + self.TICK
            self._tick_nodes()
            return
        if self.rng.random() < 0.2:
            self._client_step()
        due = [i for i, m in enumerate(self.network) if m[0] <= self.now]
        if not due:
            self.now = min([self.next_tick] + [m[0] for m in self.network]
                           + [t for t, _, _ in self.scheduled[:1]])
            return
        index = self._in_order_to_watchers(self.rng.choice(due))
        roll = self.rng.random()
        if faulty and roll < 0.05:
            self._watch_connection_lost(self.network.pop(index))   # drop
        elif faulty and roll < 0.08:
            self.network.append(list(self.network[index]))   # duplicate
        else:
            self._deliver(index)

    def _in_order_to_watchers(self, index):
        """Watch notifications travel on one TCP connection: in order (the first message
        sent on the same link goes first), or not at all (see _watch_connection_lost)."""
        _, src, dest, _ = self.network[index]
        if not dest.startswith("w"):
            return index
        return next(i for i, m in enumerate(self.network) if m[1] == src and m[2] == dest)

    def _watching(self, watcher_id, replica_id):
        return any(w.client_id == watcher_id and w.target == replica_id for w in self.watchers)

    def _watch_connection_lost(self, message):
        """A message lost on the way to a watcher is a connection lost: the proxy notices,
        reconnects and registers again from the last change it saw."""
        watcher = next((w for w in self.watchers if w.client_id == message[2]), None)
        if watcher is not None:
            self._post(watcher.client_id, *watcher.register(self.now))

    def _rejoin_removed_replicas(self):
        """Like `concoord replica`, a live replica that finds itself out of the view (the
        leader removed it while it was silent) asks to join again."""
        for node_id in self.replica_ids:
            rejoiner = self.rejoiners[node_id]
            replica = self.nodes[node_id].learner
            if node_id in self.crashed or rejoiner.outstanding is not None or \
                    node_id in replica.configs.latest.replicas:
                continue
            self._post(rejoiner.client_id, *rejoiner.next_request(
                self.now, "@join", ("replica", node_id)))

    def _tick_nodes(self):
        self._persist_snapshots()
        if self.burst_removals and all(a.outstanding is None for a in self.admins):
            # Not if its join was refused (the operator's view was stale: already a member)
            # and the set would shrink past what _may_remove allows (seed 12714).
            allowed = []
            for admin, acceptor in self.burst_removals:
                if self._may_remove(acceptor, *[leaving for _, leaving in allowed]):
                    allowed.append((admin, acceptor))
            self.burst_removals = allowed
            for admin, acceptor in self.burst_removals:
                self._post(admin.client_id, *admin.next_request(self.now, "@remove", (acceptor,)))
            if self.burst_split and self.faulty_step and self.burst_removals:  # not once healed
                removals = [admin.outstanding for admin, _ in self.burst_removals]
                self.split_when_proposed = (removals,) + self.burst_split
            self.burst_removals = []
            self.burst_split = None
        elif self.split_when_proposed and all(a.outstanding is None for a in self.admins):
            self.split_when_proposed = None     # the removals were answered: too late
        self._rejoin_removed_replicas()     # as `concoord replica` does, also while settling
        for replica in self.replica_ids:
            self._whole(replica)            # notes who is out of the view, to catch up later
        self._note_left_behind()
        for node_id, node in self.nodes.items():
            if node_id not in self.crashed:
                if not self.sends_before_fsync or self.rng.random() < LAZY_SYNC:
                    self._sync(node_id)
                self._apply(node_id, node.tick(self.clock(node_id)))
                self._check(node_id)
        for client in self.clients + self.watchers:
            resend = client.retry(self.now)
            if resend:
                self._post(client.client_id, *resend)

    def _client_step(self):
        client = self.rng.choice(self.clients[:self.n_workers])
        if client.outstanding is None and self.submitting:
            method = "count" if self.rng.random() < self.read_share else "append"
            encoded = None
            if self.big_values and method == "append" and self.rng.random() < 0.3:
                sizes = EDGE_SIZES if self.rng.random() < 0.02 else BIG_SIZES
                encoded = payload(self.rng.choice(sizes))
            self._post(client.client_id, *client.next_request(self.now, method,
                                                               encoded=encoded))

    def _fault(self):
        kind = self.rng.choice(self.fault_kinds)
        self.fault_mix[kind] = self.fault_mix.get(kind, 0) + 1
        if kind in ("crash", "crash_leader"):
            group = self.rng.choice([self.replica_ids, self.acceptor_ids])
            if kind == "crash_leader":
                group = self.replica_ids
            self._crash(group, leader_only=kind == "crash_leader")
        elif kind == "reconfigure":
            self._reconfigure()
        elif kind == "rolling_restart":
            self._rolling_restart()
        elif kind == "restart" and self._restartable():
            self._restart(self.rng.choice(self._restartable()))
        elif kind == "isolate_leader":
            leaders = [n for n in self.replica_ids if n not in self.crashed
                       and self.nodes[n].leader.is_active]
            if leaders:
                self.partition = {leaders[0]} | set(self.rng.sample(self.acceptor_ids, 1))
        elif kind == "partial_partition":
            self._cut_links()
        elif kind == "reconfigure_burst":
            self._reconfigure_burst()
        elif kind == "lone_candidate":
            self._lone_candidate()
        elif kind == "amnesia":
            self._amnesia()
        elif kind == "power_loss":
            self._power_loss()
        elif kind == "partition":
            everyone = self.replica_ids + self.acceptor_ids
            self.partition = set(self.rng.sample(everyone, self.rng.randint(1, len(everyone) // 2)))
        else:
            self.partition = None
            self.cut_links.clear()
            self.slow_links.clear()

    def _cut_links(self):
        """A partial partition: a few links fail, some in one direction only (a node that
        hears a peer but is not heard by it, a candidate that reaches a single acceptor)."""
        everyone = self.replica_ids + self.acceptor_ids
        for _ in range(self.rng.randint(1, 4)):
            a, b = self.rng.sample(everyone, 2)
            self.cut_links.add((a, b))
            if self.rng.random() < 0.5:
                self.cut_links.add((b, a))

    def _crash(self, group, leader_only):
        """Crash one node of the group if the fault model allows it (_may_crash_one_of)."""
        alive = [n for n in group if n not in self.crashed]
        if leader_only:
            alive = [n for n in alive if self.nodes[n].leader.is_active]
        alive = [n for n in alive if self._may_crash_one_of(group, n)]
        if alive:
            self._crash_node(self.rng.choice(alive))

    def _may_crash_one_of(self, group, victim=None):
        """Acceptors: a minority may be down. Replicas: any f of f+1, as long as one that
        holds the state stays up (a replica restarted empty holds it once caught up)."""
        if group is self.replica_ids:
            return any(self._whole(r) for r in group if r != victim)
        crashed = sum(1 for n in group if n in self.crashed)
        return crashed + 1 <= (len(group) - 1) // 2

    def _whole(self, replica):
        """Up, a member, and caught up since an empty restart or since it was last out of
        the view (acceptors forget slots without waiting for a replica outside the view)."""
        if replica in self.crashed:
            return False
        if replica not in self._latest_config().replicas:
            self.caught_up_at[replica] = self._highest_applied()
            return False
        mark = self.caught_up_at.get(replica)
        if mark is not None and self.nodes[replica].learner.slot_out >= mark:
            del self.caught_up_at[replica]
            mark = None
        return mark is None

    def _note_left_behind(self):
        """A replica silent so long that the leader no longer waits for it before letting the
        acceptors forget slots (progress.GC_STALE_FACTOR, documented) counts as failed: it
        holds the state again only once caught up."""
        stale_after = GC_STALE_FACTOR * self.timing.election_timeout
        for leader_id in self.replica_ids:
            leader = self.nodes[leader_id].leader
            if leader_id in self.crashed or not leader.is_active:
                continue
            now = self.clock(leader_id)
            since = leader.housekeeping.active_since
            for replica in leader.configs.latest.replicas:
                if replica != leader_id and \
                        now - leader.progress.last_heard(replica, since) >= 0.9 * stale_after:
                    self.caught_up_at[replica] = self._highest_applied()

    def _highest_applied(self):
        """The highest slot any replica has applied (crashed ones' last state included)."""
        return max(self.nodes[r].learner.slot_out for r in self.replica_ids if r in self.nodes)

    def _crashes_while_writing(self, node_id):
        return (self.faulty_step and node_id in self.acceptor_ids
                and self.rng.random() < self.CRASH_DURING_WRITE
                and self._may_crash_one_of(self.acceptor_ids))

    def _crash_node(self, victim):
        self.crashed.add(victim)
        self.network = [m for m in self.network if m[2] != victim]

    def _reconfigure(self):
        """Through the log, swap an acceptor in the current configuration for a spare one, or
        remove and re-add a replica: the changes govern WINDOW slots after their decision."""
        if self.burst_removals or \
                any(admin.outstanding is not None for admin in [self.admin] + self.admins):
            return
        config = self._latest_config()
        spare = self._spare_acceptors(config)
        roll = self.rng.random()
        gone = [a for a in config.acceptors if a in self.retired]
        if roll < 0.4 and spare and len(config.acceptors) <= len(self.acceptor_ids) - 1:
            request = self.admin.next_request(self.now, "@join",
                                              ("acceptor", self.rng.choice(spare)))
        elif roll < 0.8 and len(config.acceptors) > 3:
            # Not a wiped acceptor still asking to join: let in as a newcomer once removed, it
            # would answer, empty, for the older configurations that still name it.
            victim = gone[0] if gone else self.rng.choice(
                [a for a in config.acceptors if a not in self.amnesiacs])
            if not self._may_remove(victim):
                return
            request = self.admin.next_request(self.now, "@remove", (victim,))
        elif len(config.replicas) == len(self.replica_ids):
            victim = self.rng.choice(config.replicas)
            request = self.admin.next_request(self.now, "@remove", (victim,))
        else:
            absent = [r for r in self.replica_ids if r not in config.replicas]
            request = self.admin.next_request(self.now, "@join", ("replica", absent[0]))
        self._post("admin", *request)

    def _may_remove(self, *victims):
        """An operator shrinks the acceptor set only while what is left keeps three members and
        a quorum of them not wiped, in every replica's view of the newest configuration: a
        crashed replica may hold a newer one than any live replica (issue 13, seed 3771)."""
        lost = self.retired | set(self.amnesiacs)
        for node in (self.nodes[r] for r in self.replica_ids):
            left = [a for a in node.learner.configs.latest.acceptors if a not in victims]
            if len(left) < 3 or sum(a in lost for a in left) > (len(left) - 1) // 2:
                return False
        return True

    def _spare_acceptors(self, config):
        """Acceptors that may join: not members, and not wiped ones (never again)."""
        return [a for a in self.acceptor_ids if a not in config.acceptors
                and a not in self.retired and a not in self.amnesiacs]

    def _reconfigure_burst(self):
        """Several acceptor changes submitted at once by different administrators: decided in
        one slot or a few, inside one WINDOW, so a leader's next slots are still governed by
        older acceptor sets than the one in charge of later slots (issue 13, bug 2). Often a
        follower misses the burst, and a partition then cuts the leader off from a quorum of
        those older sets while it keeps a quorum of the newest (_split_from_leader)."""
        if self.burst_removals or \
                any(admin.outstanding is not None for admin in [self.admin] + self.admins):
            return
        config = self._latest_config()
        spare = self._spare_acceptors(config)
        swaps = min(len(spare), self.rng.randint(1, 2))
        if not swaps:
            return
        joining = self.rng.sample(spare, swaps)
        gone = [a for a in config.acceptors if a in self.retired]
        others = [a for a in config.acceptors if a not in gone and a not in self.amnesiacs]
        leaving = (gone + self.rng.sample(others, len(others)))[:swaps]
        for admin, acceptor in zip(self.admins, joining):
            self._post(admin.client_id, *admin.next_request(self.now, "@join",
                                                            ("acceptor", acceptor)))
        # Each administrator removes an old acceptor once its new one is in (_tick_nodes):
        # no acceptor set, even one that governs a single slot, shrinks.
        self.burst_removals = list(zip(self.admins, leaving))
        self.burst_split = None
        leaders = [n for n in self.replica_ids if n not in self.crashed
                   and self.nodes[n].leader.is_active]
        followers = [n for n in self.replica_ids if n not in self.crashed and n not in leaders]
        if self.rng.random() < 0.7:
            # A follower misses the whole burst (it stops hearing the leader); when the
            # removals are proposed, it is on the far side of a partition with the leaving
            # acceptors and a minority of the new set: together, a quorum of every set
            # but the newest.
            lagging = self.rng.choice(followers or self.replica_ids)
            if leaders and followers:
                self.cut_links |= {(leaders[0], lagging), (lagging, leaders[0])}
            staying = [a for a in config.acceptors if a not in leaving] + joining
            cut_off = leaving + self.rng.sample(staying, len(staying) - (len(staying) // 2 + 1))
            self.burst_split = (lagging, cut_off)

    def _schedule(self, delay, fault, action):
        self.scheduled.append((self.now + delay, fault, action))
        self.scheduled.sort(key=lambda entry: entry[0])

    def _proposes_all(self, replica_id, commands):
        """Whether ``replica_id`` leads and has every one of ``commands`` in phase 2."""
        leader = self.nodes[replica_id].leader
        proposed = {command for batch in leader.proposer.proposals.values()
                    for command in batch.commands}
        return leader.is_active and all(command in proposed for command in commands)

    def _split_from_leader(self, leader, lagging, cut_off):
        """A partition forms as networks fail, one direction before the other: the path from
        the ``cut_off`` acceptors to the leader congests first (what they send it arrives up
        to 0.3 s late, past an election timeout), and a few ms later everything else between
        the two sides fails; ``lagging`` is on their side. So the leader may still hear that
        they accepted its proposals after their leases ran out and another leader could have
        won them: only a lease from every set that governs its next slots makes its reads
        safe (issue 13, bug 2)."""
        self.slow_links |= {(acceptor, leader) for acceptor in cut_off}
        self._schedule(self.rng.uniform(0.005, 0.02), True,
                       lambda: self._cut_apart(leader, lagging, cut_off))

    def _cut_apart(self, leader, lagging, cut_off):
        near = [a for a in self.acceptor_ids if a not in cut_off]
        self.cut_links |= {(leader, acceptor) for acceptor in cut_off}
        if lagging != leader:
            self.cut_links |= {(leader, lagging), (lagging, leader)}
            self.cut_links |= {(lagging, a) for a in near} | {(a, lagging) for a in near}
        self.fault_mix["split_from_leader"] = self.fault_mix.get("split_from_leader", 0) + 1

    def _lone_candidate(self, tries=6):
        """A replica whose election timer fired campaigns (maybe twice) but reaches a single
        acceptor, one the leader lost touch with (its lease there lapsed), and dies: its
        ballot, above the live leader's, is known to that acceptor only and never becomes
        active (issue 13, bug 4). Then another follower stops hearing the leader for a while,
        campaigns, and hears of that ballot in the acceptor's Promise."""
        view = self._latest_config().replicas
        leaders = [n for n in view if n not in self.crashed and self.nodes[n].leader.is_active]
        followers = [n for n in view if n not in self.crashed and n not in leaders]
        lone = [n for n in followers if self._may_crash_one_of(self.replica_ids, n)]
        if not leaders or not lone or len(followers) < 2:
            if tries > 1:       # no leader to hide a ballot from yet: wait for an election
                self._schedule(self.timing.election_timeout, True,
                               lambda: self._lone_candidate(tries - 1))
            return
        node_id, leader = self.rng.choice(lone), leaders[0]
        deaf = self.rng.choice([n for n in followers if n != node_id])
        reached = self.rng.choice(self.nodes[node_id].configs.latest.acceptors)
        self.cut_links |= {(leader, reached), (reached, leader)}
        self.cut_links |= {(node_id, a) for a in self.acceptor_ids if a != reached}
        self.cut_links -= {(node_id, reached), (reached, node_id), (deaf, reached),
                           (reached, deaf)}
        self._schedule(self.timing.lease * self.rng.uniform(1.1, 2), True,
                       lambda: self._campaign_alone(node_id, leader, deaf))

    def _campaign_alone(self, node_id, leader, deaf):
        if node_id in self.crashed:
            return
        for _ in range(self.rng.randint(1, 2)):
            effects = Effects()
            self.nodes[node_id].leader.campaign(self.clock(node_id), effects)
            self._apply(node_id, effects)
        self._schedule(self.rng.uniform(0.002, 0.02), True,
                       lambda: self._die_alone(node_id, leader, deaf))

    def _die_alone(self, node_id, leader, deaf):
        self._crash_if_allowed(node_id)
        self.cut_links.add((leader, deaf))
        self._schedule(self.timing.election_timeout * self.rng.uniform(3, 5), True,
                       lambda: self.cut_links.discard((leader, deaf)))

    def _crash_if_allowed(self, node_id):
        if node_id not in self.crashed and self._may_crash_one_of(self.replica_ids, node_id):
            self._crash_node(node_id)

    def _amnesia(self):
        """An acceptor loses its disk (started without --data-dir, or a wiped one) and comes
        back on the same address: it asks to join under its old id, with no memory of its
        promises. The instance must refuse (it then stays out: the operator replaces it);
        were it let in, two leaders could both win a quorum."""
        config = self._latest_config()
        members = [a for a in config.acceptors if a not in self.crashed]
        changing = self.burst_removals or any(
            admin.outstanding is not None for admin in [self.admin] + self.admins)
        if self.amnesiacs or self.retired or len(config.acceptors) < 3 or changing or \
                not self._may_crash_one_of(self.acceptor_ids):
            return
        victim = self.rng.choice(members)
        self._crash_node(victim)
        self.disks[victim] = []
        self.unsynced[victim] = []
        joiner = SimClient(f"join-{victim}", self.replica_ids, self.rng)
        self.amnesiacs[victim] = joiner
        if self.serves_before_admitted:
            self._schedule(self.rng.uniform(0.005, 0.05), False, lambda: self._restart(victim))
        self.clients.append(joiner)
        self._schedule(self.rng.uniform(0.01, 0.1), False, lambda: self._post(
            joiner.client_id, *joiner.next_request(self.now, "@join", ("acceptor", victim))))

    def _amnesiac_answered(self, client, reply):
        """The wiped acceptor hears whether it may serve: OK (it starts with nothing) or a
        refusal (it stops for good)."""
        command = client.outstanding
        if command is None or reply.number != command.number:
            return
        victim = client.client_id[len("join-"):]
        if reply.status == OK:
            del self.amnesiacs[victim]
            if self._joined_after_removal(reply.src, victim, reply.value):
                # It had been removed and governed no slot any more (the learner refuses the
                # join otherwise): a new member, that owes nothing it said before.
                self.acknowledged_promise.pop(victim, None)
                self.acknowledged_accepts.pop(victim, None)
            self._restart(victim)
        elif reply.status == REJECTED:
            del self.amnesiacs[victim]
            self.retired.add(victim)
            self._crash_node(victim)     # (it stops, if the broken launcher started it)

    def _joined_after_removal(self, replica_id, acceptor, answer):
        """Whether the join answered ``answer`` (the new configuration) added ``acceptor`` back
        to a configuration without it, at ``replica_id``'s view of the history."""
        joined = Configuration(*[tuple(group) for group in decode_value(answer)])
        configs = [config for _, config in self.nodes[replica_id].configs.as_list()]
        index = max((i for i, config in enumerate(configs) if config == joined), default=0)
        return index > 0 and acceptor not in configs[index - 1].acceptors

    def _power_loss(self):
        """A durable node loses power: what it wrote but did not fsync is gone (a correct
        driver fsyncs before anything leaves or is reported durable, so nothing it answered
        for is lost). Now and then the whole instance does (a data-centre outage): with data
        directories, every node comes back with what it had synced."""
        roll = self.rng.random()
        if roll < 0.2 and self.durable_replicas:
            return self._blackout()
        group = self.replica_ids if roll > 0.6 and self.durable_replicas else self.acceptor_ids
        alive = [n for n in group if n not in self.crashed and self._may_crash_one_of(group, n)]
        if alive:
            victim = self.rng.choice(alive)
            self._lose_unsynced(victim)
            self._crash_node(victim)

    def _lose_unsynced(self, node_id):
        self.unsynced.get(node_id, []).clear()
        self.unsynced_snapshots.pop(node_id, None)

    def _blackout(self):
        """Every node loses power at once; it comes back a moment later."""
        for node_id in self.replica_ids + self.acceptor_ids:
            self._lose_unsynced(node_id)
            if node_id not in self.crashed:
                self._crash_node(node_id)
        self.fault_mix["blackout"] = self.fault_mix.get("blackout", 0) + 1
        self._schedule(self.rng.uniform(0.05, 0.3), True, self._power_back)

    def _power_back(self):
        for node_id in self._restartable():
            self._restart(node_id)

    def _latest_config(self):
        replicas = [self.nodes[r].learner for r in self.replica_ids if r not in self.crashed]
        replicas = replicas or [self.nodes[r].learner for r in self.replica_ids]   # blackout
        return max(replicas, key=lambda r: r.slot_out).configs.latest

    def _rolling_restart(self):
        """A follower reboots with no state just as the leader crashes: the rebooted replica
        may lead before it has caught up, relying on phase 1 alone."""
        followers = [n for n in self.replica_ids if n not in self.crashed
                     and not self.nodes[n].leader.is_active
                     and self._may_crash_one_of(self.replica_ids, n)]
        if followers:
            self._restart(self.rng.choice(followers))
            self._crash(self.replica_ids, leader_only=True)

    def _restart(self, node_id):
        self.crashed.discard(node_id)
        self._start(node_id)

    def _restartable(self):
        """Crashed nodes that may come back with their disk (not the wiped ones)."""
        return sorted(self.crashed - self.retired - set(self.amnesiacs))

    def heal(self):
        self.partition = None
        self.cut_links.clear()
        self.slow_links.clear()
        self.scheduled = [entry for entry in self.scheduled if not entry[1]]
        self.burst_split = None
        self.split_when_proposed = None
        for node_id in self._restartable():
            self._restart(node_id)

    # ---- checks ---------------------------------------------------------------------------------

    def _check(self, node_id):
        node = self.nodes[node_id]
        node.check_invariants()
        if isinstance(node, AcceptorNode):
            return self._check_forgotten(node_id, node.gc_below)
        self._check_followed_ballot(node_id, node.leader)
        replica = node.learner
        for slot, batch in replica.decisions.items():
            known = self.decided.setdefault(slot, batch)
            if known != batch:
                raise Violation(f"slot {slot}: {node_id} decided {batch}, another {known}")
        entries = node.state_machine.entries
        if len(entries) != len(set(entries)):
            raise Violation(f"{node_id} executed a command twice")
        if self.executed[node_id] != len(entries):
            if entries != fold(self.decided, replica.slot_out):
                raise Violation(f"{node_id}: state is not the fold of its decisions")
            self.executed[node_id] = len(entries)

    def _check_forgotten(self, acceptor, gc_below):
        """With data directories, an acceptor forgets only slots some replica has in a
        synced snapshot: else a power loss of the whole instance (_blackout) loses them."""
        if not self.durable_replicas:
            return
        synced = max((slot for slot, _ in self.snapshots.values()), default=1)
        if gc_below > synced:
            raise Violation(f"{acceptor} forgot the slots below {gc_below}, but no replica has "
                            f"a synced snapshot past slot {synced - 1}: a power loss of the "
                            f"whole instance would lose them")

    def _check_lease(self, node_id, command):
        """A read served from a lease: no other leader may be able to decide a slot this
        replica has not applied. In every configuration that governs such a slot, so many
        acceptors must hold a lease for this leader's ballot (by their own clocks) that the
        rest make no quorum (read_lease.py; issue 13, bug 2)."""
        if any(w.client_id == command.client_id for w in self.watchers):
            return      # a watch evaluated after a slot was applied, not a lease read
        ballot = self.nodes[node_id].leader.ballot
        for config in self.nodes[node_id].configs.governing_from(
                self.nodes[node_id].learner.slot_out):
            free = [a for a in config.acceptors if not self._refuses_all_but(a, ballot)]
            if len(free) >= config.quorum():
                raise Violation(f"{node_id} served a lease read while {free} of "
                                f"{config.acceptors} could promise a ballot other than "
                                f"{ballot}: another leader could decide a slot it has not "
                                f"applied")

    def _refuses_all_but(self, acceptor, ballot):
        """Whether ``acceptor`` would refuse to promise any ballot but ``ballot`` now: it is
        leased to it (or, restarted, to none: Acceptor._on_prepare), or down (it comes back
        leased to none)."""
        node = self.nodes[acceptor]
        if acceptor in self.crashed or node.restarted:
            return True
        return (self.clock(acceptor) < node.lease_until and node.promised <= ballot
                and node.lease_holder in (ballot, ZERO_BALLOT))

    def _check_followed_ballot(self, node_id, leader):
        """A replica follows (and sends clients to) only a ballot that became active: one a
        leader led with. A ballot seen only in a Promise or an Accepted may never have won,
        its candidate may be dead, and following it ignores the live leader (bug 4)."""
        if leader.is_active:
            self.active_ballots.add(leader.ballot)
        if leader.leader_ballot != ZERO_BALLOT and leader.leader_ballot not in self.active_ballots:
            raise Violation(f"{node_id} follows {leader.leader_id} with "
                            f"{leader.leader_ballot}, a ballot that never became active")

    def unconverged(self):
        """Live replicas of the view that have not applied every decided slot."""
        last = max(self.decided, default=0)
        ahead = max((self.nodes[r] for r in self.replica_ids if r not in self.crashed),
                    key=lambda node: node.learner.slot_out)
        view = ahead.configs.latest.replicas
        return [r for r in view if r not in self.crashed
                and self.nodes[r].learner.slot_out <= last]

    def leaderless(self):
        """Live replicas of the view that do not follow the one active leader (None when
        every one does)."""
        view = self._latest_config().replicas
        live = [r for r in view if r not in self.crashed]
        active = [r for r in live if self.nodes[r].leader.is_active]
        if len(active) != 1:
            return live
        return [r for r in live if self.nodes[r].leader.leader_id != active[0]]

    def count_at(self, tag):
        """What ``count`` returns after the command tagged (slot, index) was applied."""
        slot, index = tag
        seen, count = set(), 0
        for s in range(1, slot + 1):
            commands = self.decided[s].commands
            for command in commands[:index + 1] if s == slot else commands:
                key = (command.client_id, command.number)
                if command.method == "append" and key not in seen:
                    seen.add(key)
                    count += 1
        return count

    def watch_violation(self):
        """A watcher told a wrong value, or a change skipped without the compacted flag."""
        for watcher in self.watchers:
            previous = None
            for tag, value, compacted in watcher.changes:
                expected = self.count_at(tag)
                if value != expected:
                    return f"{watcher.client_id} saw count {value} at {tag}, not {expected}"
                if previous is not None and not compacted and value - previous not in (0, 1):
                    return f"{watcher.client_id} went from {previous} to {value} unflagged"
                previous = value
        return None

    def undecided(self):
        decided = set()
        for batch in self.decided.values():
            decided.update((c.client_id, c.number) for c in batch.commands)
        return [(c.client_id, c.number) for client in self.clients for c in client.submitted
                if (c.client_id, c.number) not in decided and c.method != "count"
                and c.number not in client.refused]


def run(seed, steps=2000, n_acceptors=3, n_replicas=3, leader_class=None, clock_skew=None,
        **options):
    """Run one seeded schedule; raise Violation (with a repro line) on any broken property.
    ``options``: sends_before_fsync, big_values, serves_before_admitted (see Cluster)."""
    cluster = Cluster(seed, n_acceptors, n_replicas, leader_class=leader_class,
                      clock_skew=clock_skew, **options)
    repro = (f"python -m tests.sim.run --seed {seed} --steps {steps} "
             f"--acceptors {n_acceptors} --replicas {n_replicas}")
    try:
        for _ in range(steps):
            cluster.step(faulty=True)
        cluster.heal()
        cluster.submitting = False
        missing = _settle(cluster, cluster.undecided, 40 * steps)
        stale = check_real_time([call for client in cluster.clients[:cluster.n_workers]
                                 for call in client.history])
        if stale:
            raise Violation(f"not linearizable: {stale}")
        watched = cluster.watch_violation()
        if watched:
            raise Violation(f"watch: {watched}")
        if missing:
            raise Violation(f"after healing, {len(missing)} submitted commands never decided")
        behind = _settle(cluster, cluster.unconverged, 20 * steps)
        if behind:
            raise Violation(f"after healing, replicas {behind} never applied every decided slot")
        astray = _settle(cluster, cluster.leaderless, 20 * steps)
        if astray:
            raise Violation(f"after healing, replicas {astray} do not follow the one leader")
    except (Violation, AssertionError) as exc:
        raise Violation(f"seed {seed}: {exc}\n  reproduce: {repro}") from exc
    return cluster


def _settle(cluster, unsettled, max_steps):
    """Step the healed cluster until ``unsettled()`` is empty or ``max_steps`` have passed;
    what is still unsettled then."""
    for step in range(max_steps):
        if step % 10 == 0 and not unsettled():    # (checked every step, it cost a fifth)
            break
        cluster.step(faulty=False)
    return unsettled()
