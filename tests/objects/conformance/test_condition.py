"""Condition against threading.Condition (its default RLock; see world.py for how)."""

import pytest

from tests.objects.conformance.actors import steps, wait_for
from tests.objects.conformance.conftest import EVERY_MODE, SHARED
from tests.objects.conformance.world import actor

pytestmark = pytest.mark.timeout(120)

NOTIFY = [("acquire",), ("notify",), ("release",)]


@SHARED
def test_condition_alone(world):
    world.check("Condition", [actor(steps, steps=[
        ("wait", 0.1), ("notify",), ("notify_all",), ("release",),      # un-acquired
        ("acquire",), ("acquire",), ("wait", 0.3), ("wait", -1), ("wait", 1e100), ("notify",),
        ("notify_all",), ("release",), ("release",), ("release",)])])


@EVERY_MODE
def test_condition_notify_wakes_one_waiter_at_a_time(world):
    world.check("Condition", [
        actor(steps, steps=[("acquire",), ("wait",), ("release",)]),
        actor(steps, at=0.1, steps=[("acquire",), ("wait", 2.0), ("release",)]),
        actor(steps, at=0.3, steps=NOTIFY + [("sleep", 0.3)] + NOTIFY),
    ])


@EVERY_MODE
def test_condition_notify_all_and_the_lock_handed_back_in_turn(world):
    world.check("Condition", [
        actor(steps, steps=[("acquire",), ("acquire",), ("wait",), ("release",),
                            ("release",)]),
        actor(steps, at=0.1, steps=[("acquire",), ("wait",), ("release",)]),
        actor(steps, at=0.3, steps=[("acquire",), ("notify_all",), ("sleep", 0.3),
                                    ("release",)]),
    ])


@EVERY_MODE
def test_condition_wait_timing_out_returns_only_with_the_lock(world):
    world.check("Condition", [
        actor(steps, steps=[("acquire",), ("wait", 0.3), ("release",)]),   # False at ~0.8
        actor(steps, at=0.1, steps=[("acquire",), ("sleep", 0.7), ("release",)]),
    ])


@EVERY_MODE
def test_condition_wait_for_loops_with_a_local_predicate(world):
    world.check("Condition", [
        actor(wait_for, true_on_call=3),                    # notified twice: True, 3 calls
        actor(wait_for, at=0.1, true_on_call=100, timeout=0.5),   # times out: False
        actor(steps, at=0.3, steps=NOTIFY + [("sleep", 0.4)] + NOTIFY),
    ])
