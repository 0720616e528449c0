"""Configuration history and reconfiguration through the log: a change decided in slot s governs
from slot s + WINDOW; the bootstrap replica completes its genesis configuration directly."""

import pytest

from concoord.protocol.acceptor import Acceptor
from concoord.protocol.config import (
    WINDOW, ConfigHistory, with_node, without_node)
from concoord.protocol.effects import Effects
from concoord.protocol.election import ACTIVE, CANDIDATE, FOLLOWER
from concoord.host.hosted_replica import HostedReplica
from concoord.wire.messages import (
    OK, REDIRECT, REJECTED, Accept, Applied, ClientRequest, Decision, Prepare)
from concoord.wire.types import NOOP, Batch, Command, Configuration
from concoord.wire.values import ExceptionValue, decode_value, encode_call_arguments

from tests.sim.model import AppendLog

C1 = Configuration(("r1",), ("a1", "a2", "a3"))
C2 = Configuration(("r1", "r2"), ("a1", "a2", "a3"))
C3 = Configuration(("r1", "r2"), ("a2", "a3", "a4"))


# ---- ConfigHistory ---------------------------------------------------------------------------

def test_the_initial_configuration_governs_every_slot():
    history = ConfigHistory(C1)
    assert [history.config_for(s) for s in (0, 1, 10, 10**9)] == [C1] * 4
    assert history.latest == C1 and history.window == WINDOW == 10


def test_a_configuration_decided_in_slot_s_governs_from_s_plus_window():
    history = ConfigHistory(C1)
    history.schedule(5, C2)
    assert history.config_for(5 + WINDOW - 1) == C1
    assert history.config_for(5 + WINDOW) == C2 and history.latest == C2


def test_successive_reconfigurations_each_take_over_at_their_own_slot():
    history = ConfigHistory(C1)
    history.schedule(5, C2)
    history.schedule(8, C3)
    assert [history.config_for(s) for s in (14, 15, 17, 18, 100)] == [C1, C2, C2, C3, C3]
    assert history.as_list() == [(1, C1), (15, C2), (18, C3)]


def test_several_reconfigurations_decided_in_one_slot_the_last_wins():
    history = ConfigHistory(C1)
    history.schedule(5, C2)
    history.schedule(5, C3)
    assert history.as_list() == [(1, C1), (15, C3)]


def test_scheduling_the_current_configuration_again_changes_nothing():
    history = ConfigHistory(C1)
    history.schedule(5, C1)
    assert history.as_list() == [(1, C1)]


def test_reconfigurations_must_be_scheduled_in_slot_order():
    history = ConfigHistory(C1)
    history.schedule(8, C2)
    with pytest.raises(AssertionError):
        history.schedule(5, C3)


def test_a_custom_window_is_honoured():
    history = ConfigHistory(C1, window=3)
    history.schedule(2, C2)
    assert history.config_for(4) == C1 and history.config_for(5) == C2


def test_forget_before_keeps_the_configuration_of_every_later_slot():
    history = ConfigHistory(C1)
    history.schedule(5, C2)
    history.schedule(8, C3)
    history.forget_before(16)
    assert history.config_for(16) == C2 and history.config_for(18) == C3
    assert history.as_list() == [(15, C2), (18, C3)]


def test_a_history_round_trips_through_its_list_form():
    history = ConfigHistory(C1)
    history.schedule(5, C2)
    again = ConfigHistory.from_list(history.as_list())
    assert again.as_list() == history.as_list() and again.config_for(15) == C2


def test_members_span_every_configuration_kept():
    history = ConfigHistory(C1)
    history.schedule(5, C3)
    replicas, acceptors = history.members()
    assert replicas | acceptors == {"r1", "r2", "a1", "a2", "a3", "a4"}


def test_with_node_and_without_node():
    assert with_node(C1, "acceptor", "a0").acceptors == ("a0", "a1", "a2", "a3")
    assert with_node(C1, "acceptor", "a1") == C1
    assert with_node(C1, "nameserver", "n1").nameservers == ("n1",)
    assert without_node(C3, "r2") == Configuration(("r1",), ("a2", "a3", "a4"))


def test_set_genesis_only_while_there_is_no_acceptor():
    history = ConfigHistory(Configuration(("r1",), ()))
    history.set_genesis(C1)
    assert history.config_for(1) == C1
    with pytest.raises(AssertionError):
        history.set_genesis(C2)


# ---- reconfiguration through the log ---------------------------------------------------------

def internal(method, *args, client="admin", number=1):
    return Command(client, number, method, encode_call_arguments(list(args), {}))


def replica_node(config=C1):
    node = HostedReplica("r1", config, AppendLog(), 0.0)
    node.known_peers = {"r9"}       # the stand-in leader these tests take decisions from
    return node


def decide(node, slot, *commands):
    return node.handle(Decision("r9", slot, Batch(1.0, commands)), 1.0)


