"""Model-based tests of the synchronisation objects through a real cluster (see machine.py).

Blocking calls are part of the models: a call the model parks stays pending on the cluster too,
and is woken there exactly when, and with exactly what, the model wakes it.
"""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from tests.objects.machine import ObjectMachine

pytestmark = pytest.mark.timeout(120)

clients = st.integers(0, ObjectMachine.n_clients - 1)


class LockMachine(ObjectMachine):
    module = "lock"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, blocking=st.booleans())
    def acquire(self, c, blocking):
        self.call(c, "acquire", blocking)

    @rule(c=clients)
    def release(self, c):
        self.call(c, "release")

    @rule(c=clients)
    def locked(self, c):
        self.call(c, "locked")

    @rule()
    def holder_releases(self):
        # Releases by a random client mostly fail; this one hands the lock to a waiter.
        holder = self.thread_of(self.local.obj.holder)
        if holder is not None:
            self.call(holder, "release")

    @rule(c=clients)
    def with_statement_halves(self, c):
        if self.call(c, "__enter__")[0] == "ok":
            self.call(c, "__exit__", None, None, None)


class RLockMachine(ObjectMachine):
    module = "rlock"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, blocking=st.booleans())
    def acquire(self, c, blocking):
        self.call(c, "acquire", blocking)

    @rule(c=clients)
    def release(self, c):
        self.call(c, "release")

    @rule(c=clients)
    def queries(self, c):
        self.call(c, "locked")
        self.call(c, "owned")

    @rule()
    def holder_releases(self):
        holder = self.thread_of(self.local.obj.holder)
        if holder is not None:
            self.call(holder, "release")


class SemaphoreMachine(ObjectMachine):
    module = "semaphore"

    @initialize(value=st.integers(0, 3))
    def fresh(self, value):
        self.reset(value)

    @rule(c=clients, blocking=st.booleans())
    def acquire(self, c, blocking):
        self.call(c, "acquire", blocking)

    @rule(c=clients, n=st.integers(0, 2))
    def release(self, c, n):
        self.call(c, "release", n)

    @rule(c=clients)
    def queries(self, c):
        self.call(c, "get_value")
        self.call(c, "held_by_me")


class BoundedSemaphoreMachine(SemaphoreMachine):
    module = "bounded_semaphore"


class ConditionMachine(ObjectMachine):
    module = "condition"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients, blocking=st.booleans())
    def acquire(self, c, blocking):
        self.call(c, "acquire", blocking)

    @rule(c=clients)
    def release(self, c):
        self.call(c, "release")

    @rule(c=clients)
    def wait(self, c):
        self.call(c, "wait")

    @rule(c=clients, n=st.integers(0, 3))
    def notify(self, c, n):
        self.call(c, "notify", n)

    @rule(c=clients)
    def notify_all(self, c):
        self.call(c, "notify_all")

    @rule(c=clients)
    def owned(self, c):
        self.call(c, "owned")

    @rule(n=st.integers(1, 3), then_release=st.booleans())
    def holder_notifies(self, n, then_release):
        holder = self.thread_of(self.local.obj.holder)
        if holder is not None:
            self.call(holder, "notify", n)
            if then_release:
                self.call(holder, "release")


class BarrierMachine(ObjectMachine):
    module = "barrier"

    @initialize(parties=st.integers(1, 4))
    def fresh(self, parties):
        self.reset(parties)

    @rule(c=clients)
    def wait(self, c):
        self.call(c, "wait")

    @rule(c=clients)
    def queries(self, c):
        self.call(c, "n_waiting")
        self.call(c, "broken")
        self.call(c, "parties")

    @rule(c=clients)
    def reset_barrier(self, c):
        self.call(c, "reset")

    @rule(c=clients)
    def abort(self, c):
        self.call(c, "abort")


class EventMachine(ObjectMachine):
    module = "event"

    @initialize()
    def fresh(self):
        self.reset()

    @rule(c=clients)
    def set(self, c):
        self.call(c, "set")

    @rule(c=clients)
    def clear(self, c):
        self.call(c, "clear")

    @rule(c=clients)
    def is_set(self, c):
        self.call(c, "is_set")

    @rule(c=clients, timeout=st.sampled_from([None, 0]))
    def wait(self, c, timeout):
        self.call(c, "wait", timeout)


MACHINES = [LockMachine, RLockMachine, SemaphoreMachine, BoundedSemaphoreMachine,
            ConditionMachine, BarrierMachine, EventMachine]


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.module)
def test_cluster_behaves_like_the_local_object(machine, object_cluster):
    machine.run(object_cluster(machine.module))
