"""Transcript tests of one replica (HostedReplica: learner, colocated leader, host) driven by hand.

There is no network: the messages a node sends to acceptors are handed to real Acceptor objects
and their answers handed back, one by one when the test needs to control the order.
"""

import random

import pytest

from concoord.host import client_table
from concoord.protocol.acceptor import Acceptor
from concoord.protocol.config import WINDOW
from concoord.protocol.effects import Effects
from concoord.protocol.election import ACTIVE, CANDIDATE, FOLLOWER
from concoord.host.hosted_replica import HostedReplica
from concoord.protocol.timing import Timing
from concoord.wire.messages import (
    OK, REDIRECT, REJECTED, Accept, Accepted, CatchupReply, CatchupRequest,
    ClientRequest, Decision, Heartbeat, HeartbeatReply, Prepare, Promise)
from concoord.wire.types import NOOP, Ballot, Batch, Command, Configuration, PValue
from concoord.wire.values import ExceptionValue, decode_value, encode_call_arguments

from tests.sim.model import AppendLog

ACCEPTORS = ("a1", "a2", "a3")
TIMING = Timing()
ELECTION = TIMING.election_timeout + 0.01      # the first tick at which r1 campaigns


class Cluster:
    """One HostedReplica "r1" (possibly with silent peer replicas) and real acceptors."""

    def __init__(self, replicas=("r1",), acceptors=ACCEPTORS, state_machine=None, records=None):
        self.config = Configuration(replicas, acceptors)
        self.log = state_machine or AppendLog()
        self.node = HostedReplica("r1", self.config, self.log, 0.0, TIMING)
        if replicas == ("r1",):      # stand-in peers the single-replica tests take decisions from
            self.node.known_peers = {"r0", "r2", "r3"}
        self.acceptors = {a: Acceptor(a, (records or {}).get(a, ())) for a in acceptors}
        for acceptor in self.acceptors.values():
            acceptor.restarted = False   # recovery scenarios, not the post-restart lease wait
        self.now = 0.0

    def at(self, now):
        self.now = now
        return self

    def tick(self, now):
        self.now = now
        return self.node.tick(now)

    def handle(self, msg):
        return self.node.handle(msg, self.now)

    def answers(self, effects, only=None):
        """The acceptors' answers to every message ``effects`` sends them (in order)."""
        out = []
        for dest, msg in effects.sends:
            if dest in self.acceptors and (only is None or dest in only):
                out.extend(m for _, m in self.acceptors[dest].handle(msg, self.now).sends)
        return out

    def feed(self, msgs):
        effects = Effects()
        for msg in msgs:
            effects.extend(self.handle(msg))
        return effects

    def round_trip(self, effects, only=None):
        """Deliver to the acceptors and their answers back; the node's resulting effects."""
        return self.feed(self.answers(effects, only))

    def elect(self):
        effects = self.round_trip(self.tick(ELECTION))
        assert self.node.leader.state == ACTIVE
        return effects

    def request(self, number, client="c1", method="append", src=None):
        command = Command(client, number, method, encode_call_arguments([number], {}))
        return self.handle(ClientRequest(src or client, command))


def accepts(effects):
    """{slot: batch} of the Accept messages in ``effects``."""
    return {m.slot: m.batch for _, m in effects.sends if isinstance(m, Accept)}


def of_type(effects, cls):
    return [(dest, m) for dest, m in effects.sends if isinstance(m, cls)]


def cmd(number, client="c1", method="append"):
    return Command(client, number, method, encode_call_arguments([number], {}))


def batch(*numbers, client="c1"):
    return Batch(1.0, tuple(cmd(n, client) for n in numbers))


def rejection_reason(reply):
    value = decode_value(reply.value)
    assert isinstance(value, ExceptionValue)
    return value.args[0]


# ---- election --------------------------------------------------------------------------------

def test_no_campaign_before_the_election_timeout():
    cluster = Cluster()
    assert not cluster.tick(TIMING.election_timeout)
    assert cluster.node.leader.state == FOLLOWER


def test_campaigns_after_the_election_timeout_with_a_prepare_to_every_acceptor():
    cluster = Cluster()
    effects = cluster.tick(ELECTION)
    assert sorted(of_type(effects, Prepare)) == [
        (a, Prepare("r1", Ballot(1, "r1", 0), 1)) for a in ACCEPTORS]
    assert cluster.node.leader.state == CANDIDATE