def fill(node, slots):
    for slot in slots:
        decide(node, slot)


def test_a_join_decided_in_the_log_changes_the_configuration_window_slots_later():
    node = replica_node()
    fill(node, range(1, 3))
    (reply,) = decide(node, 3, internal("@join", "acceptor", "a4")).replies
    assert reply.status == OK
    assert decode_value(reply.value) == [["r1"], ["a1", "a2", "a3", "a4"], []]
    assert node.configs.config_for(3 + WINDOW - 1) == C1
    assert node.configs.config_for(3 + WINDOW).acceptors == ("a1", "a2", "a3", "a4")


def test_a_replica_join_adds_the_replica():
    node = replica_node()
    decide(node, 1, internal("@join", "replica", "r2"))
    assert node.configs.config_for(1 + WINDOW) == C2


def test_two_joins_in_one_batch_both_take_effect():
    node = replica_node()
    decide(node, 1, internal("@join", "acceptor", "a4"), internal("@join", "replica", "r2", number=2))
    assert node.configs.config_for(1 + WINDOW) == Configuration(("r1", "r2"),
                                                                ("a1", "a2", "a3", "a4"))


def test_a_remove_decided_in_the_log_drops_the_node_window_slots_later():
    node = replica_node(C2)
    (reply,) = decide(node, 1, internal("@remove", "r2")).replies
    assert reply.status == OK
    assert node.configs.config_for(WINDOW) == C2 and node.configs.config_for(1 + WINDOW) == C1


def test_remove_refuses_to_remove_the_last_replica():
    node = replica_node()
    (reply,) = decide(node, 1, internal("@remove", "r1")).replies
    assert reply.status == REJECTED
    assert node.configs.as_list() == [(1, C1)]


def test_remove_refuses_to_remove_the_last_acceptor():
    node = replica_node(Configuration(("r1",), ("a1",)))
    (reply,) = decide(node, 1, internal("@remove", "a1")).replies
    assert reply.status == REJECTED and len(node.configs.as_list()) == 1


@pytest.mark.parametrize("command", [
    internal("@remove", "nobody"), internal("@join", "king", "x"), internal("@join", "acceptor"),
    internal("@frobnicate", "x"), Command("admin", 1, "@join", b"\xc1garbage"),
])
def test_malformed_or_unknown_internal_commands_are_rejected_without_a_change(command):
    node = replica_node()
    (reply,) = decide(node, 1, command).replies
    assert reply.status == REJECTED
    assert isinstance(decode_value(reply.value), ExceptionValue)
    assert node.configs.as_list() == [(1, C1)] and node.learner.slot_out == 2


def test_a_join_with_an_unhashable_role_is_rejected_not_a_crash():
    node = replica_node()
    (reply,) = decide(node, 1, internal("@join", ["acceptor"], "x")).replies
    assert reply.status == REJECTED and node.learner.slot_out == 2


def test_internal_commands_do_not_reach_the_object():
    node = replica_node()
    decide(node, 1, internal("@join", "acceptor", "a4"))
    assert node.state_machine.entries == []


class Pair:
    """A HostedReplica "r1" wired by hand to real acceptors (new ones can be added)."""

    def __init__(self, config):
        self.node = HostedReplica("r1", config, AppendLog(), 0.0)
        self.acceptors = {}
        self.now = 0.0

    def acceptor(self, name):
        return self.acceptors.setdefault(name, Acceptor(name))

    def run(self, effects):
        """Deliver everything to acceptors and back until nothing is left to deliver."""
        total = Effects().extend(effects)
        while effects.sends:
            answers = [m for dest, msg in effects.sends if not dest.startswith("r")
                       for _, m in self.acceptor(dest).handle(msg, self.now).sends]
            effects = Effects()
            for msg in answers:
                effects.extend(self.node.handle(msg, self.now))
            total.extend(effects)
        return total


def join_request(role, node, number=1):
    return ClientRequest(node, internal("@join", role, node, client=node, number=number))


def test_a_leader_pads_with_noops_until_a_join_takes_effect_then_prepares_the_new_set():
    pair = Pair(C1)
    pair.run(pair.node.tick(0.31))
    assert pair.node.leader.state == ACTIVE
    effects = pair.run(pair.node.handle(join_request("acceptor", "a4"), 0.4))
    proposed = {m.slot: m.batch for _, m in effects.sends if isinstance(m, Accept)}
    assert [proposed[s] for s in range(2, 1 + WINDOW)] == [NOOP] * (WINDOW - 1)
    assert 1 + WINDOW not in proposed                    # nothing to pad there
    prepares = [(d, m.from_slot) for d, m in effects.sends if isinstance(m, Prepare)]
    assert sorted(prepares) == [(a, 1 + WINDOW) for a in ("a1", "a2", "a3", "a4")]
    assert pair.node.learner.slot_out == 1 + WINDOW
    assert pair.node.configs.config_for(pair.node.learner.slot_out).acceptors[-1] == "a4"


