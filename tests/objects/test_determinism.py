"""A user object that reads the clock and draws random numbers stays identical on every replica:
`concoord object` rewrites those calls in the .pyfixed that the replicas run."""

import json
import time

import pytest

from tests.integration.harness import wait_until

pytestmark = pytest.mark.timeout(120)

NOISY = '''\
import random
import time
import uuid
from datetime import datetime


class Noisy:
    def __init__(self):
        self.events = []
        self.total = 0.0

    def record(self, label):
        event = (label, time.time(), random.random(), random.randint(1, 6),
                 str(uuid.uuid4()), datetime.now().isoformat())
        self.events.append(event)
        self.total += event[2]
        return event

    def shuffled(self, items):
        random.shuffle(items)
        return items

    def __str__(self):
        last = self.events[-1] if self.events else None
        return f"n={len(self.events)} total={self.total!r} last={last!r}"
'''

CLIENT = """
import json
from noisyproxy import Noisy
noisy = Noisy(BOOTSTRAP)
events = [noisy.record("e%d" % i) for i in range(30)]
print(json.dumps({"events": events, "shuffled": noisy.shuffled(list(range(10)))}))
"""


def test_clock_and_random_calls_agree_on_every_replica(harness):
    (harness.workdir / "noisy.py").write_text(NOISY)
    result = harness.concoord("object", "-f", "noisy.py", "-c", "Noisy", "-s")
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    assert "noisy.py:13: time.time() -> replicated leader time" in printed
    assert any(line.startswith("noisy.py:13: random.random() ->") for line in printed)
    assert any(line.startswith("noisy.py:20: random.shuffle() ->") for line in printed)
    fixed = (harness.workdir / "noisy.pyfixed").read_text()
    assert "determinism.time()" in fixed and "determinism.rng().random()" in fixed
    # The README's renames: the replicas run the server-side copy as noisy.py.
    (harness.workdir / "noisy.pyfixed").replace(harness.workdir / "noisy.py")
    (harness.workdir / "noisy.pyproxy").replace(harness.workdir / "noisyproxy.py")

    replicas, _ = harness.start_cluster(3, 3, object_file="noisy.py", class_name="Noisy")
    out = json.loads(harness.run_client(CLIENT, bootstrap=replicas).stdout)
    stamps = [event[1] for event in out["events"]]
    assert all(abs(stamp - time.time()) < 120 for stamp in stamps), "not the leader's clock"
    assert len({event[2] for event in out["events"]}) == 30, "random values repeat"
    assert sorted(out["shuffled"]) == list(range(10))

    def same_state():
        statuses = [r.status(timeout=1.0) for r in replicas]
        if len({s["slot_out"] for s in statuses}) != 1:
            return None
        return [s["object"] for s in statuses]
    described = wait_until(same_state, 30, message="the replicas to reach the same slot")
    assert described[0].startswith("n=30 ")
    assert described == [described[0]] * 3
