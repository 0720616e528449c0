"""InstanceWatcher without a network: events derived from successive status polls."""

from concoord.errors import ConnectionError
from concoord.ops.dashboard import InstanceWatcher


def view(leader, round_, replicas, acceptors, down=(), rate=5.0):
    nodes = [{"address": a, "role": "replica", "alive": a not in down} for a in replicas]
    nodes += [{"address": a, "role": "acceptor", "alive": a not in down} for a in acceptors]
    return {"leader": leader, "ballot": [round_, leader or "", 1], "replicas": list(replicas),
            "acceptors": list(acceptors), "nameservers": [], "nodes": nodes,
            "commands_per_second": rate}


class Script:
    """Answers each poll with the next view (or raises it, if it is an exception); records
    the bootstrap list each poll was given."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def __call__(self, bootstrap):
        self.asked.append(list(bootstrap))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_elections_membership_and_liveness_become_events():
    r, a = ["r1", "r2", "r3"], ["a1", "a2", "a3"]
    script = Script(view("r1", 1, r, a), view("r1", 1, r, a, down=["r1"]),
                    view("r2", 2, r, a, down=["r1"]), view("r2", 2, ["r2", "r3"], a + ["a4"]),
                    view("r2", 3, ["r2", "r3"], a + ["a4"]))
    clock = iter(range(100, 200))
    watcher = InstanceWatcher(["r1"], query=script, round_trip=lambda leader: 0.0015,
                              clock=lambda: next(clock))
    for _ in range(5):
        watcher.poll_once()
    texts = [(e["kind"], e["text"]) for e in watcher.snapshot()["events"]]
    assert texts == [
        ("start", "watching; leader r1 ballot round 1"),
        ("down", "replica r1 stopped answering"),
        ("election", "leader r1 -> r2 (ballot round 2)"),
        ("view", "replica r1 left the view"),   # removed from the view: no longer probed
        ("view", "acceptor a4 joined the view"),
        ("election", "leader r2 re-elected (ballot round 3)"),
    ]
    assert [t for t, _ in watcher.snapshot()["throughput"]] == [100, 101, 102, 103, 104]
    assert watcher.snapshot()["latency"][-1] == (104, 1.5)


def test_a_failed_poll_is_shown_and_every_known_replica_is_asked_next():
    script = Script(view("r1", 1, ["r1", "r2"], ["a1"]), ConnectionError("no status"),
                    view("r2", 2, ["r2"], ["a1"]))
    watcher = InstanceWatcher(["r1"], query=script, round_trip=lambda leader: None)
    watcher.poll_once()
    watcher.poll_once()
    assert watcher.snapshot()["error"] == "no status"
    assert watcher.snapshot()["view"]["leader"] == "r1"     # the last view is kept
    watcher.poll_once()
    assert script.asked[1] == ["r1", "r2"]
    assert watcher.snapshot()["error"] is None
