"""The learner: learns decided batches and hands them over in slot order, each exactly once.

Its state is the fold of the decisions: slot_out - 1 slots handed over, the configuration
history, the open and expired client sessions, and the replies of the commands it runs itself.
Decisions may arrive out of order, twice, or from catch-up; a decision, once known, never
changes.

Where agreeing ends: each slot goes out as a Committed entry in Effects.committed, for the host
(concoord.host) to apply to the object. The learner runs only the commands that are the
instance's own business: membership (@join, @remove) and sessions (@session, @expire), and it
refuses every command of a client whose session expired. Those it answers itself (their replies
in Effects.replies) and marks in the entry, so the host skips them; an @expire that ended a
session names its client there, for the host to release what the client held.
"""

from collections import OrderedDict
from typing import Dict, NamedTuple, Optional

from concoord.errors import WireError
from concoord.protocol.config import ROLES, with_node, without_node
from concoord.wire.messages import OK, REJECTED, SESSION_EXPIRED, ClientReply
from concoord.wire.types import Batch, batch_bytes
from concoord.wire.values import ExceptionValue, decode_call_arguments, encode_value

# An acceptor that still has its promises restarts from its --data-dir and never joins: one
# that asks to join under a member's id has lost them, and letting it answer as that member
# would let two leaders both win a quorum.
AMNESIAC_ACCEPTOR = ("acceptor {} is already a member of this instance: restart it with the "
                     "--data-dir that holds its promises, or replace it by a new acceptor on "
                     "another address (its promises are lost)")
MAX_CATCHUP_BATCH = 256
MAX_CATCHUP_COMMANDS = 16384    # batches hold up to 1024 commands: bound a reply's size too
# ... and its bytes: a batch holds up to 1 MiB of arguments, and a reply must stay well under
# the 32 MiB frame limit (an oversized frame cannot be sent, so the peer would ask forever).
MAX_CATCHUP_BYTES = 8 << 20
# The host applies these; every other "@" method is the learner's. (@cancel gives up a parked
# call: that is the object's state.)
HOST_INTERNAL = ("@cancel",)
# Replies of the learner's own commands kept for retries (exactly-once): membership and session
# commands are rare, so the newest few hundred cover every retry in practice.
OWN_REPLIES_KEPT = 512
# A client whose session expired is refused (its calls may or may not have run) for a day of
# the replicated clock, and at most this many are remembered, oldest forgotten first: unbounded,
# the set grew with every client that ever had a session (each closed proxy's expires). A
# client back after that is a new one to the instance.
EXPIRED_KEPT_FOR = 24 * 3600.0
EXPIRED_KEPT_MAX = 100_000


class Committed(NamedTuple):
    """One decided slot, handed to the host. ``ran`` maps the index of every command the
    learner ran (or refused) itself to None, or, for an @expire that ended a session, to the
    client whose session ended."""
    slot: int
    batch: Batch
    ran: Dict[int, Optional[str]]


