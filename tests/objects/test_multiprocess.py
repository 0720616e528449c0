"""The library objects coordinating real client processes, as the issue's "done when" asks.

Each test starts its own cluster (the object's file served by `concoord replica`) and several
client processes using the checked-in proxies (``from concoord.proxy.lock import Lock``); the
processes check what they can themselves and print what they saw as JSON.
"""

import json
import select
import time

import pytest

from concoord.proxy.barrier import Barrier
from concoord.proxy.queue import Queue
from concoord.proxy.semaphore import Semaphore
from tests.objects.conftest import CLASS_NAMES, object_path

pytestmark = pytest.mark.timeout(120)

LEASE = 2.0

LOCKED_INCREMENTS = """
import json, time
from concoord.proxy.lock import Lock
lock = Lock(BOOTSTRAP, session_lease={lease})
tokens, first_grant = [], None
for _ in range({n}):
    with lock as token:
        first_grant = first_grant or time.time()
        with open({path!r}) as stream:
            value = int(stream.read())
        with open({path!r}, "w") as stream:
            stream.write(str(value + 1))
        tokens.append(token)
print(json.dumps({{"tokens": tokens, "first_grant": first_grant}}))
"""

HOLD_FOREVER = """
import time
from concoord.proxy.lock import Lock
lock = Lock(BOOTSTRAP, session_lease={lease})
print("holding", lock.acquire(), flush=True)
time.sleep(600)
"""


def _start(harness, module):
    replicas, _ = harness.start_cluster(1, 1, object_file=object_path(module),
                                        class_name=CLASS_NAMES[module])
    return replicas[0].address


def _results(procs, timeout=90):
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"client failed ({proc.returncode}):\n{out}\n{err}"
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return outputs


def with_proxy(proxy, use):
    """Use a proxy once and close it (a proxy with __enter__ forwards ``with`` to the object)."""
    try:
        return use(proxy)
    finally:
        proxy.close()


def _counter_file(harness):
    path = harness.workdir / "counter.txt"
    path.write_text("0")
    return path


def test_five_processes_increment_a_file_under_the_lock(harness):
    boot = _start(harness, "lock")
    path = _counter_file(harness)
    code = LOCKED_INCREMENTS.format(lease=LEASE, n=200, path=str(path))
    results = _results([harness.start_client(code, boot) for _ in range(5)])
    assert path.read_text() == "1000"
    every = []
    for result in results:
        tokens = result["tokens"]
        assert all(a < b for a, b in zip(tokens, tokens[1:])), "tokens went backwards"
        every.extend(tokens)
    # Every grant got its own token, and a fresh lock grants them from 1 on.
    assert sorted(every) == list(range(1, 1001))


def test_a_holder_killed_with_sigkill_loses_the_lock_when_its_lease_runs_out(harness):
    boot = _start(harness, "lock")
    path = _counter_file(harness)
    victim = harness.start_client(HOLD_FOREVER.format(lease=LEASE), boot)
    ready, _, _ = select.select([victim.stdout], [], [], 30)
    assert ready, "the victim never took the lock"
    victim_token = int(victim.stdout.readline().split()[1])
    code = LOCKED_INCREMENTS.format(lease=LEASE, n=50, path=str(path))
    workers = [harness.start_client(code, boot) for _ in range(3)]
    time.sleep(0.5)   # the workers are queued behind the victim by now
    assert all(w.poll() is None for w in workers)
    victim.kill()
    killed_at = time.time()
    results = _results(workers)
    assert path.read_text() == "150"
    first_grant = min(r["first_grant"] for r in results)
    assert first_grant - killed_at < LEASE + 3.0, "the lock outlived the dead holder's lease"
    assert time.time() - killed_at < LEASE + 30.0
    for result in results:
        tokens = result["tokens"]
        assert tokens[0] > victim_token
        assert all(a < b for a, b in zip(tokens, tokens[1:]))


BARRIER_WAITS = """
import json, time
from concoord.proxy.barrier import Barrier
barrier = Barrier(BOOTSTRAP)
seen = []
for _ in range({generations}):
    arrived = time.time()
    index = barrier.wait()
    seen.append([arrived, index, time.time()])
print(json.dumps(seen))
"""


def test_barrier_of_five_releases_five_processes_together_three_times(harness):
    boot = _start(harness, "barrier")
    with_proxy(Barrier(boot), lambda barrier: barrier.__concoordinit__(5))
    procs = [harness.start_client(BARRIER_WAITS.format(generations=3), boot) for _ in range(5)]
    results = _results(procs)
    for generation in range(3):
        rows = [result[generation] for result in results]
        assert sorted(index for _, index, _ in rows) == [0, 1, 2, 3, 4]
        # Nobody left before the last one arrived.
        assert max(arrived for arrived, _, _ in rows) <= min(left for _, _, left in rows)


SEMAPHORE_HOLDERS = """
import json, os, sys, time
from concoord.proxy.semaphore import Semaphore
PLACES = [os.path.join({directory!r}, "slot%d" % n) for n in range(3)]
sem = Semaphore(BOOTSTRAP)
slots = []
for _ in range({rounds}):
    with sem:
        # Claim one of the 3 places a holder may occupy: a 4th holder finds none free.
        for slot, place in enumerate(PLACES):
            try:
                os.close(os.open(place, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                break
            except FileExistsError:
                continue
        else:
            print("a fourth holder got in", file=sys.stderr)
            sys.exit(3)
        slots.append(slot)
        time.sleep(0.002)
        os.unlink(PLACES[slot])
print(json.dumps(slots))
"""


def test_semaphore_of_three_never_admits_a_fourth_holder(harness):
    boot = _start(harness, "semaphore")
    with_proxy(Semaphore(boot), lambda sem: sem.__concoordinit__(3))
    directory = harness.workdir / "places"
    directory.mkdir()
    code = SEMAPHORE_HOLDERS.format(rounds=40, directory=str(directory))
    results = _results([harness.start_client(code, boot) for _ in range(6)])
    assert max(max(slots) for slots in results) == 2, "three holders were never in at once"
    assert list(directory.iterdir()) == []


PRODUCER = """
from concoord.proxy.queue import Queue
queue = Queue(BOOTSTRAP)
for k in range({n}):
    queue.put("{name}-%d" % k)
print("[]")
"""

CONSUMER = """
import json
from concoord.proxy.queue import Queue
queue = Queue(BOOTSTRAP)
got = []
while True:
    item = queue.get()
    if item is None:
        break
    got.append(item)
print(json.dumps(got))
"""


def test_queue_delivers_every_item_exactly_once_across_processes(harness):
    boot = _start(harness, "queue")
    queue = Queue(boot)
    queue.__concoordinit__(5)   # small, so that producers block on a full queue too
    consumers = [harness.start_client(CONSUMER, boot) for _ in range(3)]
    producers = [harness.start_client(PRODUCER.format(n=100, name=f"p{i}"), boot)
                 for i in range(3)]
    _results(producers)
    for _ in consumers:
        queue.put(None)
    delivered = [item for got in _results(consumers) for item in got]
    expected = [f"p{i}-{k}" for i in range(3) for k in range(100)]
    queue.close()
    assert sorted(delivered) == sorted(expected)
