"""The leader's parts on their own (election.py, scouting.py, proposing.py): the rules each keeps,
and the invariants each asserts."""

import pytest

from concoord.protocol.config import ConfigHistory
from concoord.protocol.effects import Effects
from concoord.protocol.election import ACTIVE, CANDIDATE, FOLLOWER, Election
from concoord.protocol.learner import Learner
from concoord.protocol.phases import Scout
from concoord.protocol.progress import ReplicaProgress
from concoord.protocol.proposing import Proposer
from concoord.protocol.scouting import Scouting
from concoord.protocol.timing import Timing
from concoord.wire.messages import Accept, Accepted, Decision, Heartbeat, Prepare, Promise
from concoord.wire.types import NOOP, Ballot, Batch, Command, Configuration, PValue

CONFIG = Configuration(("r0", "r1", "r2"), ("a0", "a1", "a2"))
ACCEPTORS = CONFIG.acceptors
TIMING = Timing()
OURS = Ballot(5, "r0")


def batch(name):
    return Batch(1.0, (Command(name, 1, "m", b""),))


def heartbeat(src, ballot):
    return Heartbeat(src, ballot, 1, CONFIG, 0.0, 0.0)


# ---- election ------------------------------------------------------------------------------

def election(node_id="r0"):
    return Election(node_id, 0, ConfigHistory(CONFIG), TIMING, 0.0)


def test_a_new_ballot_is_above_every_ballot_seen():
    vote = election()
    vote.saw(Ballot(7, "r2"))
    assert vote.new_ballot(1.0) == Ballot(8, "r0") and vote.state == CANDIDATE
    assert vote.new_ballot(2.0) == Ballot(9, "r0"), "and above its own last one"


def test_followers_campaign_in_rank_order_after_the_silent_leader():
    ranks = {}
    for node_id in CONFIG.replicas:
        vote = election(node_id)
        vote.follow(heartbeat("r1", Ballot(1, "r1")), now=0.0)
        ranks[node_id] = vote.rank()
    assert ranks == {"r2": 0, "r0": 1, "r1": 2}
    first, second = election("r2"), election("r0")
    for vote in (first, second):
        vote.follow(heartbeat("r1", Ballot(1, "r1")), now=0.0)
    later = TIMING.election_timeout * 1.5
    assert first.campaign_due(later) and not second.campaign_due(later)


def test_only_a_ballot_that_became_active_is_followed():
    vote = election()
    vote.saw(Ballot(9, "r2"))                  # seen in a Promise: it may never have won
    assert vote.leader_id is None and vote.leader_ballot < Ballot(9, "r2")
    vote.follow(heartbeat("r1", Ballot(3, "r1")), now=1.0)
    assert vote.leader_id == "r1" and vote.last_heard == 1.0
    assert vote.ignores(heartbeat("r2", Ballot(2, "r2")), now=1.0, won_every_set=True), \
        "below the active ballot it follows"


def test_a_replica_whose_own_leadership_ended_follows_a_live_lower_ballot():
    """Bug (the simulator, seed 2303): r0, cut off, led briefly with ballot 3 on acceptors the
    view had already replaced, stepped down and campaigned again; r2 led with ballot 2 on the
    current acceptors, which refused r0 for r2's lease. r0 ignored r2's heartbeats for ever
    (below ballot 3, the highest it knew active: its own, which led no one any more)."""
    vote = election("r0")
    vote.new_ballot(0.0)
    vote.won()
    vote.step_down(1.0)
    vote.new_ballot(1.5)
    assert not vote.ignores(heartbeat("r2", Ballot(2, "r2")), now=1.6, won_every_set=True)
    vote.follow(heartbeat("r2", Ballot(2, "r2")), now=1.6)
    assert vote.leader_id == "r2"
    assert not vote.ignores(heartbeat("r2", Ballot(2, "r2")), now=1.7, won_every_set=True), \
        "it keeps following"


def test_an_active_leader_ignores_a_lower_ballot_only_once_it_won_every_set_it_needs():
    vote = election("r0")
    vote.new_ballot(0.0)
    vote.won()
    lower = heartbeat("r2", Ballot(0, "r2"))
    assert vote.ignores(lower, now=0.1, won_every_set=True)
    assert not vote.ignores(lower, now=0.1, won_every_set=False), \
        "still in phase 1 on a set another leader's lease holds: that leader is the live one"


def test_a_lower_ballot_is_ignored_only_while_the_higher_leader_is_heard():
    vote = election("r0")
    vote.follow(heartbeat("r1", Ballot(3, "r1")), now=1.0)
    heard = 1.0 + TIMING.election_timeout / 2
    assert vote.ignores(heartbeat("r2", Ballot(2, "r2")), now=heard, won_every_set=True)
    silent = 1.0 + TIMING.election_timeout * 1.1
    assert not vote.ignores(heartbeat("r2", Ballot(2, "r2")), now=silent, won_every_set=True)


def test_winning_needs_a_campaign_and_makes_its_ballot_the_active_one():
    vote = election()
    with pytest.raises(AssertionError):
        vote.won()
    ballot = vote.new_ballot(0.0)
    vote.won()
    assert (vote.state, vote.leader_id, vote.leader_ballot) == (ACTIVE, "r0", ballot)
    vote.step_down(1.0)
    assert vote.state == FOLLOWER and vote.leader_ballot == ballot, "ballots never go down"
    vote.check_invariants()


# ---- scouting (phase 1) ----------------------------------------------------------------------

def promise(src, accepted=(), ballot=OURS, from_slot=1):
    return Promise(src, ballot, from_slot, tuple(accepted))


