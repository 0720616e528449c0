"""The Applier: applies committed slots to the object, each client command exactly once.

Its state is the fold of the committed slots: the object (behind a StateMachine), the client
table, and the last slot applied. It is the only code that runs the user's methods: commands in
slot order, lease reads and watch evaluations between them. Commands the learner ran itself
(membership, sessions, refusals of expired clients) are skipped: the learner answered them.
"""

from concoord.errors import WireError
from concoord.host.client_table import ClientTable
from concoord.host.watches import Watches
from concoord.protocol.learner import rejection, reply
from concoord.protocol.replica_node import UNWATCH, WATCH
from concoord.wire.messages import OK, SESSION_EXPIRED, STALE_NUMBER, ClientReply
from concoord.wire.values import decode_call_arguments, encode_value

END_OF_SLOT = 1 << 30     # a watch tag's index meaning "after the whole slot"


class Applier:
    def __init__(self, node_id, state_machine):
        self.node_id = node_id
        self.state_machine = state_machine
        self.client_table = ClientTable()
        self.watches = Watches(node_id)
        self.last_slot = 0         # the last slot applied ...
        self.last_slot_size = 0    # ... and how many commands it held (None: unknown)

    # ---- what the protocol asks before proposing (HostQueries: no user code runs) ----------

    def refusal(self, method):
        return self.state_machine.refusal(method)

    def is_readonly(self, method):
        return self.state_machine.is_readonly(method)

    def lookup(self, client_id, number):
        return self.client_table.lookup(client_id, number)

    # ---- committed slots --------------------------------------------------------------------

    def apply(self, committed, leading, effects):
        """Apply one committed slot (a learner.Committed); ``leading``: this replica leads, so
        its watches are evaluated after every command."""
        slot, batch, ran = committed
        assert slot == self.last_slot + 1, f"slot {slot} applied after {self.last_slot}"
        self.client_table.forget_idle(batch.time)
        for index, command in enumerate(batch.commands):
            if index not in ran:
                self._apply_command(slot, batch, command, effects)
            elif ran[index] is not None:
                self._release(ran[index], batch.time)
            self._deliver_wakeups(effects)
            if leading and self.watches:
                self._after_command(ran.get(index), (slot, index), batch.time, effects)
        self.last_slot, self.last_slot_size = slot, len(batch.commands)

    def _apply_command(self, slot, batch, command, effects):
        state, stored = self.client_table.lookup(command.client_id, command.number)
        if state == "done":
            return reply(self.node_id, command, stored, effects)
        if state == "stale":
            return reply(self.node_id, command, rejection(STALE_NUMBER), effects)
        if command.method == "@cancel":
            result = self._cancel(command, batch.time)
        else:
            result = self.state_machine.execute(command, slot, batch.time)
        self.client_table.record(command.client_id, command.number, result, batch.time)
        reply(self.node_id, command, result, effects)

    def _cancel(self, command, time):
        """The client gave up waiting on one of its parked calls (its park timeout passed)."""
        try:
            args, _ = decode_call_arguments(command.args)
        except WireError:
            args = None
        if not (isinstance(args, list) and len(args) == 1 and isinstance(args[0], int)):
            return rejection("bad internal command @cancel")
        self.state_machine.cancel(command.client_id, args[0], time)
        return OK, encode_value(None)

    def _release(self, client_id, time):
        """The learner ended a client's session: fail its parked calls, let the object release
        what it held, and forget its replies (its later commands are refused anyway)."""
        self.client_table.forget_client(client_id)
        self.state_machine.expire(client_id, time)

    def _deliver_wakeups(self, effects):
        """Parked calls the last command completed: their final replies replace BLOCKED."""
        for client_id, number, result in self.state_machine.take_wakeups():
            self.client_table.complete(client_id, number, result)
            status, value = result
            effects.replies.append(ClientReply(self.node_id, client_id, number, status, value,
                                               None))

    # ---- lease reads and watches --------------------------------------------------------------

    def read(self, command, stamp, effects):
        """A lease read the protocol found safe to answer now, with the clock ``stamp``."""
        reply(self.node_id, command, self.state_machine.execute(command, None, stamp), effects)

    def watch(self, command, stamp, effects):
        """@watch [method, args, kwargs, [slot, index] last seen] or @unwatch [number]."""
        try:
            args, _ = decode_call_arguments(command.args)
        except WireError:
            args = None
        if command.method == UNWATCH and isinstance(args, list) and len(args) == 1:
            self.watches.cancel(command.client_id, args[0])
            return reply(self.node_id, command, (OK, encode_value(None)), effects)
        if command.method == WATCH and _is_watch(args):
            method, call_args, call_kwargs, last = args
            return self.watches.register(command, method, call_args, call_kwargs,
                                         self._missed_since(*last), self.state_machine,
                                         (self.last_slot, END_OF_SLOT), stamp, effects)
        reply(self.node_id, command, rejection(f"malformed {command.method}"), effects)

    def _missed_since(self, slot, index):
        """Whether commands applied after (slot, index) may have changed a watched result
        unseen: a watcher resuming there (0, 0: a new watch) gets only the current result."""
        if (slot, index) == (0, 0):
            return False
        if slot < self.last_slot:
            return True
        return slot == self.last_slot and (self.last_slot_size is None
                                           or index < self.last_slot_size - 1)

    def _after_command(self, expired_client, tag, stamp, effects):
        """At the leader, after each command: evaluate the watches (tagged (slot, index))."""
        if expired_client is not None:     # a dead client's watches end with its session
            self.watches.forget_client(expired_client, effects, SESSION_EXPIRED)
        self.watches.evaluate(self.state_machine, tag, stamp, effects)

    def step_down(self, hint, effects):
        """This replica no longer leads: its watchers go to the new leader."""
        self.watches.step_down(hint, effects)

    def forget_clients(self, client_ids):
        """Their connection closed: drop their watches."""
        for client_id in client_ids:
            self.watches.forget_client(client_id)

    # ---- snapshots ----------------------------------------------------------------------------

    def to_plain(self):
        """The host's part of a snapshot, or None when the object cannot say."""
        state = self.state_machine.snapshot()
        return None if state is None else (state, self.client_table.to_plain())

    def install(self, state, client_table, last_slot, stamp, effects):
        """Jump to a snapshot taken after ``last_slot``; a watcher's next result says that
        commands were applied unseen."""
        self.state_machine.restore(state)
        self.client_table = client_table
        self.last_slot, self.last_slot_size = last_slot, None
        if self.watches:
            self.watches.skipped(self.state_machine, (last_slot, END_OF_SLOT), stamp, effects)

    def describe(self):
        return self.state_machine.describe()


def _is_watch(args):
    return (isinstance(args, list) and len(args) == 4 and isinstance(args[0], str)
            and isinstance(args[1], list) and isinstance(args[2], dict)
            and isinstance(args[3], list) and len(args[3]) == 2
            and all(isinstance(n, int) for n in args[3]))
