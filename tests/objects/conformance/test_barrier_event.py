"""Barrier and Event against threading's (see world.py for how)."""

import pytest

from tests.objects.conformance.actors import steps
from tests.objects.conformance.conftest import EVERY_MODE, SHARED
from tests.objects.conformance.world import actor

pytestmark = pytest.mark.timeout(120)


@EVERY_MODE
def test_barrier_releases_its_parties_together_with_their_arrival_index(world):
    world.check("Barrier", [
        actor(steps, steps=[("wait",), ("wait",)]),
        actor(steps, at=0.2, steps=[("wait",), ("sleep", 0.1), ("wait",)]),
        actor(steps, at=0.4, steps=[("n_waiting",), ("wait",), ("sleep", 0.2), ("wait",)]),
    ], 3)


@EVERY_MODE
def test_barrier_default_timeout_breaks_it_for_every_party(world):
    world.check("Barrier", [
        actor(steps, steps=[("wait",)]),
        actor(steps, at=0.1, steps=[("wait", 5.0)]),
        actor(steps, at=0.8, steps=[("broken",), ("n_waiting",), ("wait",), ("reset",),
                                    ("broken",)]),
    ], 3, timeout=0.4)


@EVERY_MODE
def test_barrier_abort_and_its_properties(world):
    world.check("Barrier", [
        actor(steps, steps=[("wait",)]),
        actor(steps, at=0.3, steps=[("parties",), ("n_waiting",), ("broken",), ("abort",),
                                    ("broken",), ("wait", 0.1), ("reset",), ("n_waiting",)]),
    ], 2)


@SHARED
def test_barrier_arguments(world):
    world.check("Barrier", [actor(steps, steps=[("wait", 1e100), ("wait", -1), ("broken",)])],
                2)
    with pytest.raises(ValueError):
        world.check("Barrier", [], 0)


@SHARED
def test_event_alone(world):
    world.check("Event", [actor(steps, steps=[
        ("is_set",), ("wait", 0.2), ("wait", 0), ("wait", -1), ("wait", 1e100), ("set",),
        ("wait",), ("is_set",), ("clear",), ("wait", 0.1), ("is_set",)])])


@EVERY_MODE
def test_event_set_wakes_every_waiting_thread(world):
    world.check("Event", [
        actor(steps, steps=[("wait",)]),
        actor(steps, steps=[("wait",)]),
        actor(steps, steps=[("wait", 5.0)]),
        actor(steps, at=0.1, steps=[("wait", 0.1)]),                  # times out first
        actor(steps, at=0.4, steps=[("set",), ("clear",), ("wait", 0.2)]),
    ])
