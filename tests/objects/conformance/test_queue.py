"""Queue against queue.Queue (see world.py for how)."""

import pytest

from tests.objects.conformance.actors import steps
from tests.objects.conformance.conftest import EVERY_MODE, SHARED
from tests.objects.conformance.world import actor

pytestmark = pytest.mark.timeout(120)


@SHARED
def test_queue_alone(world):
    world.check("Queue", [actor(steps, steps=[
        ("empty",), ("get_nowait",), ("get", False), ("get", True, 0.2), ("get", True, -1),
        ("put", 1), ("put", (2, "two")), ("full",), ("qsize",), ("put_nowait", 3),
        ("put", 3, False), ("put", 3, True, 0.2), ("put", 3, True, -1), ("get",),
        ("get_nowait",), ("empty",), ("task_done",), ("task_done",), ("task_done",),
        ("join",)])], maxsize=2)


@SHARED
def test_unbounded_queue_is_never_full(world):
    world.check("Queue", [actor(steps, steps=[("put", i) for i in range(20)]
                                + [("full",), ("qsize",), ("get",)])])


@EVERY_MODE
def test_queue_get_waits_for_a_put(world):
    world.check("Queue", [
        actor(steps, steps=[("get",), ("get",), ("get", True, 0.2)]),
        actor(steps, at=0.3, steps=[("put", "a"), ("sleep", 0.2), ("put", "b")]),
    ])


@EVERY_MODE
def test_queue_put_waits_for_room(world):
    world.check("Queue", [
        actor(steps, steps=[("put", 1), ("put", 2)]),                  # the 2nd waits
        actor(steps, at=0.3, steps=[("get",), ("sleep", 0.2), ("full",), ("put", 3, True, 0.1),
                                    ("get",), ("empty",)]),
    ], 1)


@EVERY_MODE
def test_queue_join_waits_for_every_task_done(world):
    world.check("Queue", [
        actor(steps, steps=[("put", "x"), ("put", "y"), ("join",)]),     # ends at ~0.7
        actor(steps, at=0.3, steps=[("get",), ("get",), ("task_done",), ("sleep", 0.4),
                                    ("task_done",), ("task_done",)]),
        actor(steps, at=0.4, steps=[("join",)]),
    ])