def test_the_next_replica_in_line_waits_one_more_timeout():
    cluster = Cluster(replicas=("r0", "r1"))           # r1 ranks second
    assert not of_type(cluster.tick(ELECTION), Prepare)
    assert of_type(cluster.tick(2 * TIMING.election_timeout + 0.01), Prepare)


def test_active_after_promises_from_a_quorum_of_distinct_acceptors():
    cluster = Cluster()
    promises = cluster.answers(cluster.tick(ELECTION))
    cluster.handle(promises[0])
    assert cluster.node.leader.state == CANDIDATE
    cluster.handle(promises[1])
    assert cluster.node.leader.state == ACTIVE and cluster.node.leader.leader_id == "r1"


def test_a_duplicated_promise_does_not_count_twice():
    cluster = Cluster()
    first = cluster.answers(cluster.tick(ELECTION))[0]
    cluster.handle(first)
    cluster.handle(first)
    assert cluster.node.leader.state == CANDIDATE


def test_a_promise_from_outside_the_acceptor_set_does_not_count():
    cluster = Cluster()
    first = cluster.answers(cluster.tick(ELECTION))[0]
    cluster.handle(first)
    cluster.handle(Promise("intruder", Ballot(1, "r1", 0), 1, ()))
    assert cluster.node.leader.state == CANDIDATE


def test_unanswered_prepares_are_resent_only_to_silent_acceptors():
    cluster = Cluster()
    promises = cluster.answers(cluster.tick(ELECTION))
    cluster.handle(promises[0])                          # a1 answered
    resent = of_type(cluster.tick(ELECTION + TIMING.retransmit_interval), Prepare)
    assert sorted(dest for dest, _ in resent) == ["a2", "a3"]


def test_an_active_leader_heartbeats_the_acceptors():
    cluster = Cluster()
    cluster.elect()
    beats = of_type(cluster.tick(ELECTION + TIMING.heartbeat_interval), Heartbeat)
    assert sorted(dest for dest, _ in beats) == list(ACCEPTORS)
    assert beats[0][1].ballot == Ballot(1, "r1", 0) and beats[0][1].slot_out == 1


# ---- proposing -------------------------------------------------------------------------------

def test_a_client_command_is_proposed_decided_applied_and_answered():
    cluster = Cluster()
    cluster.elect()
    effects = cluster.request(1)
    assert accepts(effects) == {1: Batch(cluster.now, (cmd(1),))}
    done = cluster.round_trip(effects)
    assert cluster.node.learner.slot_out == 2 and cluster.log.entries == [("c1", 1)]
    (reply,) = done.replies
    assert (reply.client_id, reply.number, reply.status) == ("c1", 1, OK)
    assert decode_value(reply.value) == 1


def test_a_slot_is_decided_by_a_quorum_of_distinct_acceptances():
    cluster = Cluster()
    cluster.elect()
    answers = cluster.answers(cluster.request(1))
    cluster.feed([answers[0], answers[0]])               # the same acceptor twice
    assert cluster.node.learner.slot_out == 1
    cluster.handle(answers[1])
    assert cluster.node.learner.slot_out == 2


def test_a_decision_goes_to_the_other_replicas():
    cluster = Cluster(replicas=("r1", "r2", "r3"))
    cluster.elect()
    decided = cluster.round_trip(cluster.request(1))
    assert sorted(dest for dest, _ in of_type(decided, Decision)) == ["r2", "r3"]


def test_busy_leader_gathers_commands_into_the_next_batch():
    cluster = Cluster()
    cluster.elect()
    alone = cluster.request(1)                            # idle: proposed at once
    assert accepts(alone) == {1: Batch(cluster.now, (cmd(1),))}
    waiting = [cluster.request(n) for n in range(2, 7)]
    assert not any(accepts(e) for e in waiting)         # slot 1 in phase 2: they gather
    decided = cluster.round_trip(alone)
    assert accepts(decided) == {2: Batch(cluster.now, tuple(cmd(n) for n in range(2, 7)))}


