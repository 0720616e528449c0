"""A replica node: the Replica and its colocated Leader, behind one handle/tick interface.

This is what the runtime drives for `concoord replica` and what the simulator drives for each
replica: every input is a message plus the current time, every output an Effects.
"""

from collections import deque

from concoord.protocol.config import ConfigHistory, with_node
from concoord.protocol.effects import Effects
from concoord.protocol.leader import Leader
from concoord.protocol.replica import Replica
from concoord.protocol.snapshot import install_snapshot, take_snapshot
from concoord.protocol.timing import Timing
from concoord.protocol.watches import UNWATCH, WATCH, Watches
from concoord.errors import WireError
from concoord.wire.messages import (
    OK, REDIRECT, REJECTED, SESSION_EXPIRED, STALE_NUMBER, Accepted, Applied, CatchupReply,
    CatchupRequest, ClientReply, ClientRequest, Decision, Heartbeat, HeartbeatReply, Promise)
from concoord.wire.values import ExceptionValue, decode_call_arguments, encode_value


KEEPALIVE = "@keepalive"
RETAINED_DECISIONS = 1024      # applied slots kept to catch peers up without a snapshot ...
RETAINED_COMMANDS = 16384      # ... and at most about this many commands in them
FROM_ACCEPTORS = (Promise, Accepted, HeartbeatReply)
FROM_REPLICAS = (Decision, Heartbeat, CatchupReply, Applied)
# Internal operations a client may request (the rest, like @expire, only the leader proposes).
CLIENT_INTERNAL = ("@join", "@remove", "@session", "@cancel", KEEPALIVE, WATCH, UNWATCH)
END_OF_SLOT = 1 << 30     # a watch tag's index meaning "after the whole slot"
# Of those, the ones that change who is in the instance: when the instance has a secret, only
# connections that authenticated as nodes may send them (see concoord.runtime.admission).
NODE_ONLY = ("@join", "@remove")


