"""HostedReplica taking a catch-up reply that carries a snapshot (_install_from_peer): a real
HostedReplica, with a stand-in for the object that runs the commands (tests.sim.model.AppendLog,
counting the snapshots it is restored from)."""

from concoord.host.hosted_replica import HostedReplica
from concoord.wire.messages import CatchupReply, Decision
from concoord.wire.types import Batch, Command, Configuration
from concoord.wire.values import encode_call_arguments

from tests.sim.model import AppendLog

CONFIG = Configuration(("r1", "r2"), ("a1", "a2", "a3"))


class CountingLog(AppendLog):
    """The stand-in object: an append-only log of the commands run, that counts restores."""

    def __init__(self):
        super().__init__()
        self.restores = 0

    def restore(self, state):
        self.restores += 1
        super().restore(state)


def batch(slot):
    return Batch(float(slot), (Command(f"c{slot}", 1, "append",
                                       encode_call_arguments([], {})),))


def replica(node_id, applied_slots=0):
    """A replica that has applied slots 1..applied_slots, each one client command."""
    hosted = HostedReplica(node_id, CONFIG, CountingLog(), 0.0)
    peer = "r2" if node_id == "r1" else "r1"
    for slot in range(1, applied_slots + 1):
        hosted.handle(Decision(peer, slot, batch(slot)), 0.0)
    assert hosted.learner.slot_out == applied_slots + 1
    return hosted


def reply_with_snapshot(source, src="r1", decisions_past_it=(4,)):
    return CatchupReply(src, tuple((slot, batch(slot)) for slot in decisions_past_it),
                        source.take_snapshot(), source.learner.slot_out)


def entries(hosted):
    return [client for client, _ in hosted.state_machine.entries]


def test_a_snapshot_ahead_is_installed_and_the_decisions_past_it_applied():
    target = replica("r2")
    effects = target.handle(reply_with_snapshot(replica("r1", 3)), 1.0)
    assert target.state_machine.restores == 1
    assert entries(target) == ["c1", "c2", "c3", "c4"] and target.learner.slot_out == 5
    assert [(r.client_id, r.number) for r in effects.replies] == [("c4", 1)], \
        "the decision past the snapshot is applied and answered in the same effects"
    assert not effects.committed, "everything handed over was applied"
    target.check_invariants()


def test_a_snapshot_not_ahead_is_not_installed_but_its_decisions_are_applied():
    target = replica("r2", 3)
    target.handle(reply_with_snapshot(replica("r1", 3)), 1.0)
    assert target.state_machine.restores == 0
    assert entries(target) == ["c1", "c2", "c3", "c4"]
    target.check_invariants()


def test_a_snapshot_that_claims_to_be_ahead_but_is_not_changes_nothing_but_the_decisions():
    target = replica("r2", 3)
    older = replica("r1", 2).take_snapshot()           # after slot 2, claimed after slot 8
    claim = CatchupReply("r1", ((4, batch(4)),), older, 9)
    target.handle(claim, 1.0)
    assert target.state_machine.restores == 0, "an older snapshot never takes a replica back"
    assert entries(target) == ["c1", "c2", "c3", "c4"]
    target.check_invariants()


def test_a_malformed_snapshot_is_dropped_with_its_decisions():
    target = replica("r2")
    effects = target.handle(CatchupReply("r1", ((4, batch(4)),), b"\xc1not a snapshot", 4), 1.0)
    assert not effects and target.state_machine.restores == 0
    assert target.learner.slot_out == 1 and not target.learner.decisions
    target.check_invariants()


def test_a_snapshot_from_a_stranger_is_ignored():
    target = replica("r2")
    target.handle(reply_with_snapshot(replica("r1", 3), src="x9"), 1.0)
    assert target.state_machine.restores == 0 and target.learner.slot_out == 1
    target.check_invariants()