class Learner:
    def __init__(self, node_id, configs):
        self.node_id = node_id
        self.configs = configs
        self.slot_out = 1          # the next slot to hand over
        self.decisions = {}        # slot -> Batch, decided (recent ones kept for catch-up)
        self.held_commands = 0     # commands in self.decisions
        self.highest_decided = 0
        self.on_reconfigure = None  # callback(slot, new, old config) for the colocated leader
        self.sessions = {}         # client id -> lease (s): open sessions, replicated
        self.expired = OrderedDict()   # client id -> when its session expired (batch time),
                                       # oldest first: their commands are refused
        self.own_replies = OrderedDict()   # (client id, number) -> reply, oldest first
        self.batch_time = 0.0      # the leader's clock stamped on the last slot handed over
        self.commands_applied = 0  # handed over since this replica started (for status)

    def decided(self, slot):
        return self.decisions.get(slot)

    def on_decision(self, slot, batch, effects):
        known = self.decisions.get(slot)
        if known is not None:
            assert known == batch, f"slot {slot} decided twice with different batches"
            return
        if slot < self.slot_out:
            return  # handed over and already forgotten
        self.decisions[slot] = batch
        self.held_commands += len(batch.commands)
        self.highest_decided = max(self.highest_decided, slot)
        self.deliver_ready(effects)

    def deliver_ready(self, effects):
        """Hand over held decisions from slot_out on, in order, as far as there is no gap (also
        after a snapshot install, which may leave slot_out on a decision already held)."""
        while self.slot_out in self.decisions:
            slot = self.slot_out
            batch = self.decisions[slot]
            effects.committed.append(Committed(slot, batch, self._run_own(slot, batch, effects)))
            self.slot_out += 1

    def has_gap(self):
        """True when later slots are decided but the next one to hand over is missing."""
        return self.highest_decided > self.slot_out

    def forget_before(self, slot):
        """Drop handed-over decisions below ``slot`` (a snapshot serves peers that far behind)."""
        slot = min(slot, self.slot_out)
        for old in [s for s in self.decisions if s < slot]:
            self.held_commands -= len(self.decisions.pop(old).commands)

    def oldest_decision(self):
        return min(self.decisions, default=self.slot_out)

    def decisions_from(self, from_slot):
        """Decisions this replica still holds, from ``from_slot`` on (for a lagging peer)."""
        out, commands, size = [], 0, 0
        slot = from_slot
        while slot in self.decisions and len(out) < MAX_CATCHUP_BATCH:
            batch = self.decisions[slot]
            commands += len(batch.commands)
            size += batch_bytes(batch)
            if out and (commands > MAX_CATCHUP_COMMANDS or size > MAX_CATCHUP_BYTES):
                break       # the first slot always goes: a batch alone fits in a frame
            out.append((slot, batch))
            slot += 1
        return tuple(out)

    # ---- the learner's own commands -------------------------------------------------------

    @staticmethod
    def runs_itself(method):
        return method.startswith("@") and method not in HOST_INTERNAL

    def lookup(self, client_id, number):
        """Exactly-once for the learner's own commands: ('done', reply) or ('new', None)."""
        stored = self.own_replies.get((client_id, number))
        return ("done", stored) if stored is not None else ("new", None)

    def _run_own(self, slot, batch, effects):
        self.batch_time = batch.time      # the leader's clock, for internal operations too
        self.commands_applied += len(batch.commands)
        ran = {}
        for index, command in enumerate(batch.commands):
            if command.client_id in self.expired:
                reply(self.node_id, command, rejection(SESSION_EXPIRED), effects)
                ran[index] = None
            elif self.runs_itself(command.method):
                ran[index] = self._run_internal(slot, command, effects)
        return ran

    def _run_internal(self, slot, command, effects):
        """Run one of the learner's commands once; a retry gets the first reply. Returns the
        client whose session it ended, if any."""
        key = (command.client_id, command.number)
        stored = self.own_replies.get(key)
        if stored is not None:
            reply(self.node_id, command, stored, effects)
            return None
        try:
            args, _ = decode_call_arguments(command.args)
        except WireError:
            args = None
        expired_before = len(self.expired)
        result = self._internal(slot, command, args)
        self.own_replies[key] = result
        while len(self.own_replies) > OWN_REPLIES_KEPT:
            self.own_replies.popitem(last=False)
        reply(self.node_id, command, result, effects)
        if len(self.expired) > expired_before:
            return args[0]      # an @expire that ended this client's session
        return None

    def _internal(self, slot, command, args):
        if args is None:
            return rejection("malformed internal command")
        handler = _INTERNAL.get(command.method)
        result = handler(self, slot, command, args) if handler else None
        return result or rejection(f"bad internal command {command.method}")

    def _reconfigure(self, slot, command, args):
        """Membership changes: decided in slot s, they govern from slot s + WINDOW."""
        current = self.configs.latest
        if command.method == "@join" and _is_join(args) and args[0] == "acceptor" and any(
                args[1] in config.acceptors for config in self.configs.governing_from(slot)):
            # (Removed, it still answers for the slots its configurations govern.)
            return rejection(AMNESIAC_ACCEPTOR.format(args[1]))
        if command.method == "@join" and _is_join(args):
            new = with_node(current, args[0], args[1])
        elif command.method == "@remove" and _is_remove(args, current):
            new = without_node(current, args[0])
        else:
            return None
        self.configs.schedule(slot, new)
        if self.on_reconfigure is not None:
            self.on_reconfigure(slot, new, current)
        return OK, encode_value([list(group) for group in new])

    def _open_session(self, slot, command, args):
        if len(args) != 1 or not isinstance(args[0], (int, float)) or not 0 < args[0] <= 3600:
            return None
        self.sessions[command.client_id] = float(args[0])
        return OK, encode_value(None)

    def _expire_session(self, slot, command, args):
        """A client's lease ran out (the leader saw no keepalive): the host releases what it
        held, and its later commands are refused."""
        if len(args) != 1 or not isinstance(args[0], str):
            return None
        if self.sessions.pop(args[0], None) is not None:
            self.expired[args[0]] = self.batch_time
            self._forget_expired()
        return OK, encode_value(None)

    def _forget_expired(self):
        while self.expired and (
                len(self.expired) > EXPIRED_KEPT_MAX
                or self.batch_time - next(iter(self.expired.values())) > EXPIRED_KEPT_FOR):
            self.expired.popitem(last=False)

    # ---- snapshots --------------------------------------------------------------------------

    def to_plain(self):
        """The learner's part of a snapshot (see concoord.host.snapshot)."""
        return {"slot_out": self.slot_out, "sessions": self.sessions,
                "expired": [[client, when] for client, when in self.expired.items()],
                "own_replies": [[c, n, s, v] for (c, n), (s, v) in self.own_replies.items()]}

    def install(self, slot_out, sessions, expired, own_replies, history):
        """Jump to a snapshot's state (taken by a peer after slot_out - 1)."""
        assert slot_out > self.slot_out, "a snapshot never takes a replica backwards"
        self.sessions = dict(sessions)
        # (Snapshots written before expiries were timed list bare ids: long expired.)
        self.expired = OrderedDict((entry, 0.0) if isinstance(entry, str) else tuple(entry)
                                   for entry in expired)
        self.own_replies = OrderedDict(((c, n), (s, v)) for c, n, s, v in own_replies)
        self.configs.replace_with(history)
        self.slot_out = slot_out
        self.highest_decided = max(self.highest_decided, slot_out - 1)
        self.forget_before(slot_out)

    def record_own(self, command, result):
        """A reply the node gave outside the log (the genesis join) that a retry must get."""
        self.own_replies[(command.client_id, command.number)] = result


_INTERNAL = {"@join": Learner._reconfigure, "@remove": Learner._reconfigure,
             "@session": Learner._open_session, "@expire": Learner._expire_session}


def reply(node_id, command, result, effects):
    status, value = result
    effects.replies.append(ClientReply(node_id, command.client_id, command.number, status,
                                       value, None))


def rejection(reason):
    return REJECTED, encode_value(ExceptionValue("RuntimeError", [reason]))


def _is_join(args):
    return (isinstance(args, list) and len(args) == 2 and isinstance(args[0], str)
            and args[0] in ROLES and isinstance(args[1], str))


def _is_remove(args, current):
    """Never remove the last replica, nor an acceptor if that would leave no quorum of two."""
    if not (isinstance(args, list) and len(args) == 1 and isinstance(args[0], str)):
        return False
    node = args[0]
    if node in current.replicas:
        return len(current.replicas) > 1
    if node in current.acceptors:
        return len(current.acceptors) > 1
    return node in current.nameservers
