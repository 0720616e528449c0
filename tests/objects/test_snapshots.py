"""Every library object can be snapshotted as plain values, parked callers included, and the
restored copy goes on exactly like the original (a far-behind replica installs such a snapshot;
an object without one could never be caught up once the log is trimmed)."""

import importlib
import itertools

import pytest

from concoord.wire.values import decode_value, encode_value
from tests.objects.conftest import CLASS_NAMES
from tests.objects.local import LocalObject

# module -> (init args, calls before the snapshot, calls after it); a call is (client, method,
# args...). The calls before leave callers parked, so that the snapshot must carry them.
SCENARIOS = {
    "counter": ((), [("a", "increment")], [("b", "increment"), ("a", "getvalue")]),
    "lock": ((), [("a", "acquire"), ("b", "acquire"), ("c", "acquire")],
             [("a", "release"), ("b", "release"), ("c", "locked"), ("c", "release")]),
    "rlock": ((), [("a", "acquire"), ("a", "acquire"), ("b", "acquire")],
              [("a", "release"), ("a", "release"), ("b", "owned")]),
    "semaphore": ((1,), [("a", "acquire"), ("b", "acquire")],
                  [("a", "release"), ("b", "held_by_me")]),
    "bounded_semaphore": ((1,), [("a", "acquire"), ("b", "acquire")],
                          [("a", "release"), ("b", "release"), ("b", "release")]),
    "condition": ((), [("a", "acquire"), ("a", "wait"), ("b", "acquire")],
                  [("b", "notify"), ("b", "release"), ("a", "owned")]),
    "barrier": ((3,), [("a", "wait"), ("b", "wait")], [("c", "wait"), ("a", "n_waiting")]),
    "event": ((), [("a", "wait")], [("b", "set"), ("a", "wait")]),
    "queue": ((1,), [("a", "put", (1, "x")), ("a", "put", "y")],
              [("b", "get"), ("b", "get"), ("b", "qsize")]),
    "stack": ((), [("a", "push", [1, 2])], [("b", "pop"), ("b", "size")]),
    "log": ((), [("a", "append", "e")], [("b", "read", 0)]),
    "membership": ((), [("a", "add", "m", True), ("b", "wait_for_change", 1)],
                   [("c", "add", "n"), ("c", "members")]),
    "bank": ((), [("a", "open", "x", 5)], [("a", "withdraw", "x", 2), ("a", "balance", "x")]),
    "binary_tree": ((), [("a", "add", k) for k in (5, 3, 8, 1)],
                    [("b", "remove", 3), ("b", "in_order"), ("b", "height")]),
    "job_manager": ((), [("a", "submit", "j1"), ("b", "take"), ("c", "take")],
                    [("a", "submit", "j2"), ("b", "complete", 1), ("a", "pending")]),
    "dictionary": ((), [("a", "set", (1, 2), {"k": [1]})],
                   [("b", "get", (1, 2)), ("b", "compare_and_set", (1, 2), {"k": [1]}, 0),
                    ("b", "items")]),
}


def _object_class(module):
    return getattr(importlib.import_module(f"concoord.objects.{module}"), CLASS_NAMES[module])


def _run(local, calls):
    outcomes = []
    for client, method, *args in calls:
        outcomes.append(local.call(client, method, *args))
        outcomes.append(local.wakeups())
    return outcomes


def test_every_object_has_a_scenario():
    assert sorted(SCENARIOS) == sorted(CLASS_NAMES)


@pytest.mark.parametrize("module", sorted(SCENARIOS))
def test_snapshot_restores_an_object_that_behaves_the_same(module):
    init_args, before, after = SCENARIOS[module]
    original = LocalObject(_object_class(module), *init_args)
    _run(original, before)
    assert original.host.parked or module in ("counter", "stack", "log", "bank",
                                              "binary_tree", "dictionary")
    snapshot = original.host.snapshot()
    assert snapshot is not None, "the object's state cannot travel"
    restored = LocalObject(_object_class(module))
    restored.host.restore(decode_value(encode_value(snapshot)))
    assert restored.describe() == original.describe()
    next_number = next(original.numbers)
    original.numbers, restored.numbers = itertools.count(next_number), \
        itertools.count(next_number)
    assert _run(restored, after) == _run(original, after)
    assert restored.describe() == original.describe()