def test_commands_pipeline_one_slot_each_until_the_window_is_full_then_batch():
    cluster = Cluster()
    cluster.elect()
    cluster.node.leader.batcher.depth = WINDOW           # pipeline as deep as the window
    first = [cluster.request(n) for n in range(1, WINDOW + 1)]
    assert [accepts(e) for e in first] == [{n: Batch(cluster.now, (cmd(n),))}
                                           for n in range(1, WINDOW + 1)]
    waiting = [cluster.request(n) for n in range(WINDOW + 1, WINDOW + 6)]
    assert not any(accepts(e) for e in waiting)         # the window is full: they queue
    freed = cluster.round_trip(first[0])                  # slot 1 decided: slot 11 opens
    assert accepts(freed) == {WINDOW + 1: Batch(cluster.now, tuple(
        cmd(n) for n in range(WINDOW + 1, WINDOW + 6)))}


def test_never_proposes_at_or_beyond_slot_out_plus_window():
    cluster = Cluster()
    cluster.elect()
    cluster.node.leader.batcher.depth = WINDOW
    slots = set()
    for n in range(1, 3 * WINDOW):
        slots |= set(accepts(cluster.request(n)))
        cluster.node.check_invariants()
    assert max(slots) == cluster.node.learner.slot_out + WINDOW - 1 == WINDOW


def test_unanswered_accepts_are_resent_only_to_silent_acceptors():
    cluster = Cluster()
    cluster.elect()
    cluster.round_trip(cluster.request(1), only={"a1"})
    resent = cluster.tick(cluster.now + TIMING.retransmit_interval)
    assert sorted(dest for dest, m in of_type(resent, Accept)) == ["a2", "a3"]


def test_acceptors_are_told_to_forget_slots_every_replica_applied():
    cluster = Cluster()                                  # r1 is the only replica
    cluster.elect()
    for n in range(1, 4):
        cluster.round_trip(cluster.request(n))
    assert cluster.node.learner.slot_out == 4
    cluster.tick(cluster.now + 0.001)                    # the leader updates its GC floor
    sent = [m for _, m in cluster.request(4).sends if isinstance(m, Accept)]
    assert sent and all(m.gc_below > 1 for m in sent)


# ---- recovery (phase 1 reports) --------------------------------------------------------------

A = Batch(1.0, (cmd(1, "x"),))
B = Batch(2.0, (cmd(1, "y"),))
C = Batch(3.0, (cmd(2, "y"),))


def recovering_cluster():
    """a1 accepted A in slot 1 under (0, x); a2 accepted B over it under (0, y), and C in
    slot 3; nobody accepted anything in slot 2."""
    return Cluster(records={
        "a1": [("accept", PValue(Ballot(0, "x"), 1, A))],
        "a2": [("accept", PValue(Ballot(0, "y"), 1, B)), ("accept", PValue(Ballot(0, "y"), 3, C))],
    })


def test_recovery_reproposes_the_highest_ballot_value_and_fills_gaps_with_noops():
    cluster = recovering_cluster()
    effects = cluster.round_trip(cluster.tick(ELECTION), only={"a1", "a2"})
    assert cluster.node.leader.state == ACTIVE
    assert accepts(effects) == {1: B, 2: NOOP, 3: C}


def test_recovery_picks_the_highest_ballot_whatever_order_the_promises_arrive_in():
    cluster = recovering_cluster()
    promises = cluster.answers(cluster.tick(ELECTION), only={"a1", "a2"})
    effects = cluster.feed(reversed(promises))
    assert accepts(effects) == {1: B, 2: NOOP, 3: C}


def test_recovered_slots_come_before_new_commands():
    cluster = recovering_cluster()
    recovered = cluster.round_trip(cluster.tick(ELECTION), only={"a1", "a2"})
    assert not accepts(cluster.request(1, client="c9"))  # slots 1-3 are still in phase 2
    decided = cluster.round_trip(recovered, only={"a1", "a2"})
    assert accepts(decided) == {4: Batch(cluster.now, (cmd(1, "c9"),))}


def test_recovery_ignores_reports_below_the_first_unapplied_slot():
    cluster = recovering_cluster()
    cluster.handle(Decision("r0", 1, A))                  # slot 1 already decided and applied
    campaign = cluster.tick(ELECTION)
    assert {m.from_slot for _, m in of_type(campaign, Prepare)} == {2}
    assert accepts(cluster.round_trip(campaign, only={"a1", "a2"})) == {2: NOOP, 3: C}


# ---- stepping down ---------------------------------------------------------------------------

HIGHER = Ballot(5, "r2", 0)


def redirect_hint(cluster, number=99):
    (reply,) = cluster.request(number).replies
    assert reply.status == REDIRECT and reply.value == b""
    return reply.leader


