"""The client table (host/client_table.py): exactly-once, and clients that age out."""

from concoord.host.client_table import IDLE_FORGET, ClientTable
from concoord.host.hosted_replica import HostedReplica
from concoord.wire.messages import BLOCKED, OK, Decision
from concoord.wire.types import Batch, Command, Configuration
from concoord.wire.values import encode_call_arguments

from tests.sim.model import AppendLog

DONE = (OK, b"\xc0")


def test_a_silent_client_is_forgotten_after_idle_forget():
    table = ClientTable()
    table.record("old", 1, DONE, 100.0)
    table.record("busy", 1, DONE, 100.0)
    table.record("busy", 2, DONE, 100.0 + IDLE_FORGET - 1)
    table.forget_idle(100.0 + IDLE_FORGET)
    assert table.lookup("old", 1) == ("new", None), "silent for IDLE_FORGET: forgotten"
    assert table.lookup("busy", 1) == ("done", DONE) and len(table) == 1


def test_a_client_that_parked_a_call_is_never_forgotten_by_age():
    table = ClientTable()
    table.record("waiter", 1, (BLOCKED, b"\xc0"), 100.0)
    table.complete("waiter", 1, DONE)
    table.forget_idle(100.0 + 10 * IDLE_FORGET)
    assert table.lookup("waiter", 1) == ("done", DONE), "its wake-up may not be delivered yet"


def test_stamps_only_go_forward():
    """A new leader's clock a little behind the last one's must not make a client look older
    than one used before it (the aging order would differ from the order of use)."""
    table = ClientTable()
    table.record("a", 1, DONE, 1000.0)
    table.record("b", 1, DONE, 990.0)
    table.forget_idle(990.0 + IDLE_FORGET)
    assert table.lookup("b", 1)[0] == "done" and table.lookup("a", 1)[0] == "done"


def test_aging_survives_a_snapshot():
    table = ClientTable()
    table.record("a", 1, DONE, 100.0)
    table.record("w", 1, (BLOCKED, b"\xc0"), 150.0)
    table.record("b", 1, DONE, 200.0)
    copy = ClientTable.from_plain(table.to_plain())
    for t in (table, copy):
        t.forget_idle(150.0 + IDLE_FORGET)
    assert copy.to_plain() == table.to_plain()
    assert copy.lookup("a", 1)[0] == "new" and copy.lookup("b", 1)[0] == "done"
    assert copy.lookup("w", 1)[0] == "done"


def test_a_table_from_before_aging_keeps_its_clients():
    copy = ClientTable.from_plain({"c": [0, [[1, OK, b"\xc0"]]]})
    copy.forget_idle(10 * IDLE_FORGET)
    assert copy.lookup("c", 1) == ("done", DONE)


def test_made_up_client_ids_do_not_grow_a_replica_forever():
    """Issue 19 (6): 100,000 session-less ids added 68 MiB to the replicated state, never
    reclaimed. An hour of replicated time after their last command, they are gone."""
    replica = HostedReplica("r1", Configuration(("r1", "r2"), ("a1", "a2", "a3")),
                            AppendLog(), 0.0)
    args = encode_call_arguments([], {})
    forged = tuple(Command(f"forged-{n}", 1, "append", args) for n in range(500))
    replica.handle(Decision("r2", 1, Batch(1000.0, forged)), 0.0)
    assert len(replica.applier.client_table) == 500
    later = Batch(1000.0 + IDLE_FORGET, (Command("honest", 1, "append", args),))
    replica.handle(Decision("r2", 2, later), 0.0)
    assert len(replica.applier.client_table) == 1
