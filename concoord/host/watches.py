"""Watches: clients told when the result of a read-only method changes, in log order.

A client registers ``@watch`` at the leader (outside the log, like a keepalive): a
@concoord.readonly method and its arguments, and the last (slot, index) it has seen. The leader
answers at once with the current result, then re-evaluates the method after every command it
applies and pushes the result (a NOTIFY reply tagged with the command's slot and its index in
the batch) whenever it differs from the last one sent. Notifications of one watch leave in log
order; the client drops any not newer than the last it saw (after a failover it may hear a
tag twice). A new leader knows nothing of the values in between: the first answer after a
(re)registration is flagged ``compacted`` when the log moved past the client's last tag.

Bounded: MAX_PER_CLIENT watches per client, MAX_WATCHES per leader (the oldest dropped with a
REJECTED reply saying so); a slow watcher's connection is closed by the runtime's slow-reader
limit, and its client re-registers and gets the current value.
"""

from collections import OrderedDict

from concoord.wire.messages import NOTIFY, REDIRECT, REJECTED, ClientReply
from concoord.wire.types import Command
from concoord.wire.values import ExceptionValue, encode_call_arguments, encode_value

MAX_PER_CLIENT = 64
MAX_WATCHES = 10000


class _Watch:
    __slots__ = ("read", "sent", "tag", "compacted")

    def __init__(self, read, tag):
        self.read = read          # the read-only Command to evaluate
        self.sent = None          # (status, value) last sent
        self.tag = tag            # (slot, index) of the last notification sent or seen
        self.compacted = False


class Watches:
    def __init__(self, node_id):
        self.node_id = node_id
        self._watches = OrderedDict()     # (client id, number) -> _Watch, oldest first

    def __len__(self):
        return len(self._watches)

    def register(self, command, method, args, kwargs, compacted, state_machine, tag, stamp,
                 effects):
        """A client's @watch: refuse it, or register it and send the current result (tagged
        ``tag``, evaluated with the clock ``stamp`` as a lease read is; ``compacted`` if
        changes since the client's last tag may be unseen)."""
        reason = self._refusal(command.client_id, method, state_machine)
        if reason is not None:
            return self._reply(command.client_id, command.number, REJECTED,
                               encode_value(ExceptionValue("RuntimeError", [reason])), effects)
        key = (command.client_id, command.number)
        read = Command(command.client_id, command.number, method,
                       encode_call_arguments(args, kwargs), command.thread)
        watch = _Watch(read, tag)
        watch.compacted = compacted
        self._watches[key] = watch
        self._watches.move_to_end(key)
        while len(self._watches) > MAX_WATCHES:
            (client_id, number), _ = self._watches.popitem(last=False)
            self._reply(client_id, number, REJECTED, encode_value(ExceptionValue(
                "RuntimeError", ["watch dropped: this leader has too many watches"])), effects)
        self._evaluate(key, watch, state_machine, tag, effects, force=True, stamp=stamp)

    def _refusal(self, client_id, method, state_machine):
        if not isinstance(method, str) or state_machine.refusal(method) is not None \
                or not state_machine.is_readonly(method):
            return f"{method!r} is not a @concoord.readonly method: only those can be watched"
        if sum(1 for c, _ in self._watches if c == client_id) >= MAX_PER_CLIENT:
            return f"a client may have at most {MAX_PER_CLIENT} watches"
        return None

    def cancel(self, client_id, number):
        self._watches.pop((client_id, number), None)

    def forget_client(self, client_id, effects=None, reason=None):
        """Drop a client's watches (telling it ``reason`` when given)."""
        for key in [k for k in self._watches if k[0] == client_id]:
            del self._watches[key]
            if reason is not None:
                self._reply(*key, REJECTED,
                            encode_value(ExceptionValue("RuntimeError", [reason])), effects)

    def evaluate(self, state_machine, tag, stamp, effects):
        """After the command tagged (slot, index) was applied: push the changed results."""
        for key, watch in self._watches.items():
            self._evaluate(key, watch, state_machine, tag, effects, stamp=stamp)

    def _evaluate(self, key, watch, state_machine, tag, effects, stamp, force=False):
        result = state_machine.execute(watch.read, None, stamp)
        if result == watch.sent and not force:
            return
        watch.sent, watch.tag = result, max(watch.tag, tag)
        status, value = result
        self._reply(key[0], key[1], NOTIFY,
                    encode_value([watch.tag[0], watch.tag[1], watch.compacted, status, value]),
                    effects)
        watch.compacted = False

    def skipped(self, state_machine, tag, stamp, effects):
        """The replica jumped to a snapshot: commands were applied unseen, so the next change
        of every watch says so."""
        for watch in self._watches.values():
            watch.compacted = True
        self.evaluate(state_machine, tag, stamp, effects)

    def step_down(self, hint, effects):
        """This replica no longer leads: send every watcher to the new leader."""
        for client_id, number in self._watches:
            effects.replies.append(ClientReply(self.node_id, client_id, number, REDIRECT, b"",
                                               hint))
        self._watches.clear()

    def _reply(self, client_id, number, status, value, effects):
        effects.replies.append(ClientReply(self.node_id, client_id, number, status, value,
                                           None))
