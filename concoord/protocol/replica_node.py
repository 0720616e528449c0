"""A replica node's agreeing half: the Learner and its colocated Leader, behind one handle/tick
interface. Every input is a message plus the current time, every output an Effects.

It never runs the object: decided slots leave in Effects.committed, ready lease reads in
Effects.reads, watch registrations in Effects.watches, and concoord.host.HostedReplica applies
them. Before proposing a client's command it asks the host three questions that run no user code
(``host``, see HostQueries): may this method be called, does it only read, and has this
command already run.
"""

from collections import deque
from typing import Optional, Protocol, Tuple

from concoord.errors import WireError
from concoord.protocol.config import ConfigHistory, with_node
from concoord.protocol.effects import Effects
from concoord.protocol.leader import Leader
from concoord.protocol.learner import Learner, rejection, reply
from concoord.protocol.timing import Timing
from concoord.wire.codec import MAX_FRAME
from concoord.wire.messages import (
    OK, REDIRECT, SESSION_EXPIRED, STALE_NUMBER, Accepted, Applied, CatchupReply,
    CatchupRequest, ClientReply, ClientRequest, Decision, Heartbeat, HeartbeatReply, Promise)
from concoord.wire.status import ReplicaView
from concoord.wire.values import decode_call_arguments, encode_value


KEEPALIVE = "@keepalive"
# The one record a replica persists (see _genesis_join): ("genesis", its initial Configuration).
GENESIS_RECORD = "genesis"
WATCH, UNWATCH = "@watch", "@unwatch"
RETAINED_DECISIONS = 1024      # handed-over slots kept to catch peers up without a snapshot ...
RETAINED_COMMANDS = 16384      # ... and at most about this many commands in them
FROM_ACCEPTORS = (Promise, Accepted, HeartbeatReply)
FROM_REPLICAS = (Decision, Heartbeat, CatchupReply, Applied)
# Internal operations a client may request (the rest, like @expire, only the leader proposes).
CLIENT_INTERNAL = ("@join", "@remove", "@session", "@cancel", KEEPALIVE, WATCH, UNWATCH)
# Of those, the ones that change who is in the instance: when the instance has a secret, only
# connections that authenticated as nodes may send them (see concoord.runtime.admission).
NODE_ONLY = ("@join", "@remove")
Reply = Tuple[int, bytes]     # (status, encoded value), as in a ClientReply


# The largest command the log takes: the Accept, Decision, Promise and catch-up reply that carry
# it (alone in its batch, see batcher.py) must still fit in a frame. A request just under the
# frame limit would fit while its Accept did not: never sent, its slot would stall the log.
MAX_COMMAND_BYTES = MAX_FRAME - (64 << 10)


def _too_large(command):
    size = len(command.args) + len(command.method) + len(command.client_id)
    if size > MAX_COMMAND_BYTES:
        return (f"call too large: {size} bytes of arguments, at most {MAX_COMMAND_BYTES} "
                "(the frame limit less room for the messages that carry it)")
    return None


class HostQueries(Protocol):
    """What the node asks the host before proposing a client's command (no user code runs)."""

    def refusal(self, method: str) -> Optional[str]:
        """Why a client may not call ``method`` at all, or None."""

    def is_readonly(self, method: str) -> bool:
        """True if ``method`` only reads: the leader may answer it from its read lease."""

    def lookup(self, client_id: str, number: int) -> Tuple[str, Optional[Reply]]:
        """('new', None), ('done', stored reply) or ('stale', None): exactly-once."""


class NothingRunYet:
    """HostQueries of a host that accepts every method, none read-only, and has run nothing:
    for protocol tests that drive a ReplicaNode alone."""

    def refusal(self, method):
        return None

    def is_readonly(self, method):
        return False

    def lookup(self, client_id, number):
        return "new", None