class ReplicaNode:
    def __init__(self, node_id, configuration, state_machine, now, timing=Timing(), window=None,
                 incarnation=0):
        history = (configuration if isinstance(configuration, ConfigHistory)
                   else ConfigHistory(configuration, **({"window": window} if window else {})))
        self.node_id = node_id
        self.timing = timing
        self.state_machine = state_machine
        self.replica = Replica(node_id, history, state_machine)
        self.leader = Leader(node_id, self.replica, timing, now, incarnation)
        self.last_catchup = now - timing.catchup_interval
        self.reads = deque()       # (read barrier slot, command): lease reads waiting to run
        self.durable = False       # True when the driver persists snapshots (a data dir)
        self.durable_slot = 1      # ... and the slot_out of the last one it persisted
        self.retained_decisions = RETAINED_DECISIONS
        self.retained_commands = RETAINED_COMMANDS
        self.known_peers = set()   # replicas a joining node learnt of from its bootstrap
        self.catchup_turn = 0
        self._served_snapshot = (None, None)   # (slot_out, snapshot) last sent to a peer
        self.watches = Watches(node_id)
        self.replica.after_command = self._after_command
        self._leading = False      # was the leader after the last input (watches follow it)

    @property
    def configs(self):
        return self.replica.configs

    def handle(self, msg, now):
        effects = Effects()
        handler = self._HANDLERS.get(type(msg))
        if handler is not None and self._from_member(msg):
            handler(self, msg, now, effects)
        self._follow_leadership(effects)
        return effects

    def _follow_leadership(self, effects):
        """Watches live at the leader: when it stops leading, its watchers go elsewhere."""
        if self._leading and not self.leader.is_active:
            hint = self.leader.leader_id if self.leader.leader_id != self.node_id else None
            self.watches.step_down(hint, effects)
        self._leading = self.leader.is_active

    def _from_member(self, msg):
        """Consensus messages count only from the members that may send them: a stranger's
        Decision, Heartbeat or high-ballot Promise must not steer this replica."""
        replicas, acceptors = self.configs.members()
        if isinstance(msg, FROM_ACCEPTORS):
            return msg.src in acceptors
        if isinstance(msg, FROM_REPLICAS):
            return msg.src in replicas or msg.src in self.known_peers
        return True

    def tick(self, now):
        effects = self.leader.tick(now)
        self._maybe_catch_up(now, effects)
        self._serve_reads(now, effects)
        if self.leader.is_active:
            self.leader.update_gc_floor(now, self.applied_durably())
        self._follow_leadership(effects)
        if (len(self.replica.decisions) > 2 * self.retained_decisions
                or self.replica.held_commands > 2 * self.retained_commands):
            floor = self._retention_floor()
            self.replica.forget_before(floor)
            self.configs.forget_before(floor)   # configurations of forgotten slots only
        return effects

    def _retention_floor(self):
        """The oldest applied slot to keep: the last retained_decisions slots, fewer if they
        hold more than retained_commands commands (memory follows commands, not slots)."""
        slot, commands = self.replica.slot_out, 0
        while slot > self.replica.slot_out - self.retained_decisions:
            batch = self.replica.decisions.get(slot - 1)
            if batch is None or commands + len(batch.commands) > self.retained_commands:
                break
            commands += len(batch.commands)
            slot -= 1
        return slot

    def applied_durably(self):
        """Through which slot this replica's state survives a crash of the whole instance."""
        return self.durable_slot if self.durable else self.replica.slot_out

    # ---- clients ----------------------------------------------------------------------------

    def _on_client_request(self, msg, now, effects):
        command = msg.command
        if command.client_id != msg.src:
            return self._refuse(command, "client id does not match the sender", effects)
        reason = self._refusal(command)
        if reason is not None:
            return self._refuse(command, reason, effects)
        if command.method == "@join" and self._genesis_join(command, now, effects):
            return
        if self.leader.is_active:
            self.leader.sessions.touch(command.client_id, now)
            if command.method == KEEPALIVE:   # liveness only: no slot needed
                return self.replica.reply(command, (OK, encode_value(None)), effects)
        if not self.leader.is_active:
            hint = self.leader.leader_id if self.leader.leader_id != self.node_id else None
            if self.node_id not in self.configs.latest.replicas:
                hint = None     # not a member (any more): what it knows of leaders is stale
            effects.replies.append(ClientReply(self.node_id, command.client_id, command.number,
                                               REDIRECT, b"", hint))
            return
        if command.method in (WATCH, UNWATCH):
            return self._on_watch(command, now, effects)
        if self.state_machine.is_readonly(command.method) and self.leader.lease_valid(now):
            self.reads.append((self.leader.read_barrier(), command))
            return self._serve_reads(now, effects)
        state, stored = self.replica.client_table.lookup(command.client_id, command.number)
        if state == "done":
            self.replica.reply(command, stored, effects)
        elif state == "stale":
            self._refuse(command, STALE_NUMBER, effects)
        else:
            self.leader.submit(command, now, effects)

    def _on_watch(self, command, now, effects):
        """@watch [method, args, kwargs, [slot, index] last seen] or @unwatch [number]."""
        try:
            args, _ = decode_call_arguments(command.args)
        except WireError:
            args = None
        if command.method == UNWATCH and isinstance(args, list) and len(args) == 1:
            self.watches.cancel(command.client_id, args[0])
            return self.replica.reply(command, (OK, encode_value(None)), effects)
        if command.method == WATCH and _is_watch(args):
            method, call_args, call_kwargs, last = args
            tag = (self.replica.slot_out - 1, END_OF_SLOT)
            return self.watches.register(command, method, call_args, call_kwargs,
                                         self._missed_since(*last), self.state_machine, tag,
                                         self._read_stamp(now), effects)
        self._refuse(command, f"malformed {command.method}", effects)

    def _missed_since(self, slot, index):
        """Whether commands applied after (slot, index) may have changed a watched result
        unseen: a watcher resuming there (0, 0: a new watch) gets only the current result."""
        if (slot, index) == (0, 0):
            return False
        last_applied = self.replica.slot_out - 1
        if slot < last_applied:
            return True
        batch = self.replica.decisions.get(slot)
        return slot == last_applied and (batch is None or index < len(batch.commands) - 1)

    def _after_command(self, slot, index, effects):
        if not (self.watches and self.leader.is_active):
            return
        command = self.replica.decisions[slot].commands[index]
        if command.method == "@expire":       # a dead client's watches end with its session
            for client_id in _expired_client(command):
                self.watches.forget_client(client_id, effects, SESSION_EXPIRED)
        self.watches.evaluate(self.state_machine, (slot, index), self.replica.batch_time,
                              effects)

    def forget_clients(self, client_ids):
        """Their connection closed (the runtime says): drop their watches."""
        for client_id in client_ids:
            self.watches.forget_client(client_id)

    def _refusal(self, command):
        if command.method in CLIENT_INTERNAL:
            return None
        if command.client_id in self.replica.expired:
            return SESSION_EXPIRED
        return self.state_machine.refusal(command.method)

    def _refuse(self, command, reason, effects):
        value = encode_value(ExceptionValue("RuntimeError", [reason]))
        effects.replies.append(ClientReply(self.node_id, command.client_id, command.number,
                                           REJECTED, value, None))

    def _genesis_join(self, command, now, effects):
        """The first acceptor to reach the bootstrap replica completes the initial configuration
        directly: with no acceptor, nothing can have been decided yet."""
        config = self.configs.latest
        if config.acceptors or self.replica.slot_out != 1:
            return False
        try:
            args, _ = decode_call_arguments(command.args)
        except WireError:
            return False
        if len(args) != 2 or args[0] != "acceptor" or not isinstance(args[1], str):
            return False
        node = args[1]
        new = with_node(config, "acceptor", node)
        self.configs.set_genesis(new)
        reply = (0, encode_value([list(group) for group in new]))
        self.replica.client_table.record(command.client_id, command.number, reply)
        self.replica.reply(command, reply, effects)
        self.leader.campaign(now, effects)   # the only replica: it leads
        return True

    # ---- consensus --------------------------------------------------------------------------

    def _serve_reads(self, now, effects):
        """Answer lease reads once the replica has applied everything the leader proposed
        before they arrived; if the lease lapsed meanwhile, they go through the log."""
        while self.reads and self.reads[0][0] <= self.replica.slot_out:
            _, command = self.reads.popleft()
            if self.leader.lease_valid(now):
                reply = self.state_machine.execute(command, None, self._read_stamp(now))
                self.replica.reply(command, reply, effects)
            elif self.leader.is_active:
                self.leader.submit(command, now, effects)
        if self.reads and not self.leader.is_active:
            self.reads.clear()     # their clients will retry at the new leader

    def _read_stamp(self, now):
        """The replicated clock a lease read sees: the leader's clock, as a slot it proposed
        now would carry, never before the stamp of the last slot applied (a Lock's held()
        through the lease must agree with held() through the log)."""
        return max(float(now + self.leader.clock_offset), self.replica.batch_time)

    def _on_promise(self, msg, now, effects):
        self.leader.on_promise(msg, now, effects)

    def _on_accepted(self, msg, now, effects):
        decided = self.leader.on_accepted(msg, now, effects)
        if decided is not None:
            self._decide(decided[0], decided[1], now, effects)

    def _on_decision(self, msg, now, effects):
        self._decide(msg.slot, msg.batch, now, effects)

    def _decide(self, slot, batch, now, effects):
        first = self.replica.slot_out
        if slot is None:
            self.replica.apply_ready(effects)
        else:
            self.replica.on_decision(slot, batch, effects)
        for applied in range(first, self.replica.slot_out):
            self.leader.on_applied(applied, self.replica.decisions[applied], now, effects)
        if self.reads:
            self._serve_reads(now, effects)

    def _on_heartbeat(self, msg, now, effects):
        self.leader.on_heartbeat(msg, now, effects)
        if msg.src == self.leader.leader_id:
            effects.send(msg.src, Applied(self.node_id, self.replica.slot_out,
                                          self.applied_durably()))

    def _on_applied(self, msg, now, effects):
        self.leader.on_applied_report(msg, now)

    def _on_heartbeat_reply(self, msg, now, effects):
        self.leader.on_heartbeat_reply(msg, now, effects)

    # ---- catch-up -----------------------------------------------------------------------------

    def _behind(self):
        return (self.replica.has_gap() or self.leader.leader_slot_out > self.replica.slot_out
                or self.node_id not in self.configs.latest.replicas)

    def _maybe_catch_up(self, now, effects):
        if not self._behind() or now - self.last_catchup < self.timing.catchup_interval:
            return
        self.last_catchup = now
        # Any replica of any configuration may hold what is missing (a removed one included).
        peers = sorted((self.configs.members()[0] | self.known_peers) - {self.node_id})
        leader = self.leader.leader_id
        if leader in peers:   # ask the leader every other time, the others in turn
            peers = [leader] + [p for p in peers if p != leader]
        if peers:
            self.catchup_turn += 1
            peer = peers[0] if self.catchup_turn % 2 else peers[self.catchup_turn // 2 % len(peers)]
            effects.send(peer, CatchupRequest(self.node_id, self.replica.slot_out))

    def _on_catchup_request(self, msg, now, effects):
        if msg.from_slot < self.replica.oldest_decision():
            snapshot = self._snapshot()   # the peer needs what we forgot
            if snapshot is not None:
                decisions = self.replica.decisions_from(self.replica.slot_out)
                effects.send(msg.src, CatchupReply(self.node_id, decisions, snapshot,
                                                   self.replica.slot_out))
            return
        decisions = self.replica.decisions_from(msg.from_slot)
        if decisions:
            effects.send(msg.src, CatchupReply(self.node_id, decisions))

    def _snapshot(self):
        """A snapshot of the current state, built once per slot_out: a far-behind peer asks
        every catch-up interval until it has installed one, and building it costs as much as
        the object is large."""
        if self._served_snapshot[0] != self.replica.slot_out:
            self._served_snapshot = (self.replica.slot_out, take_snapshot(self.replica))
        return self._served_snapshot[1]

    def _on_catchup_reply(self, msg, now, effects):
        if msg.snapshot and msg.snapshot_slot > self.replica.slot_out:
            try:
                install_snapshot(self.replica, msg.snapshot)
            except WireError:
                return
            self.leader.batcher.forget_applied(self.replica.client_table)
            if self.watches:
                self.watches.skipped(self.state_machine, (self.replica.slot_out - 1, END_OF_SLOT),
                                     self.replica.batch_time, effects)
            self._decide(None, None, now, effects)   # decisions held past the snapshot
        for slot, batch in msg.decisions:
            self._decide(slot, batch, now, effects)

    # ---- status -------------------------------------------------------------------------------

    def status(self):
        config = self.configs.latest
        return {
            "node": self.node_id, "role": "replica", "state": self.leader.state,
            "leader": self.leader.leader_id, "ballot": list(self.leader.leader_ballot),
            "slot_out": self.replica.slot_out,
            "commands_applied": self.replica.commands_applied,
            "replicas": list(config.replicas), "acceptors": list(config.acceptors),
            "nameservers": list(config.nameservers),
            "genesis": [list(c) for c in self.configs.config_for(1)],
            "object": self.state_machine.describe(),
        }

    _HANDLERS = {
        ClientRequest: _on_client_request, Promise: _on_promise, Accepted: _on_accepted,
        Decision: _on_decision, Heartbeat: _on_heartbeat, HeartbeatReply: _on_heartbeat_reply,
        CatchupRequest: _on_catchup_request, CatchupReply: _on_catchup_reply,
        Applied: _on_applied,
    }

    def check_invariants(self):
        self.leader.check_invariants()
        assert all(slot >= 1 for slot in self.replica.decisions)


def _is_watch(args):
    return (isinstance(args, list) and len(args) == 4 and isinstance(args[0], str)
            and isinstance(args[1], list) and isinstance(args[2], dict)
            and isinstance(args[3], list) and len(args[3]) == 2
            and all(isinstance(n, int) for n in args[3]))


def _expired_client(command):
    """The client an @expire command names ([] if malformed: the replica refused it)."""
    try:
        args, _ = decode_call_arguments(command.args)
    except WireError:
        return []
    return args[:1] if len(args) == 1 and isinstance(args[0], str) else []
