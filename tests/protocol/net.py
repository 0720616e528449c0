"""A hand-driven network of real HostedReplicas and Acceptors for scenario tests.

Messages are delivered at once, in order, unless a test cuts a link, drops a kind of message
or kills a node; time moves only when the test says so. This is what the regression tests of
multi-node bugs need: an exact schedule, written out, that fails on the broken code.
"""

from concoord.errors import WireError
from concoord.protocol.acceptor import Acceptor
from concoord.host.hosted_replica import HostedReplica
from concoord.protocol.timing import Timing
from concoord.wire.codec import encode_frame
from concoord.wire.messages import ClientRequest
from concoord.wire.types import Command, Configuration
from concoord.wire.values import decode_value, encode_call_arguments

from tests.sim.model import AppendLog

TIMING = Timing()
STEP = 0.005


class Net:
    def __init__(self, replicas=("r0", "r1", "r2"), acceptors=("a0", "a1", "a2"),
                 timing=TIMING, state_machines=None, spare_acceptors=(), frame_limit=False):
        self.config = Configuration(tuple(replicas), tuple(acceptors))
        self.timing = timing
        self.now = 0.0
        self.nodes = {}
        for index, replica in enumerate(replicas):
            machine = (state_machines or {}).get(replica) or AppendLog()
            self.nodes[replica] = HostedReplica(replica, self.config, machine, 0.0, timing,
                                              incarnation=index)
        for acceptor in tuple(acceptors) + tuple(spare_acceptors):
            self.nodes[acceptor] = Acceptor(acceptor, max_lease=timing.lease)
        self.clock_rates = {}    # node -> (rate, since, its clock then); absent: true time
        self.dead = set()
        self.cut = set()              # (src, dest) links that lose every message
        self.drop = lambda src, dest, msg: False   # a test's extra message filter
        self.hold = lambda src, dest, msg: False   # ... and the messages it holds back
        self.held = []
        self.queue = []
        self.replies = []             # every ClientReply any replica sent
        self.numbers = {}
        # Lose every message too large for a frame, as the real transport does (its encoding
        # fails and it is never sent); off by default: encoding every message is slow.
        self.frame_limit = frame_limit

    # ---- faults ----------------------------------------------------------------------------

    def kill(self, node_id):
        self.dead.add(node_id)

    def cut_both(self, a, b):
        self.cut |= {(a, b), (b, a)}

    def heal(self):
        self.cut.clear()
        self.drop = lambda src, dest, msg: False

    # ---- running ---------------------------------------------------------------------------

    def run(self, seconds):
        """Advance time in STEP ticks, delivering everything sent after each tick."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = round(self.now + STEP, 6)
            for node_id, node in self.nodes.items():
                if node_id not in self.dead:
                    self._apply(node_id, node.tick(self.clock(node_id)))
            self.flush()

    def clock(self, node_id):
        rate, since, base = self.clock_rates.get(node_id, (1.0, 0.0, 0.0))
        return base + rate * (self.now - since)

    def set_clock_rate(self, node_id, rate):
        """From now on ``node_id``'s clock runs at ``rate`` times true time (no jump)."""
        self.clock_rates[node_id] = (rate, self.now, self.clock(node_id))

    def flush(self):
        while self.queue:
            src, dest, msg = self.queue.pop(0)
            if (dest in self.dead or src in self.dead or (src, dest) in self.cut
                    or self.drop(src, dest, msg) or not self._fits_a_frame(msg)):
                continue
            if self.hold(src, dest, msg):
                self.held.append((src, dest, msg))
                continue
            self._apply(dest, self.nodes[dest].handle(msg, self.clock(dest)))

    def _fits_a_frame(self, msg):
        if not self.frame_limit:
            return True
        try:
            encode_frame(msg)
        except WireError:
            return False
        return True

    def release(self):
        """Deliver the held messages (and stop holding any)."""
        self.hold = lambda src, dest, msg: False
        self.queue.extend(self.held)
        self.held = []
        self.flush()

    def _apply(self, node_id, effects):
        self.queue.extend((node_id, dest, msg) for dest, msg in effects.sends)
        self.replies.extend(effects.replies)

    # ---- clients and views -----------------------------------------------------------------

    def request(self, replica, method="append", client="c1", args=None):
        """Send one client command to ``replica``; returns its (client, number) key."""
        number = self.numbers[client] = self.numbers.get(client, 0) + 1
        arguments = [number] if args is None else args
        command = Command(client, number, method, encode_call_arguments(arguments, {}))
        self._apply(replica, self.nodes[replica].handle(ClientRequest(client, command),
                                                        self.clock(replica)))
        self.flush()
        return client, number

    def reply_to(self, key):
        client, number = key
        replies = [r for r in self.replies if (r.client_id, r.number) == key]
        return replies[-1] if replies else None

    def value_of(self, key):
        reply = self.reply_to(key)
        return None if reply is None else (reply.status, decode_value(reply.value))

    def leaders(self):
        return [n for n, node in self.nodes.items()
                if n not in self.dead and isinstance(node, HostedReplica) and node.leader.is_active]

    def replica(self, node_id):
        return self.nodes[node_id].learner

    def entries(self, node_id):
        return self.nodes[node_id].state_machine.entries