class ReplicaNode:
    def __init__(self, node_id, configuration, now, timing=Timing(), window=None,
                 incarnation=0, host=None):
        history = (configuration if isinstance(configuration, ConfigHistory)
                   else ConfigHistory(configuration, **({"window": window} if window else {})))
        self.node_id = node_id
        self.timing = timing
        self.host = host or NothingRunYet()
        self.learner = Learner(node_id, history)
        self.leader = Leader(node_id, self.learner, timing, now, incarnation)
        self.last_catchup = now - timing.catchup_interval
        self.reads = deque()       # (read barrier slot, command): lease reads waiting to run
        self.durable = False       # True when the driver persists snapshots (a data dir)
        self.durable_slot = 1      # ... and the slot_out of the last one it persisted
        self.retained_decisions = RETAINED_DECISIONS
        self.retained_commands = RETAINED_COMMANDS
        self.known_peers = set()   # replicas a joining node learnt of from its bootstrap
        self.catchup_turn = 0

    @property
    def configs(self):
        return self.learner.configs

    def handle(self, msg, now):
        effects = Effects()
        handler = self._HANDLERS.get(type(msg))
        if handler is not None and self.from_member(msg):
            handler(self, msg, now, effects)
        return effects

    def from_member(self, msg):
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
        if (len(self.learner.decisions) > 2 * self.retained_decisions
                or self.learner.held_commands > 2 * self.retained_commands):
            floor = self._retention_floor()
            self.learner.forget_before(floor)
            self.configs.forget_before(floor)   # configurations of forgotten slots only
        return effects

    def _retention_floor(self):
        """The oldest handed-over slot to keep: the last retained_decisions slots, fewer if they
        hold more than retained_commands commands (memory follows commands, not slots)."""
        slot, commands = self.learner.slot_out, 0
        while slot > self.learner.slot_out - self.retained_decisions:
            batch = self.learner.decisions.get(slot - 1)
            if batch is None or commands + len(batch.commands) > self.retained_commands:
                break
            commands += len(batch.commands)
            slot -= 1
        return slot

    def applied_durably(self):
        """Through which slot this replica's state survives a crash of the whole instance."""
        return self.durable_slot if self.durable else self.learner.slot_out

    # ---- clients ----------------------------------------------------------------------------

    def _on_client_request(self, msg, now, effects):
        command = msg.command
        if command.client_id != msg.src:
            return self._refuse(command, "client id does not match the sender", effects)
        reason = self._refusal(command) or _too_large(command)
        if reason is not None:
            return self._refuse(command, reason, effects)
        if command.method == "@join" and self._genesis_join(command, now, effects):
            return
        if self.leader.is_active:
            self.leader.sessions.touch(command.client_id, now)
            if command.method == KEEPALIVE:   # liveness only: no slot needed
                return reply(self.node_id, command, (OK, encode_value(None)), effects)
        if not self.leader.is_active:
            return self.redirect(command, effects)
        if command.method in (WATCH, UNWATCH):
            return effects.watches.append((command, self.read_stamp(now)))
        if self.host.is_readonly(command.method) and self.leader.lease_valid(now):
            self.reads.append((self.leader.proposer.read_barrier(), command))
            return self._serve_reads(now, effects)
        answers = self.learner if self.learner.runs_itself(command.method) else self.host
        state, stored = answers.lookup(command.client_id, command.number)
        if state == "done":
            reply(self.node_id, command, stored, effects)
        elif state == "stale":
            self._refuse(command, STALE_NUMBER, effects)
        else:
            self.leader.submit(command, now, effects)

    def redirect(self, command, effects):
        """Not the leader: send the client to the one it follows, if it knows one."""
        hint = self.leader.leader_id if self.leader.leader_id != self.node_id else None
        if self.node_id not in self.configs.latest.replicas:
            hint = None     # not a member (any more): what it knows of leaders is stale
        effects.replies.append(ClientReply(self.node_id, command.client_id, command.number,
                                           REDIRECT, b"", hint))

    def _refusal(self, command):
        if command.method in CLIENT_INTERNAL:
            return None
        if command.client_id in self.learner.expired:
            return SESSION_EXPIRED
        return self.host.refusal(command.method)

    def _refuse(self, command, reason, effects):
        reply(self.node_id, command, rejection(reason), effects)

    def _genesis_join(self, command, now, effects):
        """The first acceptor to reach the bootstrap replica completes the initial configuration
        directly: with no acceptor, nothing can have been decided yet. A restarted replica
        replays the log from that configuration, so the driver records it before answering."""
        config = self.configs.latest
        if config.acceptors or self.learner.slot_out != 1:
            return False
        try:
            args, _ = decode_call_arguments(command.args)
        except WireError:
            return False
        if len(args) != 2 or args[0] != "acceptor" or not isinstance(args[1], str):
            return False
        new = with_node(config, "acceptor", args[1])
        self.configs.set_genesis(new)
        effects.persist.append((GENESIS_RECORD, new))   # on disk before the answer leaves
        result = (OK, encode_value([list(group) for group in new]))
        self.learner.record_own(command, result)
        reply(self.node_id, command, result, effects)
        self.leader.campaign(now, effects)   # the only replica: it leads
        return True

    # ---- consensus --------------------------------------------------------------------------

    def _serve_reads(self, now, effects):
        """Hand lease reads to the host once everything the leader proposed before they
        arrived is committed; if the lease lapsed meanwhile, they go through the log."""
        while self.reads and self.reads[0][0] <= self.learner.slot_out:
            _, command = self.reads.popleft()
            if self.leader.lease_valid(now):
                effects.reads.append((command, self.read_stamp(now)))
            elif self.leader.is_active:
                self.leader.submit(command, now, effects)
        if self.reads and not self.leader.is_active:
            self.reads.clear()     # their clients will retry at the new leader

    def read_stamp(self, now):
        """The replicated clock a lease read sees: the leader's clock, as a slot it proposed
        now would carry, never before the stamp of the last slot handed over (a Lock's held()
        through the lease must agree with held() through the log)."""
        return max(float(now + self.leader.clock_offset), self.learner.batch_time)

    def _on_promise(self, msg, now, effects):
        self.leader.on_promise(msg, now, effects)

    def _on_accepted(self, msg, now, effects):
        decided = self.leader.on_accepted(msg, now, effects)
        if decided is not None:
            self._decide(decided[0], decided[1], now, effects)

    def _on_decision(self, msg, now, effects):
        self._decide(msg.slot, msg.batch, now, effects)

    def _decide(self, slot, batch, now, effects):
        first = self.learner.slot_out
        if slot is None:
            self.learner.deliver_ready(effects)
        else:
            self.learner.on_decision(slot, batch, effects)
        for committed in range(first, self.learner.slot_out):
            self.leader.on_applied(committed, self.learner.decisions[committed], now, effects)
        if self.reads:
            self._serve_reads(now, effects)

    def _on_heartbeat(self, msg, now, effects):
        self.leader.on_heartbeat(msg, now, effects)
        if msg.src == self.leader.leader_id:
            effects.send(msg.src, Applied(self.node_id, self.learner.slot_out,
                                          self.applied_durably()))

    def _on_applied(self, msg, now, effects):
        self.leader.on_applied_report(msg, now)

    def _on_heartbeat_reply(self, msg, now, effects):
        self.leader.on_heartbeat_reply(msg, now, effects)

    # ---- catch-up -----------------------------------------------------------------------------

    def _behind(self):
        return (self.learner.has_gap() or self.leader.leader_slot_out > self.learner.slot_out
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
            effects.send(peer, CatchupRequest(self.node_id, self.learner.slot_out))

    def needs_snapshot(self, msg):
        """A CatchupRequest from before the oldest decision held: only a snapshot (which the
        host takes: it holds the object) can catch that peer up."""
        return msg.from_slot < self.learner.oldest_decision()

    def _on_catchup_request(self, msg, now, effects):
        decisions = self.learner.decisions_from(msg.from_slot)
        if decisions and not self.needs_snapshot(msg):
            effects.send(msg.src, CatchupReply(self.node_id, decisions))

    def installed_snapshot(self, now, effects):
        """The host installed a snapshot (learner included): the leader settles what it
        proposed in the slots it skipped, then the decisions held past it are committed."""
        self.leader.installed_snapshot(now, effects)
        self._decide(None, None, now, effects)

    def _on_catchup_reply(self, msg, now, effects):
        for slot, batch in msg.decisions:    # a snapshot in it is the host's (HostedReplica)
            self._decide(slot, batch, now, effects)

    # ---- status -------------------------------------------------------------------------------

    def view(self):
        """What this replica says of the instance (its status, without the object)."""
        config = self.configs.latest
        return ReplicaView(
            node=self.node_id, state=self.leader.state, leader=self.leader.leader_id,
            ballot=tuple(self.leader.leader_ballot), slot_out=self.learner.slot_out,
            commands_applied=self.learner.commands_applied, replicas=config.replicas,
            acceptors=config.acceptors, nameservers=config.nameservers,
            genesis=self.configs.config_for(1))

    _HANDLERS = {
        ClientRequest: _on_client_request, Promise: _on_promise, Accepted: _on_accepted,
        Decision: _on_decision, Heartbeat: _on_heartbeat, HeartbeatReply: _on_heartbeat_reply,
        CatchupRequest: _on_catchup_request, CatchupReply: _on_catchup_reply,
        Applied: _on_applied,
    }

    def check_invariants(self):
        self.leader.check_invariants()
        assert all(slot >= 1 for slot in self.learner.decisions)
        assert self.learner.slot_out not in self.learner.decisions, \
            "a decision at slot_out is handed over as soon as it is known"