def test_after_a_join_new_commands_are_accepted_by_the_new_acceptor_set():
    pair = Pair(C1)
    pair.run(pair.node.tick(0.31))
    pair.run(pair.node.handle(join_request("acceptor", "a4"), 0.4))
    command = Command("c1", 1, "append", encode_call_arguments([1], {}))
    effects = pair.run(pair.node.handle(ClientRequest("c1", command), 0.5))
    targets = sorted(d for d, m in effects.sends if isinstance(m, Accept) and m.slot == 1 + WINDOW)
    assert targets == ["a1", "a2", "a3", "a4"]
    assert pair.node.state_machine.entries == [("c1", 1)]


# ---- genesis ---------------------------------------------------------------------------------

BOOT = Configuration(("r1",), ())


def test_a_bootstrap_replica_without_acceptors_never_campaigns():
    pair = Pair(BOOT)
    assert not pair.node.tick(100.0) and pair.node.leader.state == FOLLOWER


def test_genesis_join_the_first_acceptor_completes_the_initial_configuration_directly():
    pair = Pair(BOOT)
    effects = pair.node.handle(join_request("acceptor", "a1"), 1.0)
    (reply,) = effects.replies
    assert reply.status == OK and decode_value(reply.value) == [["r1"], ["a1"], []]
    assert pair.node.configs.as_list() == [(1, Configuration(("r1",), ("a1",)))]
    assert [(d, type(m)) for d, m in effects.sends] == [("a1", Prepare)]   # it campaigns
    assert pair.node.leader.state == CANDIDATE
    pair.run(effects)
    assert pair.node.leader.state == ACTIVE


def test_a_retried_genesis_join_gets_the_stored_reply():
    pair = Pair(BOOT)
    first = pair.node.handle(join_request("acceptor", "a1"), 1.0)
    pair.run(first)
    retry = pair.node.handle(join_request("acceptor", "a1"), 1.1)
    assert retry.replies == first.replies and not retry.sends


def test_a_second_acceptor_joins_through_the_log():
    pair = Pair(BOOT)
    pair.run(pair.node.handle(join_request("acceptor", "a1"), 1.0))
    effects = pair.run(pair.node.handle(join_request("acceptor", "a2"), 1.1))
    assert [r.status for r in effects.replies] == [OK]
    assert pair.node.configs.config_for(1).acceptors == ("a1",)
    assert pair.node.configs.config_for(1 + WINDOW).acceptors == ("a1", "a2")


@pytest.mark.parametrize("command", [
    internal("@join", "replica", "r2", client="r2"),
    internal("@remove", "a1", client="a1"),
    Command("a1", 1, "@join", b"\xc1"),
])
def test_only_an_acceptor_join_is_a_genesis_join(command):
    pair = Pair(BOOT)
    (reply,) = pair.node.handle(ClientRequest(command.client_id, command), 1.0).replies
    assert reply.status == REDIRECT and pair.node.configs.latest == BOOT


def test_no_genesis_join_once_the_instance_has_acceptors():
    pair = Pair(C1)
    (reply,) = pair.node.handle(join_request("acceptor", "a4"), 0.1).replies
    assert reply.status == REDIRECT and pair.node.configs.latest == C1


def removals(effects):
    """Replicas whose @remove the leader proposed in ``effects``."""
    proposed = {m.slot: m.batch for _, m in effects.sends if isinstance(m, Accept)}
    return [decode_value(c.args)[0][0] for batch in proposed.values()
            for c in batch.commands if c.method == "@remove"]


def test_a_rejoined_replica_is_not_removed_again_for_its_old_silence():
    """r2 was cut off past dead_after and removed; it comes back and rejoins: its silence
    counts from the rejoin, or it would be removed at once and rejoin forever."""
    three = Configuration(("r1", "r2", "r3"), ("a1", "a2", "a3"))
    pair = Pair(three)
    pair.now = 0.31
    pair.run(pair.node.tick(0.31))

    def alive_r3_tick(now):
        pair.now = now
        pair.node.handle(Applied("r3", pair.node.learner.slot_out, 1), now)
        return pair.run(pair.node.tick(now))
    assert removals(alive_r3_tick(3.0)) == []
    assert removals(alive_r3_tick(6.0)) == ["r2"]          # silent for 5.7 s: removed
    assert "r2" not in pair.node.configs.latest.replicas
    pair.now = 7.0
    pair.run(pair.node.handle(join_request("replica", "r2", number=2), 7.0))
    assert "r2" in pair.node.configs.latest.replicas
    assert removals(alive_r3_tick(8.0)) == []              # rejoined 1 s ago
    assert removals(alive_r3_tick(13.5)) == ["r2"]         # then silent 5.5 s: removed again

