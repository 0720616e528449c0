"""Semaphore and BoundedSemaphore against threading's (see world.py for how)."""

import pytest

from tests.objects.conformance.actors import steps
from tests.objects.conformance.conftest import EVERY_MODE, SHARED
from tests.objects.conformance.world import actor

pytestmark = pytest.mark.timeout(120)


@SHARED
def test_semaphore_alone(world):
    world.check("Semaphore", [actor(steps, steps=[
        ("acquire",), ("acquire",), ("acquire", False), ("acquire", True, 0.3),
        ("acquire", True, -1), ("acquire", False, 1), ("acquire", True, 1e100), ("release", 0),
        ("release", 2), ("acquire", False)])], 2)


@SHARED
def test_semaphore_refuses_a_negative_value(world):
    with pytest.raises(ValueError):
        world.check("Semaphore", [], -1)


@EVERY_MODE
def test_semaphore_admits_waiters_as_permits_come_back(world):
    world.check("Semaphore", [
        actor(steps, steps=[("acquire",), ("acquire",), ("sleep", 0.8), ("release",),
                            ("sleep", 0.3), ("release",)]),
        actor(steps, at=0.3, steps=[("acquire",)]),                 # gets the first at 0.8
        actor(steps, at=0.4, steps=[("acquire", True, 0.2)]),       # times out
        actor(steps, at=0.5, steps=[("acquire",)]),                 # gets the second at 1.1
    ], 2)


@EVERY_MODE
def test_semaphore_released_by_a_thread_that_never_acquired(world):
    world.check("Semaphore", [
        actor(steps, steps=[("acquire", True, 2.0)]),           # True at ~0.3
        actor(steps, at=0.3, steps=[("release",), ("sleep", 0.2), ("acquire", False),
                                    ("release",), ("acquire", False)]),
    ], 0)


@SHARED
def test_bounded_semaphore_alone(world):
    world.check("BoundedSemaphore", [actor(steps, steps=[
        ("acquire",), ("release",), ("release",), ("acquire", False), ("acquire", False)])], 1)
