"""SnapshotStore: a replica's state on disk, what lets the acceptors forget old slots."""

from concoord.host.hosted_replica import HostedReplica
from concoord.runtime import snapshot_store
from concoord.runtime.snapshot_store import SnapshotStore
from concoord.wire.messages import Decision
from concoord.wire.types import Batch, Command, Configuration
from concoord.wire.values import encode_call_arguments

from tests.sim.model import AppendLog

CONFIG = Configuration(("r1", "r2"), ("a1", "a2", "a3"))


def replica():
    return HostedReplica("r1", CONFIG, AppendLog(), 0.0)


def decide(node, slot, *methods):
    commands = tuple(Command(f"c{slot}", index + 1, method, encode_call_arguments([], {}))
                     for index, method in enumerate(methods))
    node.handle(Decision("r2", slot, Batch(float(slot), commands)), 0.0)


def test_a_snapshot_is_written_after_enough_commands_and_reported_durable(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_store, "SNAPSHOT_EVERY", 3)
    monkeypatch.setattr(snapshot_store, "SNAPSHOT_SECONDS", 3600)
    store, node = SnapshotStore(str(tmp_path)), replica()
    store.restore(node)
    assert node.durable and node.applied_durably() == 1, "nothing on disk yet"
    decide(node, 1, "append", "append")
    store.maybe_persist(node)
    assert not (tmp_path / "snapshot").exists() and node.applied_durably() == 1
    decide(node, 2, "append")
    store.maybe_persist(node)
    assert (tmp_path / "snapshot").exists() and node.applied_durably() == 3


def test_a_restarted_replica_resumes_from_its_snapshot(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot_store, "SNAPSHOT_EVERY", 1)
    store, node = SnapshotStore(str(tmp_path)), replica()
    store.restore(node)
    decide(node, 1, "append")
    decide(node, 2, "@join")           # malformed: the learner answers it, the host skips it
    store.maybe_persist(node)
    restarted = replica()
    SnapshotStore(str(tmp_path)).restore(restarted)
    assert restarted.learner.slot_out == 3 and restarted.applied_durably() == 3
    assert restarted.state_machine.entries == node.state_machine.entries == [("c1", 1)]
    decide(restarted, 3, "append")     # and goes on applying from there
    assert restarted.state_machine.entries == [("c1", 1), ("c3", 1)]
    restarted.check_invariants()


def test_a_new_view_is_written_at_once(tmp_path, monkeypatch):
    """A restarted replica trusts (and catches up from) only the replicas of the view it has:
    it must not come back with an older one, so a view change is written without waiting."""
    monkeypatch.setattr(snapshot_store, "SNAPSHOT_EVERY", 10**6)
    monkeypatch.setattr(snapshot_store, "SNAPSHOT_SECONDS", 3600)
    store, node = SnapshotStore(str(tmp_path)), replica()
    store.restore(node)
    join = Command("j", 1, "@join", encode_call_arguments(["replica", "r3"], {}))
    node.handle(Decision("r2", 1, Batch(1.0, (join,))), 0.0)
    store.maybe_persist(node)
    restarted = replica()
    SnapshotStore(str(tmp_path)).restore(restarted)
    assert "r3" in restarted.configs.latest.replicas


def test_an_object_that_cannot_be_snapshotted_keeps_every_slot_at_the_acceptors(tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setattr(snapshot_store, "SNAPSHOT_EVERY", 1)
    monkeypatch.setattr(AppendLog, "snapshot", lambda self: None)
    store, node = SnapshotStore(str(tmp_path)), replica()
    store.restore(node)
    decide(node, 1, "append")
    store.maybe_persist(node)
    assert not (tmp_path / "snapshot").exists() and node.applied_durably() == 1


def test_a_restored_snapshot_is_made_durable_before_it_counts(tmp_path, monkeypatch):
    """Seen by the simulator's helper: a replica killed between a snapshot's rename and the
    directory's fsync comes back reporting that snapshot durable; a power loss soon after could
    still take the rename back, after the acceptors forgot the slots it holds. Restoring now
    fsyncs the file and its directory before the slot counts as durable."""
    monkeypatch.setattr(snapshot_store, "SNAPSHOT_EVERY", 1)
    store, node = SnapshotStore(str(tmp_path)), replica()
    store.restore(node)
    decide(node, 1, "append")
    store.maybe_persist(node)
    synced = []
    monkeypatch.setattr(snapshot_store, "fsync_directory", synced.append)
    restarted = replica()
    SnapshotStore(str(tmp_path)).restore(restarted)
    assert synced == [str(tmp_path)] and restarted.applied_durably() == 2
