"""The simulator's second model: the library's real objects, through the host the daemons run.

tests/sim/cluster.py checks the protocol with an append-only log, whose every check is cheap.
This one runs HostedReplicas hosting ObjectHost(Counter), ObjectHost(Stack), ... exactly as
`concoord replica` does, on the hand-driven network of tests/protocol/net.py, under a seeded
mix of faults (a replica and an acceptor killed, links cut and healed, messages and client
replies dropped, a replica's clock running slow), with clients that retry (the same command
number), follow redirects and give up. It
checks:
- after every step, each node's invariants, and that replicas which applied the same slots
  hold the same object (a snapshot of each, compared): the host is deterministic;
- at the end, that the clients' history is linearizable against the object's own class run
  sequentially (concoord.checker), counting calls nobody answered as may-have-run.
"""

import random

from concoord.checker.history import OK, RAISED, UNKNOWN, Operation, RaisedError
from concoord.checker.linearizability import check
from concoord.host.object_host import ObjectHost
from concoord.objects.counter import Counter
from concoord.objects.stack import Stack
from concoord.wire.messages import EXCEPTION, REDIRECT, ClientRequest
from concoord.wire.messages import OK as REPLY_OK
from concoord.wire.types import Command
from concoord.wire.values import ExceptionValue, decode_value, encode_call_arguments

from tests.protocol.net import Net

REPLICAS, ACCEPTORS = ("r0", "r1", "r2"), ("a0", "a1", "a2")
RETRY_AFTER = 0.3
GIVE_UP_AFTER = 30.0     # rarely: every call given up is slack for the checker


def counter_calls(rng):
    """Mostly increments and reads (a write run twice shows in the next read)."""
    return rng.choices([("increment", ()), ("decrement", ()), ("getvalue", ()),
                        ("setvalue", (rng.randrange(5),))], weights=[4, 1, 4, 1])[0]


def stack_calls(rng):
    return rng.choices([("push", (rng.randrange(10**6),)), ("pop", ()), ("peek", ()),
                        ("size", ())], weights=[3, 2, 2, 2])[0]


OBJECTS = {"Counter": (Counter, counter_calls), "Stack": (Stack, stack_calls)}


class Violation(AssertionError):
    pass


class Caller:
    """One client: one call at a time, resent (same number) until answered or given up."""

    def __init__(self, client_id, rng):
        self.client_id, self.rng = client_id, rng
        self.number = 0
        self.call = None          # [Command, Operation, resend at, give up at, next target]
        self.history = []

    def start(self, method, args, now):
        self.number += 1
        command = Command(self.client_id, self.number, method, encode_call_arguments(args, {}))
        op = Operation(self.client_id, method, tuple(args), {}, now, seq=self.number)
        self.history.append(op)
        self.call = [command, op, now, now + GIVE_UP_AFTER, self.rng.choice(REPLICAS)]

    def due(self, now):
        """The (target, request) to send now, if any."""
        if self.call is None or now < self.call[2]:
            return None
        command, op, _, give_up, target = self.call
        if now >= give_up:
            self.call = None          # the call stays UNKNOWN: it may have run
            return None
        if target is None:            # no answer from the last one: try another
            target = self.call[4] = self.rng.choice(REPLICAS)
        self.call[2] = now + RETRY_AFTER
        self.call[4] = None           # until a redirect names the leader
        return target, ClientRequest(self.client_id, command)

    def on_reply(self, reply, now):
        if self.call is None or reply.number != self.call[0].number:
            return
        if reply.status == REDIRECT:
            self.call[4] = reply.leader or self.rng.choice(REPLICAS)
            self.call[2] = now
            return
        op = self.call[1]
        value = decode_value(reply.value)
        if reply.status == REPLY_OK:
            op.outcome, op.value = OK, value
        elif reply.status == EXCEPTION and isinstance(value, ExceptionValue):
            op.outcome, op.value = RAISED, RaisedError(value.type_name, tuple(value.args))
        else:
            op.note = f"refused: {value}"     # e.g. a stale number: it may have run
        op.complete = now if op.outcome != UNKNOWN else None
        self.call = None


