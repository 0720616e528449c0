"""A deterministic simulation of a whole ConCoord cluster in one process.

Everything random comes from one seeded generator: which message is delivered next (reordering),
drops, duplicates, delays, partitions, crashes and restarts of a minority of acceptors (restarted
from their persisted records, including acceptors that died in the middle of writing a batch:
only a prefix of its records is on disk and none of its messages left) and replicas (restarted
from their last snapshot, they catch up from peers). After
every step the checker asserts agreement, state = fold(decisions) and exactly-once; at the end,
after healing everything, every submitted command must have been decided.
"""

import random

from concoord.protocol.acceptor_node import AcceptorNode
from concoord.protocol.progress import GC_STALE_FACTOR
from concoord.host.hosted_replica import HostedReplica
from concoord.protocol.timing import Timing
from concoord.wire.messages import NOTIFY, OK, REDIRECT, ClientRequest
from concoord.wire.types import Command, Configuration
from concoord.wire.values import decode_value, encode_call_arguments

from tests.sim.model import AppendLog, check_real_time, fold


SPARE_ACCEPTORS = 2
RETAINED_DECISIONS = 8   # small, so that lagging replicas often need a snapshot
SNAPSHOT_EVERY = 10


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
        self.history = []           # [client, number, method, invoked, answered, value]

    def next_request(self, now, method="append", args=()):
        self.number += 1
        self.outstanding = Command(self.client_id, self.number, method,
                                   encode_call_arguments(args, {}))
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
                 faults=True, clock_skew=None):
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
        # Every node reads its own clock, running at its own rate: within the documented
        # bound (Timing.clock_drift) unless a test asks for more, to show leases break then.
        skew = self.rng.choice([0.0, 0.02, 0.04]) if clock_skew is None else clock_skew
        self.clock_rate = {n: 1 + self.rng.uniform(-skew, skew)
                           for n in self.replica_ids + self.acceptor_ids}
        self.nodes = {}
        self.executed = {}           # replica -> number of entries checked so far
        self.snapshots = {}          # replica -> its last snapshot "on disk"
        self.incarnations = 0
        # How many slots of new commands a leader keeps in phase 2 at once: the production
        # default (1, batching under load), a little more, or the whole window (the most
        # concurrent slots, which recovery bugs need to show).
        self.batching_depth = self.rng.choice([1, 2, 10])
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
        self.next_tick = 0.0
        self.next_fault = 0.0
        self.straggler_rate = self.rng.choice([0.01, 0.1, 0.3])
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

    def _start(self, node_id):
        if node_id in self.disks:
            self.nodes[node_id] = AcceptorNode(node_id, list(self.disks[node_id]),
                                               max_lease=self.timing.lease)
            return
        self.incarnations += 1
        node = HostedReplica(node_id, self.config, AppendLog(), self.clock(node_id), self.timing,
                           incarnation=self.incarnations)
        node.retained_decisions = RETAINED_DECISIONS
        node.leader.batcher.depth = self.batching_depth
        node.durable = self.durable_replicas
        if node_id in self.snapshots:      # a replica restarts from its last snapshot on disk
            node.install_snapshot(self.snapshots[node_id])
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
        """Replicas write a snapshot every few slots, like a replica with a data directory."""
        if not self.durable_replicas:
            return
        for node_id in self.replica_ids:
            node = self.nodes[node_id]
            if node_id not in self.crashed and \
                    node.learner.slot_out >= node.durable_slot + SNAPSHOT_EVERY:
                self.snapshots[node_id] = node.take_snapshot()
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
        self.network.append([self.now + delay, src, dest, msg])

    CRASH_DURING_WRITE = 0.003   # chance that an acceptor dies while its batch is on its way
                                 # to disk (between write() and the end of fsync)

    def _apply(self, node_id, effects):
        if effects.persist:
            if self._crashes_while_writing(node_id):
                # Only a prefix of the batch's records reached the disk, and nothing was sent:
                # the runtime replies only after fsync. The acceptor restarts from what is left.
                kept = self.rng.randrange(len(effects.persist))
                self.disks[node_id].extend(effects.persist[:kept])
                self._crash_node(node_id)
                return
            self.disks[node_id].extend(effects.persist)   # durable before anything is sent
        for dest, msg in effects.sends:
            self._post(node_id, dest, msg)
        for reply in effects.replies:
            self._post(node_id, reply.client_id, reply)

    def _deliver(self, index):
        _, src, dest, msg = self.network.pop(index)
        if not self._connected(src, dest) or src in self.crashed or dest in self.crashed:
            return
        if dest in self.nodes:
            self._apply(dest, self.nodes[dest].handle(msg, self.clock(dest)))
            self._check(dest)
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
            client.on_reply(msg, self.now)

    def _note_rejoined(self, client, reply):
        """As `concoord replica` does once its join is acknowledged: until it has applied the
        join, the replica may have to recover the log itself (Leader.expected_member)."""
        command = client.outstanding
        if (command is not None and command.method == "@join" and reply.status == OK
                and reply.number == command.number and client in self.rejoiners.values()):
            joined = client.client_id[len("join-"):]
            if joined not in self.crashed:
                self.nodes[joined].leader.expected_member = True

    def _client(self, client_id):
        for client in self.clients:
            if client.client_id == client_id:
                return client
        return None

    # ---- steps ---------------------------------------------------------------------------------

    TICK = 0.005
    READ_SHARE = 0.3          # of client calls: reads the leader may answer from its lease
    FAULT_INTERVAL = 0.15     # mean sim-seconds between faults

    def step(self, faulty):
        """One event: a fault, a timer tick, a client request, or one message delivered (any
        due message, so deliveries reorder). Time jumps to the next event when nothing is due."""
        self.faulty_step = faulty
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
            self.now = min([self.next_tick] + [m[0] for m in self.network])
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
        self._rejoin_removed_replicas()     # as `concoord replica` does, also while settling
        for replica in self.replica_ids:
            self._whole(replica)            # notes who is out of the view, to catch up later
        self._note_left_behind()
        for node_id, node in self.nodes.items():
            if node_id not in self.crashed:
                self._apply(node_id, node.tick(self.clock(node_id)))
                self._check(node_id)
        for client in self.clients + self.watchers:
            resend = client.retry(self.now)
            if resend:
                self._post(client.client_id, *resend)

    def _client_step(self):
        client = self.rng.choice(self.clients[:self.n_workers])
        if client.outstanding is None and self.submitting:
            method = "count" if self.rng.random() < self.READ_SHARE else "append"
            self._post(client.client_id, *client.next_request(self.now, method))

    def _fault(self):
        kind = self.rng.choice(["crash", "crash", "restart", "partition", "partition",
                                "isolate_leader", "crash_leader", "rolling_restart",
                                "reconfigure", "partial_partition", "heal"])
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
        elif kind == "restart" and self.crashed:
            self._restart(self.rng.choice(sorted(self.crashed)))
        elif kind == "isolate_leader":
            leaders = [n for n in self.replica_ids if n not in self.crashed
                       and self.nodes[n].leader.is_active]
            if leaders:
                self.partition = {leaders[0]} | set(self.rng.sample(self.acceptor_ids, 1))
        elif kind == "partial_partition":
            self._cut_links()
        elif kind == "partition":
            everyone = self.replica_ids + self.acceptor_ids
            self.partition = set(self.rng.sample(everyone, self.rng.randint(1, len(everyone) // 2)))
        else:
            self.partition = None
            self.cut_links.clear()

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
        if self.admin.outstanding is not None:
            return
        config = self._latest_config()
        spare = [a for a in self.acceptor_ids if a not in config.acceptors]
        roll = self.rng.random()
        if roll < 0.4 and spare and len(config.acceptors) <= len(self.acceptor_ids) - 1:
            request = self.admin.next_request(self.now, "@join", ("acceptor", self.rng.choice(spare)))
        elif roll < 0.8 and len(config.acceptors) > 3:
            victim = self.rng.choice(config.acceptors)
            request = self.admin.next_request(self.now, "@remove", (victim,))
        elif len(config.replicas) == len(self.replica_ids):
            victim = self.rng.choice(config.replicas)
            request = self.admin.next_request(self.now, "@remove", (victim,))
        else:
            absent = [r for r in self.replica_ids if r not in config.replicas]
            request = self.admin.next_request(self.now, "@join", ("replica", absent[0]))
        self._post("admin", *request)

    def _latest_config(self):
        replicas = [self.nodes[r].learner for r in self.replica_ids if r not in self.crashed]
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

    def heal(self):
        self.partition = None
        self.cut_links.clear()
        for node_id in sorted(self.crashed):
            self._restart(node_id)

    # ---- checks ---------------------------------------------------------------------------------

    def _check(self, node_id):
        node = self.nodes[node_id]
        node.check_invariants()
        if isinstance(node, AcceptorNode):
            return
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
                if (c.client_id, c.number) not in decided and c.method != "count"]


def run(seed, steps=2000, n_acceptors=3, n_replicas=3, leader_class=None, clock_skew=None):
    """Run one seeded schedule; raise Violation (with a repro line) on any broken property."""
    cluster = Cluster(seed, n_acceptors, n_replicas, leader_class=leader_class,
                      clock_skew=clock_skew)
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
    for _ in range(max_steps):
        if not unsettled():
            break
        cluster.step(faulty=False)
    return unsettled()
