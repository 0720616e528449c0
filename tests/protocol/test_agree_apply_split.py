"""Where agreeing ends and applying begins (issue 14): the protocol hands decided slots over in
Effects.committed and never runs the object; concoord.host applies them, each command once."""

import subprocess
import sys

import pytest

from concoord.host.applier import Applier
from concoord.host.hosted_replica import HostedReplica
from concoord.host.snapshot import decode_snapshot
from concoord.protocol.config import ConfigHistory
from concoord.protocol.effects import Effects
from concoord.protocol.learner import Committed, Learner
from concoord.protocol.replica_node import ReplicaNode
from concoord.wire.messages import OK, REJECTED, Decision
from concoord.wire.types import Batch, Command, Configuration
from concoord.wire.values import decode_value, encode_call_arguments, encode_value

from tests.sim.model import AppendLog

CONFIG = Configuration(("r1", "r2"), ("a1", "a2", "a3"))


def command(client, number, method="append", *args):
    return Command(client, number, method, encode_call_arguments(list(args), {}))


def test_the_protocol_imports_nothing_of_the_host_or_the_runtime():
    code = ("import sys, concoord.protocol.replica_node, concoord.protocol.acceptor_node\n"
            "print(sorted(m for m in sys.modules if m.startswith(('concoord.host', "
            "'concoord.runtime', 'concoord.objects', 'concoord.blocking', "
            "'concoord.determinism'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_the_learner_hands_slots_over_in_order_and_runs_only_its_own_commands():
    learner = Learner("r1", ConfigHistory(CONFIG))
    effects = Effects()
    second = Batch(2.0, (command("c1", 2),))
    learner.on_decision(2, second, effects)
    assert effects.committed == [], "slot 1 is missing: nothing can be handed over"
    first = Batch(1.0, (command("c1", 1), command("c2", 1, "@session", 5)))
    learner.on_decision(1, first, effects)
    assert effects.committed == [Committed(1, first, {1: None}), Committed(2, second, {})]
    assert learner.sessions == {"c2": 5.0}
    assert [(r.client_id, r.status) for r in effects.replies] == [("c2", OK)], \
        "the learner answers its own commands, the host the others"


def test_an_expiry_names_the_client_for_the_host_and_refuses_its_later_commands():
    learner = Learner("r1", ConfigHistory(CONFIG))
    effects = Effects()
    learner.on_decision(1, Batch(1.0, (command("c2", 1, "@session", 5),)), effects)
    expire = command("@r1#0", 1, "@expire", "c2")
    late = command("c2", 2)
    learner.on_decision(2, Batch(2.0, (expire, late)), effects)
    assert effects.committed[-1].ran == {0: "c2", 1: None}
    assert effects.replies[-1].status == REJECTED


def test_the_applier_runs_each_client_command_once_and_skips_what_the_learner_ran():
    log = AppendLog()
    applier = Applier("r1", log)
    effects = Effects()
    batch = Batch(1.0, (command("c1", 1), command("c2", 1, "@session", 5), command("c1", 1)))
    applier.apply(Committed(1, batch, {1: None}), False, effects)
    assert log.entries == [("c1", 1)]
    assert [(r.client_id, r.number) for r in effects.replies] == [("c1", 1), ("c1", 1)]
    assert effects.replies[0] == effects.replies[1], "a retry gets the stored reply"
    with pytest.raises(AssertionError, match="applied after"):
        applier.apply(Committed(3, batch, {}), False, effects)


def test_an_applier_that_skips_a_slot_is_caught_by_the_replicas_invariants(monkeypatch):
    """Injected bug: the host drops a committed slot; check_invariants (run by the simulator
    after every step) must say so."""
    replica = HostedReplica("r1", CONFIG, AppendLog(), 0.0)
    original = Applier.apply

    def skip_slot_2(self, committed, leading, effects):
        if committed.slot == 2:
            return
        original(self, committed, leading, effects)
    monkeypatch.setattr(Applier, "apply", skip_slot_2)
    replica.handle(Decision("r2", 1, Batch(1.0, (command("c1", 1),))), 0.0)
    replica.check_invariants()
    replica.handle(Decision("r2", 2, Batch(1.0, (command("c1", 2),))), 0.0)
    with pytest.raises(AssertionError, match="host applies every slot"):
        replica.check_invariants()


def test_a_protocol_node_alone_runs_no_object():
    node = ReplicaNode("r1", CONFIG, 0.0)
    effects = node.handle(Decision("r2", 1, Batch(1.0, (command("c1", 1),))), 0.0)
    assert [c.slot for c in effects.committed] == [1] and not effects.replies


def test_a_snapshot_written_before_the_split_still_installs():
    """Snapshots on disk from before the split have six fields (no learner replies)."""
    old = encode_value([3, [{"entries": []}, []], {"c1": [0, [[1, 0, b"\xc0"]]]}, {"c1": 5.0},
                        [], [[1, [["r1", "r2"], ["a1", "a2", "a3"], []]]]])
    snapshot = decode_snapshot(old, 10)
    assert snapshot.slot_out == 3 and snapshot.own_replies == []
    assert snapshot.client_table.lookup("c1", 1) == ("done", (0, b"\xc0"))
    assert snapshot.history.latest == CONFIG and snapshot.sessions == {"c1": 5.0}


def test_a_snapshot_carries_both_halves():
    source = HostedReplica("r1", CONFIG, AppendLog(), 0.0)
    source.handle(Decision("r2", 1, Batch(1.0, (command("c1", 1), command("j", 1, "@join",
                                                                          "replica", "r3")))),
                  0.0)
    target = HostedReplica("r2", CONFIG, AppendLog(), 0.0)
    target.install_snapshot(source.take_snapshot())
    assert target.learner.slot_out == 2 and target.state_machine.entries == [("c1", 1)]
    assert target.learner.lookup("j", 1)[0] == "done", "the join's reply survives for retries"
    assert target.applier.lookup("c1", 1)[0] == "done"
    assert decode_value(target.learner.own_replies[("j", 1)][1])[0] == ["r1", "r2", "r3"]
    target.check_invariants()