class ObjectSim:
    def __init__(self, seed, object_name="Counter", clients=3):
        self.rng = random.Random(seed)
        self.object_class, self.calls = OBJECTS[object_name]
        self.net = Net(REPLICAS, ACCEPTORS,
                       state_machines={r: ObjectHost(self.object_class) for r in REPLICAS})
        self.callers = [Caller(f"c{n}", random.Random(self.rng.random())) for n in range(clients)]
        self.seen_replies = 0
        self.dropping = 0.0        # messages between nodes lost
        self.reply_loss = 0.05     # replies to clients lost (a connection that dropped)

    def step(self):
        self._fault()
        now = self.net.now
        for caller in self.callers:
            if caller.call is None and self.rng.random() < 0.5:
                caller.start(*self.calls(self.rng), now)
            request = caller.due(now)
            if request is not None and request[0] not in self.net.dead:
                target, message = request
                self.net._apply(target, self.net.nodes[target].handle(
                    message, self.net.clock(target)))
        self.net.run(0.005 * self.rng.randint(1, 4))
        self._deliver_replies()
        self._check()

    def _fault(self):
        roll, net = self.rng.random(), self.net
        if roll < 0.004 and not net.dead & set(REPLICAS):
            net.kill(self.rng.choice(net.leaders() or list(REPLICAS)))
        elif roll < 0.008 and not net.dead & set(ACCEPTORS):
            net.kill(self.rng.choice(ACCEPTORS))
        elif roll < 0.02:
            a, b = self.rng.sample(REPLICAS + ACCEPTORS, 2)
            net.cut_both(a, b)
        elif roll < 0.03:
            self.dropping = self.rng.choice([0.0, 0.05, 0.2])
            rng = self.rng
            net.drop = lambda src, dest, msg: rng.random() < self.dropping
        elif roll < 0.035:
            self.reply_loss = self.rng.choice([0.0, 0.05, 0.2])
        elif roll < 0.045:
            net.heal()
        elif roll < 0.05:
            net.set_clock_rate(self.rng.choice(REPLICAS), self.rng.choice([1.0, 0.95]))

    def _deliver_replies(self):
        replies = self.net.replies[self.seen_replies:]
        self.seen_replies = len(self.net.replies)
        by_client = {c.client_id: c for c in self.callers}
        for reply in replies:
            caller = by_client.get(reply.client_id)
            if caller is not None and self.rng.random() >= self.reply_loss:  # or lost: resent
                caller.on_reply(reply, self.net.now)

    def _check(self):
        states = {}
        for node_id, node in self.net.nodes.items():
            node.check_invariants()
            if node_id in REPLICAS:
                states.setdefault(node.learner.slot_out, {})[node_id] = \
                    node.state_machine.snapshot()
        for slot_out, by_replica in states.items():
            if len({repr(state) for state in by_replica.values()}) > 1:
                raise Violation(f"replicas at slot {slot_out} hold different objects: "
                                f"{by_replica}")

    def finish(self, max_steps=2000):
        """Heal everything, let every call still waiting finish, and check the history."""
        self.net.heal()
        self.dropping = self.reply_loss = 0.0
        for _ in range(max_steps):
            if all(c.call is None for c in self.callers):
                break
            for caller in self.callers:   # no new calls: only retries
                request = caller.due(self.net.now)
                if request is not None and request[0] not in self.net.dead:
                    target, message = request
                    self.net._apply(target, self.net.nodes[target].handle(
                        message, self.net.clock(target)))
            self.net.run(0.01)
            self._deliver_replies()
            self._check()
        history = [op for c in self.callers for op in c.history]
        result = check(history, self.object_class)
        if not result.ok:
            raise Violation(f"not linearizable: {result}")
        return history


def run(seed, steps=600, object_name="Counter"):
    sim = ObjectSim(seed, object_name)
    for _ in range(steps):
        sim.step()
    return sim.finish()
