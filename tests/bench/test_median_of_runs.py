"""--runs N: the median of each figure over the runs (no processes: plain dicts)."""

from concoord.bench.report import compare
from concoord.bench.workloads import median_of_runs


def run(ops, p50, kill, sweep):
    return {"results": {"W1": {"ops_per_second": ops, "p50_ms": p50},
                        "W5": {"kill": {"trials": [kill]}, "stop": {"trials": [1.0]}}},
            "sweep": [(1, sweep)], "cdfs": {"W1": [p50]}, "skipped": {}}


def test_medians_of_each_figure_pooled_failover_trials_and_the_last_cdfs():
    merged = median_of_runs([run(100, 3.0, 0.3, 10), run(300, 1.0, 0.5, 30),
                             run(200, 2.0, 0.4, 20)])
    assert merged["results"]["W1"] == {"ops_per_second": 200, "p50_ms": 2.0}
    assert merged["results"]["W5"]["kill"]["trials"] == [0.3, 0.4, 0.5]
    assert merged["results"]["W5"]["kill"]["median_s"] == 0.4
    assert merged["sweep"] == [(1, 20)] and merged["cdfs"] == {"W1": [2.0]}


def test_the_ratio_is_of_the_medians():
    ours = median_of_runs([run(100, 2.0, 0.3, 1), run(300, 1.0, 0.3, 1), run(200, 4.0, 0.3, 1)])
    theirs = median_of_runs([run(50, 4.0, 0.3, 1), run(100, 4.0, 0.3, 1),
                             run(400, 8.0, 0.3, 1)])
    theirs.update(system="etcd", version="3.4.23", members=3)
    ratio = compare(ours, theirs)["workloads"]["W1"]["ratio"]
    assert ratio == {"ops_per_second": 2.0, "p50_ms": 0.5}
