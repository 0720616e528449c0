"""Whole-cluster deterministic simulation: safety after every step, liveness after healing.

The CI budget is SIM_SEEDS seeds (default 200) x SIM_STEPS steps (default 5000) for 3 and for 5
acceptors; `make sim SEEDS=10000` runs more through tests/sim/run.py.
"""

import os

import pytest

from tests.sim.broken import FirstPValueLeader, ForgetfulGcLeader
from tests.sim.cluster import Violation, run

SEEDS = int(os.environ.get("SIM_SEEDS", "200"))
STEPS = int(os.environ.get("SIM_STEPS", "5000"))
# Injected bugs are looked for until the first seed that exposes one (most runs end early).
BUG_HUNT_SEEDS = max(SEEDS, 1000)


def first_violation(leader_class):
    for seed in range(BUG_HUNT_SEEDS):
        for acceptors in (3, 5):
            try:
                run(seed, STEPS, acceptors, leader_class=leader_class)
            except Violation as exc:
                return str(exc)
    return None


@pytest.mark.parametrize("acceptors", [3, 5])
def test_seeded_schedules_keep_every_invariant(acceptors):
    decided = 0
    for seed in range(SEEDS):
        cluster = run(seed, STEPS, acceptors)
        decided += len(cluster.decided)
    assert decided > SEEDS * 10, "the simulated clusters made almost no progress"


# Seeds beyond the CI budget on which `python -m tests.sim.run` once found a bug: each runs
# here for good (the fix's own test is named beside it).
FOUND_SEEDS = [
    (2303, 3),   # a replica ignored the live leader for ever behind its own ended leadership
                 # (test_a_replica_whose_own_leadership_ended_follows_a_live_lower_ballot)
    (3655, 3),   # a leader that installed a snapshot stopped proposing
                 # (test_a_leader_that_installs_a_snapshot_goes_on_proposing)
    (5950, 3),   # the checker held an acceptor removed, wiped and legitimately let back in
                 # to what it had said as the old member (a false alarm, fixed in the checker)
    (2770, 3),   # a watcher whose replica crashed and restarted heard the restarted replica's
                 # in-flight notifications after losing one to the crash: a gap no TCP
                 # connection shows (a false alarm: a crash now closes the watch connection)
    (395, 3),    # a leader behind won an older acceptor set and its Accept there raised the
                 # promise of an acceptor leased to the live leader in the newer set: a
                 # stale lease read was possible (found once blackouts were drawn; test:
                 # test_a_leased_acceptor_accepts_no_higher_ballot_until_the_lease_ends)
    (963, 3),    # a leader behind won an older acceptor set, then could not win the newer one
                 # leased to the live leader and ignored that leader's heartbeats for ever
                 # (test_a_leader_still_winning_a_newer_acceptor_set_follows_the_live_leader_there)
    (5087, 3),   # an idle leader never ran phase 1 on a newer acceptor set of its window that
                 # had decided a slot past undecided ones: every replica stopped short of it
                 # (test_a_leader_runs_phase_1_on_every_acceptor_set_of_its_window_without_...)
    (3771, 3),   # the simulated operator shrank the acceptor set to two with one member wiped,
    (12714, 3),  # from a stale view, alone or by a burst whose join was refused (a false
                 # alarm beyond the fault model: Cluster._may_remove now refuses it)
]


@pytest.mark.parametrize("seed, acceptors", FOUND_SEEDS)
def test_seeds_that_once_found_a_bug(seed, acceptors):
    run(seed, STEPS, acceptors)


def test_the_same_seed_replays_the_same_history():
    first, second = run(7, 2000), run(7, 2000)
    assert first.decided == second.decided and first.now == second.now


def test_a_leader_that_ignores_ballots_in_recovery_is_caught():
    """Injected bug: the leader keeps the first pvalue reported per slot, not the highest-ballot
    one: a safety violation, with the line that replays it. The pmax assertion in phases.Scout
    catches it first (seed 2); with asserts off (python -O) the agreement check does (seed 54)."""
    caught = first_violation(FirstPValueLeader)
    assert caught, "the simulator missed the injected recovery bug"
    assert "reproduce: python -m tests.sim.run --seed" in caught


def test_a_new_leader_that_collects_garbage_too_early_is_caught():
    """Injected bug (issue 13, bug 1): a new leader ignores replicas that have not reported to
    it yet when it tells acceptors what to forget; with replicas that restart empty and f of
    f+1 of them down, acknowledged commands are lost."""
    assert first_violation(ForgetfulGcLeader), "the simulator missed the injected GC bug"


def test_a_watch_that_hides_compacted_changes_is_caught(monkeypatch):
    """Injected bug (issue 16): a watch registering again after a failover or a lost
    connection is never told that changes may have been skipped: a watcher's values jump."""
    from concoord.host.applier import Applier
    monkeypatch.setattr(Applier, "_missed_since", lambda self, slot, index: False)
    caught = first_violation(None)
    assert caught and "watch:" in caught, caught
