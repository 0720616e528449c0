"""Watches with real processes: watchers in their own processes follow a Counter through 1,000
increments, a SIGKILL of the leader, and a SIGSTOP of a watcher itself. Every watcher's changes
must come in log order (tags strictly increasing), never skip a value without saying so
(``compacted``), and end at the final value."""

import json
import signal
import subprocess
import sys
import time

import pytest

from concoord.bench.cluster import LocalCluster
from concoord.client.proxy import ClientProxy

COUNTER = "concoord.objects.counter.Counter"
INCREMENTS = 1000
pytestmark = pytest.mark.timeout(240)

WATCHER = """
import json, sys
from concoord.client.proxy import ClientProxy
proxy = ClientProxy(sys.argv[1], timeout=60)
for change in proxy.watch("getvalue"):
    print(json.dumps([change.value, change.slot, change.index, change.compacted]), flush=True)
    if change.value >= int(sys.argv[2]):
        break
proxy.close()
"""


@pytest.fixture
def cluster():
    instance = LocalCluster(COUNTER).start()
    yield instance
    instance.stop()


def start_watcher(bootstrap):
    return subprocess.Popen([sys.executable, "-c", WATCHER, bootstrap, str(INCREMENTS)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def first_change(watcher):
    line = watcher.stdout.readline()
    assert line, watcher.stderr.read()
    return json.loads(line)


def check_changes(changes):
    """Log order, no unflagged gap (a Counter's result moves by one per increment), the end."""
    tags = [(slot, index) for _, slot, index, _ in changes]
    assert tags == sorted(set(tags)), "changes out of log order or repeated"
    for (before, *_), (after, _, _, compacted) in zip(changes, changes[1:]):
        assert after - before in (0, 1) or compacted, f"{before} -> {after} without a flag"
    assert changes[-1][0] == INCREMENTS


def test_watchers_follow_every_change_through_a_leader_kill_and_a_paused_watcher(cluster):
    bootstrap = ",".join(cluster.replicas)
    watchers = [start_watcher(bootstrap) for _ in range(3)]
    seen = [[first_change(w)] for w in watchers]
    assert all(changes[0][0] == 0 for changes in seen)
    writer = ClientProxy(bootstrap, timeout=60)
    try:
        for number in range(INCREMENTS):
            writer._invoke("increment")
            if number == 300:
                cluster.signal(cluster.leader(), signal.SIGKILL)
            if number == 500:
                watchers[2].send_signal(signal.SIGSTOP)
                paused_at = time.monotonic()
            if number == 700:
                time.sleep(max(0.0, 2.0 - (time.monotonic() - paused_at)))
                watchers[2].send_signal(signal.SIGCONT)
    finally:
        writer.close()
    for watcher, changes in zip(watchers, seen):
        out, err = watcher.communicate(timeout=120)
        assert watcher.returncode == 0, err
        changes.extend(json.loads(line) for line in out.splitlines())
        check_changes(changes)


def test_only_readonly_methods_can_be_watched(cluster):
    proxy = ClientProxy(",".join(cluster.replicas), timeout=30)
    try:
        watch = proxy.watch("increment")
        with pytest.raises(RuntimeError, match="readonly"):
            watch.get(timeout=30)
        assert proxy._invoke("getvalue") == 0, "a refused watch runs nothing"
    finally:
        proxy.close()


def test_the_readme_membership_watch():
    """The README's example: a service that reacts when the group's members change."""
    from concoord.proxy.membership import Membership
    instance = LocalCluster("concoord.objects.membership.Membership").start()
    try:
        bootstrap = ",".join(instance.replicas)
        group, watcher = Membership(bootstrap), Membership(bootstrap)
        seen = []
        watch = watcher.watch("members", callback=seen.append)
        # The watch registers in the background: its first result (the members now) comes
        # before the changes only if they are made after it (on a loaded machine an add
        # could overtake the registration, and the first result would be ["a"]).
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        group.add("a")
        group.add("b")
        group.remove("a")
        deadline = time.monotonic() + 30
        while (not seen or seen[-1].value != ["b"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [change.value for change in seen] == [[], ["a"], ["a", "b"], ["b"]]
        watch.close()
        group.close()
        watcher.close()
    finally:
        instance.stop()
