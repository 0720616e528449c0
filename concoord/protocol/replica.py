"""The replica: applies decided batches to the object, in slot order, exactly once per command.

Its state is the fold of the decisions: slot_out - 1 slots applied, the object, the client table
and the configuration history. Decisions may arrive out of order, twice, or from catch-up; a
decision, once known, never changes.
"""

from concoord.errors import WireError
from concoord.protocol.client_table import ClientTable
from concoord.protocol.config import ROLES, with_node, without_node
from concoord.wire.messages import (EXCEPTION, OK, REJECTED, SESSION_EXPIRED, STALE_NUMBER,
                                   ClientReply)
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
COMMAND_OVERHEAD = 64           # encoded bytes of a command besides its arguments (about)


class Replica:
    """Applies decisions through a StateMachine (protocol/state_machine.py)."""

    def __init__(self, node_id, configs, state_machine):
        self.node_id = node_id
        self.configs = configs
        self.state_machine = state_machine
        self.client_table = ClientTable()
        self.slot_out = 1          # the next slot to apply
        self.decisions = {}        # slot -> Batch, decided (recent ones kept for catch-up)
        self.held_commands = 0     # commands in self.decisions
        self.highest_decided = 0
        self.on_reconfigure = None  # callback(slot, new, old config) for the colocated leader
        self.sessions = {}         # client id -> lease (s): open sessions, replicated
        self.expired = set()       # clients whose session expired: their commands are refused
        self.batch_time = 0.0
        self.commands_applied = 0      # by this replica since it started (for status)
        self.after_command = None      # callback(slot, index, effects): watches (see watches.py)

    def decided(self, slot):
        return self.decisions.get(slot)

    def on_decision(self, slot, batch, effects):
        known = self.decisions.get(slot)
        if known is not None:
            assert known == batch, f"slot {slot} decided twice with different batches"
            return
        if slot < self.slot_out:
            return  # applied and already forgotten
        self.decisions[slot] = batch
        self.held_commands += len(batch.commands)
        self.highest_decided = max(self.highest_decided, slot)
        self.apply_ready(effects)

    def apply_ready(self, effects):
        """Apply held decisions from slot_out on, in order, as far as there is no gap (also
        after a snapshot install, which may leave slot_out on a decision already held)."""
        while self.slot_out in self.decisions:
            self._apply(self.slot_out, self.decisions[self.slot_out], effects)
            self.slot_out += 1

    def has_gap(self):
        """True when later slots are decided but the next one to apply is missing."""
        return self.highest_decided > self.slot_out

    def forget_before(self, slot):
        """Drop applied decisions below ``slot`` (a snapshot serves peers that far behind)."""
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
            size += sum(len(c.args) + len(c.method) + len(c.client_id) + COMMAND_OVERHEAD
                        for c in batch.commands)
            if out and (commands > MAX_CATCHUP_COMMANDS or size > MAX_CATCHUP_BYTES):
                break       # the first slot always goes: a batch alone fits in a frame
            out.append((slot, batch))
            slot += 1
        return tuple(out)

    def _apply(self, slot, batch, effects):
        self.batch_time = batch.time      # the leader's clock, for internal operations too
        self.commands_applied += len(batch.commands)
        for index, command in enumerate(batch.commands):
            state, stored = self.client_table.lookup(command.client_id, command.number)
            if command.client_id in self.expired:
                self.reply(command, _rejection(SESSION_EXPIRED), effects)
            elif state == "done":
                self.reply(command, stored, effects)
            elif state == "stale":
                self.reply(command, _rejection(STALE_NUMBER), effects)
            else:
                reply = self._execute(slot, batch, command)
                self.client_table.record(command.client_id, command.number, reply)
                self.reply(command, reply, effects)
            self._deliver_wakeups(effects)
            if self.after_command is not None:
                self.after_command(slot, index, effects)

    def _deliver_wakeups(self, effects):
        """Parked calls the last command completed: their final replies replace BLOCKED."""
        for client_id, number, reply in self.state_machine.take_wakeups():
            self.client_table.complete(client_id, number, reply)
            status, value = reply
            effects.replies.append(ClientReply(self.node_id, client_id, number, status, value,
                                               None))

    def _execute(self, slot, batch, command):
        if command.method.startswith("@"):
            return self._internal(slot, command)
        return self.state_machine.execute(command, slot, batch.time)

    def _internal(self, slot, command):
        try:
            args, _ = decode_call_arguments(command.args)
        except WireError:
            return _rejection("malformed internal command")
        handler = _INTERNAL.get(command.method)
        reply = handler(self, slot, command, args) if handler else None
        return reply or _rejection(f"bad internal command {command.method}")

    def _reconfigure(self, slot, command, args):
        """Membership changes: decided in slot s, they govern from slot s + WINDOW."""
        current = self.configs.latest
        if command.method == "@join" and _is_join(args) and args[0] == "acceptor" \
                and args[1] in current.acceptors:
            return _rejection(AMNESIAC_ACCEPTOR.format(args[1]))
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
        """A client's lease ran out (the leader saw no keepalive): release what it held."""
        if len(args) != 1 or not isinstance(args[0], str):
            return None
        client_id = args[0]
        if self.sessions.pop(client_id, None) is not None:
            self.expired.add(client_id)
            self.client_table.forget_client(client_id)
            self.state_machine.expire(client_id, self.batch_time)
        return OK, encode_value(None)

    def _cancel(self, slot, command, args):
        """The client gave up waiting on one of its parked calls (its park timeout passed)."""
        if len(args) != 1 or not isinstance(args[0], int):
            return None
        self.state_machine.cancel(command.client_id, args[0], self.batch_time)
        return OK, encode_value(None)

    def reply(self, command, reply, effects):
        status, value = reply
        effects.replies.append(ClientReply(self.node_id, command.client_id, command.number,
                                           status, value, None))


_INTERNAL = {"@join": Replica._reconfigure, "@remove": Replica._reconfigure,
             "@session": Replica._open_session, "@expire": Replica._expire_session,
             "@cancel": Replica._cancel}


def _rejection(reason):
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


__all__ = ["Replica", "EXCEPTION", "OK"]