def test_a_follower_redirects_clients_without_a_hint_when_no_leader_is_known():
    cluster = Cluster()
    assert redirect_hint(cluster) is None


def test_steps_down_when_an_accepted_carries_a_higher_ballot_and_redirects_clients():
    """A higher ballot in an acceptor's answer may never have won: clients are redirected
    without a hint until a heartbeat names the leader that did."""
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.elect()
    cluster.request(1)
    cluster.handle(Accepted("a1", HIGHER, 1))
    assert cluster.node.leader.state == FOLLOWER
    assert redirect_hint(cluster) is None
    assert not accepts(cluster.request(2))
    cluster.handle(Heartbeat("r2", HIGHER, 1, cluster.config, cluster.now, 0.25))
    assert redirect_hint(cluster, 98) == "r2"


def test_steps_down_when_a_promise_carries_a_higher_ballot():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.tick(ELECTION)
    cluster.handle(Promise("a1", HIGHER, 1, ()))
    assert cluster.node.leader.state == FOLLOWER and cluster.node.leader.leader_id != "r2"
    assert cluster.node.leader.highest_ballot == HIGHER


def test_steps_down_when_a_heartbeat_reply_carries_a_higher_ballot():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.elect()
    cluster.handle(HeartbeatReply("a2", HIGHER))
    assert cluster.node.leader.state == FOLLOWER and redirect_hint(cluster) is None


def test_steps_down_for_a_heartbeat_from_a_leader_with_a_higher_ballot():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.elect()
    cluster.handle(Heartbeat("r2", HIGHER, 1, cluster.config))
    assert cluster.node.leader.state == FOLLOWER and redirect_hint(cluster) == "r2"


def test_a_lower_ballot_in_a_reply_changes_nothing():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.elect()
    cluster.feed([HeartbeatReply("a1", Ballot(0, "r2")), Accepted("a1", Ballot(0, "r2"), 1),
                  Heartbeat("r2", Ballot(0, "r2"), 1, cluster.config)])
    assert cluster.node.leader.state == ACTIVE


def test_a_preempted_leader_campaigns_again_above_the_ballot_that_beat_it():
    cluster = Cluster()
    cluster.tick(ELECTION)
    cluster.handle(Promise("a1", HIGHER, 1, ()))
    later = ELECTION + TIMING.election_timeout + 0.01
    (ballot,) = {m.ballot for _, m in of_type(cluster.tick(later), Prepare)}
    assert ballot == Ballot(HIGHER.round + 1, "r1", 0) > HIGHER


# ---- client requests -------------------------------------------------------------------------

def test_a_retry_while_in_flight_is_not_proposed_again_and_runs_once():
    cluster = Cluster()
    cluster.elect()
    first = cluster.request(1)
    assert not cluster.request(1).sends                 # same (client, number): no new slot
    done = cluster.round_trip(first)
    assert cluster.log.entries == [("c1", 1)] and len(done.replies) == 1


def test_a_retry_after_execution_gets_the_stored_reply_without_a_slot():
    cluster = Cluster()
    cluster.elect()
    (original,) = cluster.round_trip(cluster.request(1)).replies
    retry = cluster.request(1)
    assert not retry.sends and retry.replies == [original]
    assert cluster.log.entries == [("c1", 1)]


def test_a_command_decided_in_two_slots_executes_once_and_both_get_the_same_reply():
    cluster = Cluster()
    effects = cluster.feed([Decision("r2", 1, batch(1)), Decision("r2", 2, batch(1, 2))])
    assert cluster.log.entries == [("c1", 1), ("c1", 2)]
    replies = effects.replies
    assert [r.number for r in replies] == [1, 1, 2] and replies[0] == replies[1]


def test_a_stale_command_number_is_rejected(monkeypatch):
    monkeypatch.setattr(client_table, "KEEP", 2)
    cluster = Cluster()
    cluster.elect()
    for n in (1, 2, 3):
        cluster.round_trip(cluster.request(n))             # the reply to 1 is dropped
    (reply,) = cluster.request(1).replies
    assert reply.status == REJECTED and "stale" in rejection_reason(reply)
    assert cluster.log.entries == [("c1", 1), ("c1", 2), ("c1", 3)]


def test_a_stale_command_decided_in_the_log_is_rejected_not_run(monkeypatch):
    monkeypatch.setattr(client_table, "KEEP", 1)
    cluster = Cluster()
    effects = cluster.feed([Decision("r2", 1, batch(1, 2)), Decision("r2", 2, batch(1))])
    assert cluster.log.entries == [("c1", 1), ("c1", 2)]
    assert effects.replies[-1].status == REJECTED


