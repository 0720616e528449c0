"""What each object releases when a client dies: a client process takes something and is killed
with SIGKILL; once its session lease runs out the instance hands the thing to the live clients."""

import importlib
import select
import time
from threading import BrokenBarrierError

import pytest

from concoord.client.status import query_status
from tests.integration.harness import wait_until
from tests.objects.conftest import CLASS_NAMES

pytestmark = pytest.mark.timeout(60)

LEASE = 1.5
WAKE_TIMEOUT = LEASE + 10.0

VICTIM = """
import importlib, time
module = importlib.import_module("concoord.proxy.{module}")
obj = getattr(module, "{name}")(BOOTSTRAP, session_lease={lease})
{action}
print("ready", flush=True)
time.sleep(600)
"""


class Scene:
    """One reset object on a shared cluster, the proxies a test made, and its victims."""

    def __init__(self, harness, boot, module):
        self.harness, self.boot, self.module = harness, boot, module
        self.proxy_class = getattr(importlib.import_module(f"concoord.proxy.{module}"),
                                   CLASS_NAMES[module])
        self.proxies = []

    def new_proxy(self):
        self.proxies.append(self.proxy_class(self.boot, session_lease=30))
        return self.proxies[-1]

    def described(self):
        """The object as the replica describes it (its __str__)."""
        return query_status(self.boot)["object"]

    def victim(self, action, ready=None):
        """A client process that does ``action`` on the object, then is killed (SIGKILL)
        once ``ready()`` says the action took effect."""
        code = VICTIM.format(module=self.module, name=CLASS_NAMES[self.module], lease=LEASE,
                             action=action)
        proc = self.harness.start_client(code, self.boot)
        readable, _, _ = select.select([proc.stdout], [], [], 30)
        assert readable and proc.stdout.readline().strip() == "ready", proc.stderr.read()
        if ready is not None:
            wait_until(ready, 10, message="the victim's call to take effect")
        proc.kill()
        proc.wait()


@pytest.fixture
def cluster(object_cluster, harness):
    """``cluster(module, *init_args)``: (a proxy of the object re-initialised with init_args,
    its Scene)."""
    scenes = []

    def start(module, *init_args):
        scene = Scene(harness, object_cluster(module), module)
        scenes.append(scene)
        proxy = scene.new_proxy()
        proxy.__concoordinit__(*init_args)
        return proxy, scene
    yield start
    for scene in scenes:
        for proxy in scene.proxies:
            proxy.close()


def test_semaphore_permits_of_a_dead_client_come_back(cluster):
    sem, scene = cluster("semaphore", 2)
    scene.victim("obj.acquire(); obj.acquire()")
    assert sem.acquire(blocking=False) is False
    waiting = sem._invoke_async("acquire", (), {})
    assert waiting.result(WAKE_TIMEOUT) is True
    assert sem.get_value() == 1 and sem.held_by_me() == 1


def test_bounded_semaphore_stays_bounded_when_a_dead_client_was_released_for(cluster):
    sem, scene = cluster("bounded_semaphore", 1)
    scene.victim("obj.acquire()")
    sem.release()                   # someone released the dead client's permit for it
    wait_until(lambda: sem.get_value() == 1 and "held=0" in scene.described(), WAKE_TIMEOUT)
    with pytest.raises(ValueError):
        sem.release()


def test_rlock_held_twice_by_a_dead_client_passes_on(cluster):
    lock, scene = cluster("rlock")
    scene.victim("obj.acquire(); obj.acquire()")
    assert lock._invoke_async("acquire", (), {}).result(WAKE_TIMEOUT) == 2
    assert lock.owned()


def test_condition_forgets_a_dead_waiter_and_a_dead_holder(cluster):
    cond, scene = cluster("condition")
    scene.victim("obj.acquire(); obj._invoke_async('wait', (), {})",
                 ready=lambda: "sleeping=1" in scene.described())
    other = scene.new_proxy()
    scene.victim("obj.acquire()")
    got = other._invoke_async("acquire", (), {})
    assert got.result(WAKE_TIMEOUT) == 3
    other.notify_all()              # the dead waiter must not get the lock back
    other.release()
    assert not cond.locked()


def test_barrier_breaks_when_a_waiting_party_dies(cluster):
    barrier, scene = cluster("barrier", 3)
    scene.victim("obj._invoke_async('wait', (), {})", ready=lambda: barrier.n_waiting == 1)
    # Another party arrives while the dead one still counts; it fails once the lease runs out.
    pending = scene.new_proxy()._invoke_async("wait", (), {})
    with pytest.raises(BrokenBarrierError):
        pending.result(WAKE_TIMEOUT)
    assert barrier.broken
    barrier.reset()
    assert not barrier.broken and barrier.n_waiting == 0


def test_queue_does_not_hand_items_to_a_dead_getter(cluster):
    queue, scene = cluster("queue")
    scene.victim("obj._invoke_async('get', (), {})",
                 ready=lambda: "getters=1" in scene.described())
    wait_until(lambda: "getters=0" in scene.described(), WAKE_TIMEOUT,
               message="the dead getter to be forgotten")
    queue.put("item")
    assert queue.qsize() == 1 and queue.get() == "item"


def test_job_manager_requeues_the_jobs_of_a_dead_worker(cluster):
    jobs, scene = cluster("job_manager")
    jobs.submit("first")
    jobs.submit("second")
    scene.victim("obj.take()")
    worker = scene.new_proxy()
    assert worker.take() == (2, "second")
    assert worker._invoke_async("take", (), {}).result(WAKE_TIMEOUT) == (1, "first")
    worker.complete(1)
    worker.complete(2)
    assert jobs.pending() == [] and jobs.status(1) == "done"


def test_membership_drops_the_ephemeral_members_of_a_dead_client(cluster):
    group, scene = cluster("membership")
    group.add("permanent")
    scene.victim("obj.add('worker-1', ephemeral=True)")
    version, members = group.wait_for_change(-1)
    assert members == ["permanent", "worker-1"]
    started = time.monotonic()
    assert group.wait_for_change(version) == (version + 1, ["permanent"])
    assert time.monotonic() - started < WAKE_TIMEOUT
