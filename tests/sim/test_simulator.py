"""Whole-cluster deterministic simulation: safety after every step, liveness after healing.

The CI budget is SIM_SEEDS seeds (default 200) x SIM_STEPS steps (default 5000) for 3 and for 5
acceptors; `make sim SEEDS=10000` runs more through tests/sim/run.py.
"""

import os

import pytest

from tests.sim.broken import FirstPValueLeader
from tests.sim.cluster import Violation, run

SEEDS = int(os.environ.get("SIM_SEEDS", "200"))
STEPS = int(os.environ.get("SIM_STEPS", "5000"))


@pytest.mark.parametrize("acceptors", [3, 5])
def test_seeded_schedules_keep_every_invariant(acceptors):
    decided = 0
    for seed in range(SEEDS):
        cluster = run(seed, STEPS, acceptors)
        decided += len(cluster.decided)
    assert decided > SEEDS * 10, "the simulated clusters made almost no progress"


def test_the_same_seed_replays_the_same_history():
    first, second = run(7, 2000), run(7, 2000)
    assert first.decided == second.decided and first.now == second.now


def test_a_leader_that_ignores_ballots_in_recovery_is_caught():
    """Injected bug: the leader keeps the first pvalue reported per slot, not the highest-ballot
    one. Some seed within the CI budget must expose it as a safety violation."""
    caught = []
    for seed in range(SEEDS):
        for acceptors in (3, 5):
            try:
                run(seed, STEPS, acceptors, leader_class=FirstPValueLeader)
            except Violation as exc:
                caught.append(str(exc))
        if caught:
            break
    assert caught, "the simulator missed the injected recovery bug"
    assert "reproduce: python -m tests.sim.run --seed" in caught[0]