def test_a_request_whose_client_id_is_not_its_sender_is_rejected():
    cluster = Cluster()
    cluster.elect()
    effects = cluster.request(1, client="victim", src="c1")
    (reply,) = effects.replies
    assert reply.status == REJECTED and reply.client_id == "victim"
    assert not effects.sends and cluster.node.leader.proposer.next_slot == 1


class Guarded(AppendLog):
    def refusal(self, method):
        return None if method == "append" else f"no method {method}"


def test_a_method_the_object_refuses_is_rejected_without_taking_a_slot():
    cluster = Cluster(state_machine=Guarded())
    cluster.elect()
    effects = cluster.request(1, method="_private")
    (reply,) = effects.replies
    assert reply.status == REJECTED and rejection_reason(reply) == "no method _private"
    assert not effects.sends
    assert accepts(cluster.request(2)) == {1: Batch(cluster.now, (cmd(2),))}


def test_a_refused_method_is_rejected_even_by_a_follower():
    cluster = Cluster(state_machine=Guarded())
    (reply,) = cluster.request(1, method="__init__").replies
    assert reply.status == REJECTED


# ---- applying decisions ----------------------------------------------------------------------

def test_decisions_are_applied_only_in_slot_order():
    cluster = Cluster()
    early = cluster.feed([Decision("r2", 3, batch(3)), Decision("r2", 2, batch(2))])
    assert not early.replies and cluster.log.entries == [] and cluster.node.learner.slot_out == 1
    late = cluster.handle(Decision("r2", 1, batch(1)))
    assert cluster.log.entries == [("c1", 1), ("c1", 2), ("c1", 3)]
    assert [r.number for r in late.replies] == [1, 2, 3] and cluster.node.learner.slot_out == 4


def test_a_duplicate_decision_is_harmless():
    cluster = Cluster()
    cluster.handle(Decision("r2", 1, batch(1)))
    again = cluster.feed([Decision("r2", 1, batch(1)), Decision("r3", 1, batch(1))])
    assert not again and cluster.log.entries == [("c1", 1)]


def test_a_duplicate_buffered_decision_is_harmless():
    cluster = Cluster()
    cluster.feed([Decision("r2", 2, batch(2)), Decision("r2", 2, batch(2))])
    cluster.handle(Decision("r2", 1, batch(1)))
    assert cluster.log.entries == [("c1", 1), ("c1", 2)]


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "buffered"])
def test_a_conflicting_decision_for_a_decided_slot_is_an_assertion_error(applied):
    cluster = Cluster()
    slot = 1 if applied else 2
    cluster.handle(Decision("r2", slot, batch(1)))
    with pytest.raises(AssertionError):
        cluster.handle(Decision("r3", slot, batch(2)))


def test_noops_advance_the_log_without_touching_the_object():
    cluster = Cluster()
    effects = cluster.feed([Decision("r2", 1, NOOP), Decision("r2", 2, NOOP)])
    assert cluster.node.learner.slot_out == 3 and not effects.replies and cluster.log.entries == []


# ---- catch-up --------------------------------------------------------------------------------

def test_a_heartbeat_showing_a_higher_slot_out_makes_the_replica_ask_the_leader_on_tick():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.at(0.1).handle(Heartbeat("r2", Ballot(1, "r2"), 4, cluster.config))
    assert of_type(cluster.tick(0.15), CatchupRequest) == [("r2", CatchupRequest("r1", 1))]
    effects = cluster.handle(CatchupReply("r2", tuple((s, batch(s)) for s in (1, 2, 3))))
    assert cluster.node.learner.slot_out == 4 and len(effects.replies) == 3
    assert not of_type(cluster.tick(1.0), CatchupRequest)


def test_catch_up_is_not_requested_more_often_than_the_catchup_interval():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.at(0.1).handle(Heartbeat("r2", Ballot(1, "r2"), 4, cluster.config))
    assert of_type(cluster.tick(0.15), CatchupRequest)
    assert not of_type(cluster.tick(0.15 + TIMING.catchup_interval / 2), CatchupRequest)
    assert of_type(cluster.tick(0.15 + TIMING.catchup_interval), CatchupRequest)