def test_phase_1_adopts_per_slot_the_highest_ballot_value_a_quorum_reported():
    scouting = Scouting("r0", OURS)
    effects = Effects()
    scouting.ensure(ACCEPTORS, 1, 0.0, effects)
    assert effects.sends == [(a, Prepare("r0", OURS, 1)) for a in ACCEPTORS]
    scouting.on_promise(promise("a0", [PValue(Ballot(2, "r1"), 3, batch("new"))]), Effects())
    scouting.on_promise(promise("a0"), Effects())                         # a duplicate counts once
    scouting.on_promise(promise("x9", [PValue(Ballot(4, "r2"), 3, batch("x"))]), Effects())  # a stranger
    assert not scouting.done
    scouting.on_promise(promise("a1", [PValue(Ballot(1, "r2"), 3, batch("old"))]), Effects())
    assert scouting.done and scouting.won(ACCEPTORS)
    assert scouting.recovered(ACCEPTORS, 3).batch == batch("new")
    assert scouting.recovered(ACCEPTORS, 2) is None and scouting.constrained_up_to == 3


def test_a_scout_that_keeps_a_lower_ballot_value_trips_the_pmax_assertion():
    class FirstValueScout(Scout):
        def merge(self, pvalue):
            self.pvalues.setdefault(pvalue.slot, pvalue)

    scout = FirstValueScout(OURS, ACCEPTORS, 1, 0.0)
    scout.on_promise("a0", [PValue(Ballot(1, "r1"), 3, batch("old"))])
    with pytest.raises(AssertionError, match="pmax"):
        scout.on_promise("a1", [PValue(Ballot(2, "r2"), 3, batch("new"))])


def test_an_acceptor_reporting_a_value_above_the_ballot_it_promised_trips_an_assertion():
    scouting = Scouting("r0", OURS)
    scouting.ensure(ACCEPTORS, 1, 0.0, Effects())
    scouting.on_promise(promise("a0", [PValue(Ballot(6, "r1"), 2, batch("x"))]), Effects())
    with pytest.raises(AssertionError, match="above the ballot"):
        scouting.on_promise(promise("a1"), Effects())


# ---- proposing (phase 2) ---------------------------------------------------------------------

def proposer(reported=()):
    """A Proposer under OURS, phase 1 won on ACCEPTORS with ``reported`` pvalues."""
    learner = Learner("r0", ConfigHistory(CONFIG, window=4))
    scouting = Scouting("r0", OURS)
    scouting.ensure(ACCEPTORS, 1, 0.0, Effects())
    scouting.on_promise(promise("a0", reported), Effects())
    scouting.on_promise(promise("a1"), Effects())
    proposing = Proposer("r0", learner, ReplicaProgress(TIMING))
    proposing.start(scouting)
    return proposing


def proposed(effects):
    return {msg.slot: msg.batch for _, msg in effects.sends if isinstance(msg, Accept)}


def test_it_proposes_the_recovered_value_a_noop_below_it_and_new_commands_after():
    proposing = proposer([PValue(Ballot(2, "r1"), 2, batch("recovered"))])
    proposing.batcher.depth = 4            # new commands need not wait for slots 1 and 2
    proposing.batcher.add(batch("client").commands[0])
    effects = Effects()
    proposing.propose_more(0.0, 7.0, effects)
    assert proposed(effects) == {1: NOOP, 2: batch("recovered"),
                                 3: Batch(7.0, batch("client").commands)}
    assert proposing.next_slot == 4, "slot 4 waits for commands"
    proposing.check_invariants()


def test_it_never_proposes_past_the_window():
    proposing = proposer()
    proposing.pad_until = 100              # no-ops wanted far ahead
    effects = Effects()
    proposing.propose_more(0.0, 0.0, effects)
    assert sorted(proposed(effects)) == [1, 2, 3, 4], "window 4 from slot_out 1"


def test_a_slot_whose_acceptor_set_has_not_adopted_the_ballot_waits_for_phase_1():
    proposing = proposer()
    newer = Configuration(CONFIG.replicas, ("a1", "a2", "a3"))
    proposing.configs.schedule(-1, newer)     # governs from slot 3 (window 4)
    proposing.pad_until = 100
    effects = Effects()
    proposing.propose_more(0.0, 0.0, effects)
    assert sorted(proposed(effects)) == [1, 2]
    assert [(dest, msg) for dest, msg in effects.sends if isinstance(msg, Prepare)] == \
        [(a, Prepare("r0", OURS, 3)) for a in newer.acceptors]
    with pytest.raises(AssertionError, match="adopted"):
        proposing._command(3, NOOP, newer.acceptors, 0.0, Effects())


def test_a_quorum_of_accepted_decides_the_slot_once_and_tells_the_other_replicas():
    proposing = proposer()
    proposing.batcher.add(batch("client").commands[0])
    proposing.propose_more(0.0, 1.0, Effects())
    commander = proposing.commander_for(Accepted("a0", OURS, 1))
    effects = Effects()
    assert proposing.on_accepted(commander, "a0", effects) is None
    assert proposing.commander_for(Accepted("a1", Ballot(4, "r1"), 1)) is None, "another ballot"
    assert proposing.on_accepted(commander, "a1", effects) == (1, batch("client")._replace(
        time=1.0))
    assert effects.sends == [(r, Decision("r0", 1, commander.batch)) for r in ("r1", "r2")]
    assert proposing.commander_for(Accepted("a2", OURS, 1)) is None, "decided: no more counting"
