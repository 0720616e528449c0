"""Model-based tests of the data objects through a real cluster (see machine.py)."""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from tests.objects.machine import ObjectMachine

pytestmark = pytest.mark.timeout(120)

clients = st.integers(0, ObjectMachine.n_clients - 1)
items = st.one_of(st.integers(-3, 3), st.text("ab", max_size=2), st.none())
keys = st.sampled_from(["a", "b", "c", 1])
names = st.sampled_from(["alice", "bob", "carol"])
amounts = st.one_of(st.integers(-2, 12), st.sampled_from([0.5, True, "x"]))


class CounterMachine(ObjectMachine):
    module = "counter"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, method=st.sampled_from(["increment", "decrement", "getvalue"]))
    def step(self, c, method):
        self.call(c, method)

    @rule(c=clients, value=st.integers(-5, 5))
    def setvalue(self, c, value):
        self.call(c, "setvalue", value)


class QueueMachine(ObjectMachine):
    module = "queue"

    @initialize(maxsize=st.integers(0, 3))
    def fresh(self, maxsize):
        self.reset(maxsize)

    @rule(c=clients, item=items, block=st.booleans())
    def put(self, c, item, block):
        self.call(c, "put", item, block)

    @rule(c=clients, block=st.booleans())
    def get(self, c, block):
        self.call(c, "get", block)

    @rule(c=clients, method=st.sampled_from(["qsize", "empty", "full", "task_done", "join"]))
    def other(self, c, method):
        self.call(c, method)


class StackMachine(ObjectMachine):
    module = "stack"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, item=items)
    def push(self, c, item):
        self.call(c, "push", item)

    @rule(c=clients, method=st.sampled_from(["pop", "peek", "size", "empty", "contents"]))
    def other(self, c, method):
        self.call(c, method)


class LogMachine(ObjectMachine):
    module = "log"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, entry=items)
    def append(self, c, entry):
        self.call(c, "append", entry)

    @rule(c=clients, start=st.integers(-1, 6), limit=st.one_of(st.none(), st.integers(0, 3)))
    def read(self, c, start, limit):
        self.call(c, "read", start, limit)

    @rule(c=clients)
    def length(self, c):
        self.call(c, "len")


class MembershipMachine(ObjectMachine):
    module = "membership"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, member=names, ephemeral=st.booleans())
    def add(self, c, member, ephemeral):
        self.call(c, "add", member, ephemeral)

    @rule(c=clients, member=names)
    def remove(self, c, member):
        self.call(c, "remove", member)

    @rule(c=clients, stale=st.booleans())
    def wait_for_change(self, c, stale):
        # A stale version returns at once; the current one waits for the next change.
        version = self.local.obj.version_number - (1 if stale else 0)
        self.call(c, "wait_for_change", version)

    @rule(c=clients, method=st.sampled_from(["members", "version"]))
    def query(self, c, method):
        self.call(c, method)


class BankMachine(ObjectMachine):
    module = "bank"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, name=names, initial=st.sampled_from([0, 5]))
    def open(self, c, name, initial):
        self.call(c, "open", name, initial)

    @rule(c=clients, name=names, amount=amounts)
    def deposit(self, c, name, amount):
        self.call(c, "deposit", name, amount)

    @rule(c=clients, name=names, amount=amounts)
    def withdraw(self, c, name, amount):
        self.call(c, "withdraw", name, amount)

    @rule(c=clients, source=names, to=names, amount=amounts)
    def transfer(self, c, source, to, amount):
        self.call(c, "transfer", source, to, amount)

    @rule(c=clients, name=names)
    def balance(self, c, name):
        self.call(c, "balance", name)
        self.call(c, "total")


class BinaryTreeMachine(ObjectMachine):
    module = "binary_tree"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, key=st.one_of(st.integers(0, 20), st.just("x")))
    def add(self, c, key):
        self.call(c, "add", key)

    @rule(c=clients, key=st.integers(0, 20), method=st.sampled_from(["remove", "discard",
                                                                     "contains"]))
    def by_key(self, c, key, method):
        self.call(c, method, key)

    @rule(c=clients, method=st.sampled_from(["in_order", "size", "min", "max", "height"]))
    def query(self, c, method):
        self.call(c, method)


class JobManagerMachine(ObjectMachine):
    module = "job_manager"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, job=items)
    def submit(self, c, job):
        self.call(c, "submit", job)

    @rule(c=clients, block=st.booleans())
    def take(self, c, block):
        self.call(c, "take", block)

    @rule(c=clients, job_id=st.integers(0, 5), method=st.sampled_from(["complete", "release",
                                                                       "status", "job"]))
    def by_id(self, c, job_id, method):
        self.call(c, method, job_id)

    @rule()
    def owner_completes(self):
        for job_id, owner in list(self.local.obj.running.items())[:1]:
            self.call(self.client_of(owner), "complete", job_id)

    @rule(c=clients)
    def pending(self, c):
        self.call(c, "pending")


class DictionaryMachine(ObjectMachine):
    module = "dictionary"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, key=keys, value=items)
    def set(self, c, key, value):
        self.call(c, "set", key, value)

    @rule(c=clients, key=keys, method=st.sampled_from(["get", "delete", "contains", "pop"]))
    def by_key(self, c, key, method):
        self.call(c, method, key)

    @rule(c=clients, key=keys, expected=items, new=items)
    def compare_and_set(self, c, key, expected, new):
        self.call(c, "compare_and_set", key, expected, new)

    @rule(c=clients, method=st.sampled_from(["keys", "values", "items", "size"]))
    def query(self, c, method):
        self.call(c, method)

    @rule(c=clients)
    def unhashable_key(self, c):
        self.call(c, "set", [1], 1)


MACHINES = [CounterMachine, QueueMachine, StackMachine, LogMachine, MembershipMachine,
            BankMachine, BinaryTreeMachine, JobManagerMachine, DictionaryMachine]


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.module)
def test_cluster_behaves_like_the_local_object(machine, object_cluster):
    machine.run(object_cluster(machine.module))