def test_a_gap_in_the_decisions_makes_the_replica_ask_for_catch_up():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.handle(Decision("r2", 3, batch(3)))
    assert of_type(cluster.tick(0.1), CatchupRequest) == [("r2", CatchupRequest("r1", 1))]


def test_a_catchup_request_is_answered_with_the_decisions_from_that_slot():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.feed([Decision("r2", s, batch(s)) for s in (1, 2, 3)])
    effects = cluster.handle(CatchupRequest("r2", 2))
    assert effects.sends == [("r2", CatchupReply("r1", ((2, batch(2)), (3, batch(3)))))]
    assert not cluster.handle(CatchupRequest("r2", 7)).sends


def test_a_catchup_reply_overlapping_known_decisions_is_harmless():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.handle(Decision("r2", 1, batch(1)))
    cluster.handle(CatchupReply("r2", tuple((s, batch(s)) for s in (1, 2))))
    assert cluster.log.entries == [("c1", 1), ("c1", 2)]


# ---- shuffled delivery -----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(20))
def test_lost_duplicated_reordered_messages_keep_the_window_and_run_commands_once(seed):
    rng = random.Random(seed)
    cluster = Cluster()
    cluster.elect()
    queue, submitted, now = [], 0, cluster.now

    def post(effects):
        queue.extend((d, m) for d, m in effects.sends if d in cluster.acceptors)

    while submitted < 40 or queue:          # requests, and messages lost/doubled/reordered
        now += 0.001
        cluster.at(now)
        if submitted < 40 and (not queue or rng.random() < 0.3):
            submitted += 1
            post(cluster.request(submitted))
            if rng.random() < 0.2:
                post(cluster.request(rng.randint(1, submitted)))     # a client retry
        if queue:
            dest, msg = queue.pop(rng.randrange(len(queue)))
            fate = rng.random()
            if fate < 0.1:
                continue                                        # lost
            if fate < 0.2:
                queue.append((dest, msg))                       # delivered twice
            answers = cluster.acceptors[dest].handle(msg, now).sends
            post(cluster.feed(m for _, m in answers))
        cluster.node.check_invariants()
    for _ in range(50):                                          # retransmits finish the rest
        now += TIMING.retransmit_interval
        post(cluster.tick(now))
        while queue:
            dest, msg = queue.pop(0)
            post(cluster.feed(m for _, m in cluster.acceptors[dest].handle(msg, now).sends))
    assert sorted(cluster.log.entries) == [("c1", n) for n in range(1, 41)]
    assert len(cluster.log.entries) == len(set(cluster.log.entries))
    assert not cluster.node.learner.has_gap() and not cluster.node.leader.batcher.in_flight


def test_consensus_messages_from_strangers_are_ignored():
    """A Decision or a high-ballot Heartbeat from a node outside every configuration must not
    change what this replica applies or whom it follows."""
    cluster = Cluster()
    cluster.handle(Decision("mallory", 1, batch(1)))
    assert cluster.node.learner.slot_out == 1
    cluster.handle(Heartbeat("mallory", Ballot(10**9, "mallory"), 5, cluster.config))
    assert cluster.node.leader.leader_id != "mallory"


def test_a_candidate_follows_an_active_leader_with_a_lower_ballot():
    """r1 campaigned for round 1 and lost the race to r0, whose ballot (1, r0) is below its own
    (1, r1): no acceptor will promise r1 while r0 renews its lease, so r1 must follow r0 rather
    than campaign forever (found by the nemesis whole-restart test)."""
    cluster = Cluster(replicas=("r0", "r1"))
    cluster.tick(2 * ELECTION)                           # r1 campaigns; its Prepares are lost
    assert cluster.node.leader.state == CANDIDATE
    assert cluster.node.leader.ballot == Ballot(1, "r1", 0)
    cluster.handle(Heartbeat("r0", Ballot(1, "r0", 0), 1, cluster.config, cluster.now, 0.25))
    assert cluster.node.leader.state == FOLLOWER
    assert cluster.node.leader.leader_id == "r0"


def test_an_active_leader_ignores_heartbeats_of_a_lower_ballot():
    cluster = Cluster(replicas=("r1", "r2"))
    cluster.elect()
    cluster.handle(Heartbeat("r2", Ballot(0, "r2", 0), 1, cluster.config, cluster.now, 0.25))
    assert cluster.node.leader.state == ACTIVE and cluster.node.leader.leader_id == "r1"
