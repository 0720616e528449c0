"""Lock and RLock against threading.Lock and threading.RLock (see world.py for how)."""

import pytest

from tests.objects.conformance.actors import (exclusive_increments, inside_with, steps,
                                               try_at_once)
from tests.objects.conformance.conftest import EVERY_MODE, SHARED
from tests.objects.conformance.world import actor

pytestmark = pytest.mark.timeout(120)

ARGUMENT_ERRORS = [("acquire", False, 1), ("acquire", True, -2), ("acquire", True, 1e100),
                   ("acquire", False, -1), ("locked",)]


@SHARED
def test_lock_alone(world):
    [ending] = world.check("Lock", [actor(steps, steps=[
        ("acquire", False), ("locked",), ("acquire", False), ("acquire", True, 0.2),
        ("release",), ("locked",), ("release",)] + ARGUMENT_ERRORS)])
    assert [o[1] for o in ending.outcome[1]][:7] == [
        True, True, False, False, None, False, "RuntimeError"]


@EVERY_MODE
def test_lock_held_by_one_thread_makes_others_wait_or_time_out(world):
    world.check("Lock", [
        actor(steps, steps=[("acquire",), ("sleep", 1.0), ("release",)]),
        actor(steps, at=0.3, steps=[("acquire", True, 0.3), ("acquire", False)]),
        actor(steps, at=0.4, steps=[("acquire",), ("locked",), ("release",)]),
    ])


@EVERY_MODE
def test_lock_released_by_another_thread(world):
    world.check("Lock", [
        actor(steps, steps=[("acquire",)]),
        actor(steps, at=0.3, steps=[("release",), ("acquire", False), ("release",),
                                    ("release",)]),
    ])


@SHARED
def test_lock_with_statement(world):
    world.check("Lock", [actor(inside_with)])


@SHARED
def test_rlock_alone(world):
    [ending] = world.check("RLock", [actor(steps, steps=[
        ("acquire",), ("acquire", False), ("acquire", True, 0.5), ("release",), ("release",),
        ("release",), ("release",)] + ARGUMENT_ERRORS[:4])])
    assert ending.outcome[1][6] == ("raised", "RuntimeError")


@EVERY_MODE
def test_rlock_is_owned_by_a_thread(world):
    world.check("RLock", [
        actor(steps, steps=[("acquire",), ("acquire",), ("sleep", 1.0), ("release",),
                            ("release",)]),
        actor(steps, at=0.3, steps=[("release",)]),                 # not the owner
        actor(steps, at=0.4, steps=[("acquire", True, 0.3)]),       # times out
        actor(steps, at=0.5, steps=[("acquire",), ("acquire",), ("release",), ("release",)]),
    ])


@EVERY_MODE
def test_try_acquire_by_many_threads_of_one_actor_at_once(world):
    world.check("Lock", [actor(try_at_once, threads=4)])
    world.check("RLock", [actor(try_at_once, threads=4)])
    world.check("Semaphore", [actor(try_at_once, threads=5)], 2)


@EVERY_MODE
def test_threads_of_one_actor_exclude_each_other(world):
    world.check("Lock", [actor(exclusive_increments, threads=3, rounds=4),
                         actor(exclusive_increments, threads=2, rounds=4)])
    world.check("RLock", [actor(exclusive_increments, threads=3, rounds=4)])
    world.check("Condition", [actor(exclusive_increments, threads=3, rounds=4)])
