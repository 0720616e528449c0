"""The simulator's newer faults, each with the injected bug it must catch by itself (issue 13:
a test suite is only as good as the faults it can inject).

- lone_candidate: a candidate reaches one acceptor and dies; another follower hears of its
  ballot. Catches a follower that follows a ballot that never became active (bug 4).
- reconfigure_burst: several acceptor changes inside one WINDOW, often with a follower that
  missed the burst and, while the leader proposes the removals, a partition that forms one
  direction first (split_from_leader): the acceptors cut off, a quorum of every set but the
  newest, answer the leader late, after their leases ran out. With a check of every lease
  read against the acceptors' own leases, catches a lease checked against the latest
  configuration only (bug 2).
- amnesia: an acceptor's disk is wiped and it asks to join again under its old id. Catches an
  instance that lets it in, and a wiped acceptor that serves before the answer.
- power_loss: a durable acceptor loses what it wrote but did not fsync. Catches a driver that
  sends before persisting (the contract in concoord/protocol/effects.py). With data
  directories, a replica, or the whole instance (blackout), loses a snapshot renamed into
  place but not synced; with a check that acceptors forget only slots some replica has in a
  synced snapshot, catches a replica that reports a snapshot durable before its rename is.
- big_values: 1 MiB batches, catch-up replies of many of them and calls at the frame limit,
  every message sized as the codec frames it. Catches catch-up replies bounded by slots only.

Each hunt stops at the first seed that shows the bug; the seeds listed are where it is found
today (any change to the simulator's draws moves them, so the hunts look a little further).
"""

import pytest

from tests.sim.broken import (AnyBallotFollowerLeader, LatestConfigLeaseLeader,
                              admit_amnesiac_acceptors)
from tests.sim.cluster import Violation, run

STEPS = 5000


def first_violation(seeds, **options):
    for seed in range(seeds):
        for acceptors in (3, 5):
            try:
                run(seed, STEPS, acceptors, **options)
            except Violation as exc:
                return str(exc)
    return None


def test_a_follower_of_a_ballot_that_never_became_active_is_caught():
    """Injected bug (issue 13, bug 4): a higher ballot seen in a Promise or Accepted makes a
    follower follow it; its candidate reached one acceptor and died, so the follower drops
    the live leader's heartbeats and sends clients to a dead node."""
    caught = first_violation(10, leader_class=AnyBallotFollowerLeader)
    assert caught and ("never became active" in caught or "ignored the heartbeats" in caught), \
        caught


def test_a_lease_from_the_newest_acceptor_set_only_is_caught():
    """Injected bug (issue 13, bug 2): the read lease is checked against, and renewed from,
    the newest acceptor set only. Two removals are in flight when the acceptors leaving and a
    minority of the new set are cut off from the leader; they accepted the removals but their
    answers arrive after their leases ran out, and the leader serves a read while they are a
    quorum of an older set that still governs its next slot. A plain run finds it: one seed
    in four draws from the burst-heavy mix (cluster.fault_kinds_for). (Found at seed 59 with 5
    acceptors: 1 of the first 400 runs; with the burst-heavy mix alone, 5 of 200.)"""
    caught = first_violation(60, leader_class=LatestConfigLeaseLeader)
    assert caught and "served a lease read while" in caught, caught


def test_an_acceptor_let_back_in_after_its_disk_was_wiped_is_caught(monkeypatch):
    """Injected bug (issue 13, acceptor amnesia): an acceptor that lost its disk joins again
    under a member's id and is let in; it answers without the promises it made."""
    admit_amnesiac_acceptors(monkeypatch)
    caught = first_violation(10)
    assert caught and "it forgot" in caught, caught


def test_a_wiped_acceptor_that_serves_while_its_join_is_pending_is_caught():
    """Injected bug (the launcher before the fix): an acceptor restarted without its data on
    a member's address serves at once, and is refused only when its join is answered; until
    then it answers as that member with none of its promises."""
    caught = first_violation(10, serves_before_admitted=True)
    assert caught and "it forgot" in caught, caught


def test_a_driver_that_sends_before_its_write_is_durable_is_caught():
    """Injected bug (effects.py's contract broken): an acceptor's answers leave before its
    records are on disk, and a power loss takes the records. (Found at seed 7 with 3
    acceptors.)"""
    caught = first_violation(30, sends_before_fsync=True)
    assert caught and "it forgot" in caught, caught


def test_a_replica_that_reports_a_snapshot_before_its_rename_is_synced_is_caught():
    """Injected bug (the snapshot store without its directory fsync): a replica reports a
    snapshot durable once renamed into place; acceptors forget the slots it holds while a
    power loss of the whole instance would bring every replica back to an older one.
    (Found at seed 0 with 5 acceptors, by the check, as soon as acceptors forget such slots;
    without it, no blackout of the first 400 runs fell in such a window.)"""
    caught = first_violation(10, reports_unsynced_snapshots=True)
    assert caught and "no replica has a synced snapshot" in caught, caught


def test_catchup_replies_bounded_by_slots_only_are_caught(monkeypatch):
    """Injected bug (issue 13, bug 3's second half): catch-up replies bounded by slots and
    commands but not bytes; with 1 MiB batches a reply exceeds the frame limit, is never
    sent, and the lagging replica asks forever. (Found at seed 9 with 3 acceptors: since
    calls at the frame limit are refused it takes many large batches behind one replica.)"""
    from concoord.protocol import learner
    monkeypatch.setattr(learner, "MAX_CATCHUP_BYTES", 1 << 40)
    caught = first_violation(60, big_values=True)
    assert caught and "never applied every decided slot" in caught, caught


@pytest.mark.parametrize("acceptors", [3, 5])
def test_large_values_keep_every_invariant(acceptors):
    """The correct code with large values: batches of up to 1 MiB, catch-up replies of many of
    them, a few calls at the frame limit."""
    for seed in range(10):
        run(seed, STEPS, acceptors, big_values=True)


def test_every_new_fault_is_drawn():
    """Within a few dozen runs (split_from_leader and blackout are the rarest: a burst that
    reaches its removals, a power loss of the whole instance in a run with data directories)."""
    from collections import Counter
    kinds = ("reconfigure_burst", "split_from_leader", "lone_candidate", "amnesia",
             "power_loss", "blackout")
    mix = Counter()
    for seed in range(60):      # (all drawn by seed 32)
        mix.update(run(seed, STEPS, 3).fault_mix)
        if all(mix[kind] for kind in kinds):
            break
    for kind in kinds:
        assert mix[kind] > 0, mix


def test_clocks_drifting_past_the_documented_bound_break_the_lease():
    """The lease's clock assumption (README, fault model: clock rates within 10% of each
    other; every other run draws rates within +-4%): with rates up to 60% apart, a leader
    whose clock runs slow counts its lease past the acceptors' and serves a read while they
    may promise another ballot. (Found at seed 9 with 5 acceptors: 1 of the first 20 runs;
    14 of the first 600.)"""
    caught = first_violation(10, clock_skew=0.6)
    assert caught and "served a lease read while" in caught, caught
