"""The simulator with the library's real objects (tests/sim/objects.py), and the injected bugs
it must see: a command run twice, and replicas that apply a slot in different orders."""

import os

import pytest

from concoord.host.applier import Applier
from concoord.host.client_table import ClientTable

from tests.sim import objects

SEEDS = int(os.environ.get("SIM_OBJECT_SEEDS", "25"))


@pytest.mark.parametrize("object_name", sorted(objects.OBJECTS))
def test_real_objects_stay_deterministic_and_linearizable(object_name):
    for seed in range(SEEDS):
        history = objects.run(seed, object_name=object_name)
        assert history, "every run makes calls"


def caught(object_name, seeds):
    found = []
    for seed in seeds:
        try:
            objects.run(seed, object_name=object_name)
        except AssertionError:
            found.append(seed)
    return found


def test_a_command_run_twice_is_caught(monkeypatch):
    """Injected bug: exactly-once forgotten (every lookup says 'new'), so a command whose
    reply was lost runs again when the client resends it."""
    monkeypatch.setattr(ClientTable, "lookup", lambda self, client, number: ("new", None))
    original = ClientTable.record

    def record(self, client, number, reply, stamp):
        self._replies.get(client, {}).pop(number, None)
        original(self, client, number, reply, stamp)
    monkeypatch.setattr(ClientTable, "record", record)
    assert caught("Stack", range(30)), "no seed saw a push or pop run twice"


def test_replicas_that_apply_a_slot_in_different_orders_are_caught(monkeypatch):
    """Injected bug: followers apply each batch backwards (a host that is not deterministic)."""
    original = Applier.apply

    def apply(self, committed, leading, effects):
        if not leading:
            batch = committed.batch
            committed = committed._replace(batch=batch._replace(
                commands=tuple(reversed(batch.commands))))
        original(self, committed, leading, effects)
    monkeypatch.setattr(Applier, "apply", apply)
    assert caught("Stack", range(10))
