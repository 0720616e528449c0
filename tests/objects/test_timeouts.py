"""Blocking calls with a timeout, as threading's counterparts behave.

Most need nothing from the instance beyond completing a timed-out call with its ``on_timeout``
value (False, None, the unchanged state), and the objects skip such callers later. Three must do
more when a timeout passes, which only the object can do: a Queue's get/put raise, a Barrier
breaks for every party, a Condition's wait takes the lock back before returning. They define
``__concoord_timeout__(caller)``, which the ObjectHost calls when a parked call's timeout
passes.
"""

import importlib
from queue import Empty
from threading import BrokenBarrierError

import pytest

from concoord.objects.barrier import Barrier
from concoord.objects.condition import Condition
from concoord.objects.queue import Queue
from tests.objects.local import LocalObject

pytestmark = pytest.mark.timeout(60)

WAIT = 0.3


# ---- the objects with their timeout hooks, in-process ------------------------------------------

def test_queue_get_and_put_time_out_with_their_errors():
    queue = LocalObject(Queue, 1)
    getter, outcome = queue.command("a", "get", timeout=WAIT)
    assert outcome == ("parked",)
    assert queue.time_out(getter) == {getter: ("raised", "queue.Empty", ())}
    assert queue.call("b", "put", "x") == ("ok", None)
    putter, _ = queue.command("b", "put", "y", timeout=WAIT)
    assert queue.time_out(putter) == {putter: ("raised", "queue.Full", ())}
    assert queue.call("a", "get") == ("ok", "x")
    assert queue.call("a", "qsize") == ("ok", 0)     # "y" was never added


def test_barrier_wait_timing_out_breaks_the_barrier_for_every_party():
    barrier = LocalObject(Barrier, 3)
    first, _ = barrier.command("a", "wait", WAIT)
    second, _ = barrier.command("b", "wait")
    broken = ("raised", "threading.BrokenBarrierError", ())
    assert barrier.time_out(first) == {first: broken, second: broken}
    assert barrier.call("c", "wait") == broken
    assert barrier.call("c", "reset") == ("ok", None)
    assert barrier.call("c", "broken") == ("ok", False)


def test_condition_wait_timing_out_returns_false_holding_the_lock_again():
    cond = LocalObject(Condition)
    assert cond.call("a", "acquire") == ("ok", 1)
    assert cond.call("a", "acquire") == ("ok", 1)     # depth 2
    waiter, _ = cond.command("a", "wait", WAIT)
    assert cond.call("b", "acquire") == ("ok", 2)
    assert cond.time_out(waiter) == {}                # it must wait for the lock first
    assert cond.call("b", "release") == ("ok", None)
    assert cond.wakeups() == {waiter: ("ok", False)}
    assert cond.call("a", "owned") == ("ok", True)
    assert cond.call("a", "release") == ("ok", None)
    assert cond.call("a", "release") == ("ok", None)  # the depth came back too
    assert cond.call("b", "locked") == ("ok", False)


def test_condition_plain_acquire_timing_out_gives_up():
    cond = LocalObject(Condition)
    cond.call("a", "acquire")
    acquirer, _ = cond.command("b", "acquire", timeout=WAIT)
    assert cond.time_out(acquirer) == {acquirer: ("ok", False)}
    cond.call("a", "release")
    assert cond.call("b", "locked") == ("ok", False)


# ---- against a real cluster ------------------------------------------------------------------

@pytest.fixture
def proxies(object_cluster):
    made = []

    def make(module, name, count=2):
        proxy_class = getattr(importlib.import_module(f"concoord.proxy.{module}"), name)
        boot = object_cluster(module)
        made.extend(proxy_class(boot) for _ in range(count))
        made[-1].__concoordinit__()
        return made[-count:]
    yield make
    for proxy in made:
        proxy.close()


def test_lock_and_semaphore_acquire_time_out_and_are_not_granted_later(proxies):
    holder, waiter = proxies("lock", "Lock")
    holder.acquire()
    assert waiter.acquire(timeout=WAIT) is False
    holder.release()
    assert not holder.locked()          # the timed-out waiter did not get it
    sem_a, sem_b = proxies("semaphore", "Semaphore")
    assert sem_a.acquire() is True
    assert sem_b.acquire(timeout=WAIT) is False
    sem_a.release()
    assert sem_b.get_value() == 1


def test_event_job_and_membership_waits_time_out_with_a_value(proxies):
    setter, waiter = proxies("event", "Event")
    assert waiter.wait(WAIT) is False
    setter.set()
    assert waiter.wait(WAIT) is True
    boss, worker = proxies("job_manager", "JobManager")
    assert worker.take(timeout=WAIT) is None
    boss.submit("job")
    assert worker.take() == (1, "job")   # not handed to the timed-out take
    adder, watcher = proxies("membership", "Membership")
    assert watcher.wait_for_change(0, timeout=WAIT) == (0, [])
    adder.add("m")
    assert watcher.wait_for_change(0) == (1, ["m"])


def test_queue_get_times_out_with_queue_empty(proxies):
    queue, _ = proxies("queue", "Queue")
    with pytest.raises(Empty):
        queue.get(timeout=WAIT)
    queue.put("x")
    assert queue.get() == "x"           # not handed to the timed-out get


def test_barrier_wait_times_out_and_breaks_the_barrier(proxies):
    first, second = proxies("barrier", "Barrier")
    first.__concoordinit__(3)
    pending = second._invoke_async("wait", (), {})
    with pytest.raises(BrokenBarrierError):
        first.wait(WAIT)
    with pytest.raises(BrokenBarrierError):
        pending.result(10)


def test_condition_wait_times_out_holding_the_lock(proxies):
    cond, _ = proxies("condition", "Condition")
    with cond:
        assert cond.wait(WAIT) is False
        assert cond.owned()
