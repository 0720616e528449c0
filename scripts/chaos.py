#!/usr/bin/env python3
"""A long randomized fault run against a real instance, checked for linearizability at the end.

    python scripts/chaos.py --duration 600        # or: make chaos DURATION=600

3 replicas and 3 durable acceptors (on three network-namespace hosts when run as root, so that
partitions are possible; else all on 127.0.0.1) serve 3 recording clients while, every few
seconds, one fault from the list below is applied and undone: SIGKILL + restart of a random
node or of the leader, SIGSTOP/SIGCONT of a random node, a partition of one host, and
SIGKILL of the whole instance + restart from disk. After each fault the run waits until the
clients make progress again (a liveness check). At the end the merged history is checked with
concoord.checker (Counter as the model). Prints the operations, the faults and the verdict;
exits 1 on a violation or if the instance stopped making progress.
"""

import argparse
import pathlib
import random
import signal
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from concoord.bench.cluster import LocalCluster  # noqa: E402
from concoord.checker import OK, UNKNOWN, load_history  # noqa: E402
from tests.integration import netns  # noqa: E402
from tests.integration.nemesis import Load  # noqa: E402

COUNTER = "concoord.objects.counter.Counter"
PROGRESS = 20            # answered calls required after each fault


def kill_restart(cluster, rng, net):
    victim = rng.choice(cluster.replicas + cluster.acceptors)
    cluster.signal(victim, signal.SIGKILL)
    time.sleep(rng.uniform(0.2, 2.0))
    cluster.restart(victim)
    return f"SIGKILL + restart {victim}"


def kill_leader(cluster, rng, net):
    leader = cluster.leader()
    cluster.signal(leader, signal.SIGKILL)
    time.sleep(rng.uniform(0.5, 2.0))
    cluster.restart(leader)
    return f"SIGKILL + restart of the leader {leader}"


def stop_continue(cluster, rng, net):
    victim = rng.choice(cluster.replicas + cluster.acceptors)
    cluster.signal(victim, signal.SIGSTOP)
    time.sleep(rng.uniform(0.5, 3.0))
    cluster.signal(victim, signal.SIGCONT)
    cluster.wait_converged()
    return f"SIGSTOP/SIGCONT {victim}"


def partition(cluster, rng, net):
    host = rng.randrange(len(net.ips))
    net.isolate(host)
    time.sleep(rng.uniform(1.0, 4.0))
    net.heal(host)
    cluster.wait_converged()
    return f"partition of host {net.ips[host]}"


def kill_everything(cluster, rng, net):
    cluster.kill_all()
    cluster.restart_all()
    return "SIGKILL of all 6 nodes + restart from disk"


def run(duration, seed, workdir, net, keep_logs=False):
    rng = random.Random(seed)
    faults = [kill_restart, kill_leader, stop_continue, kill_everything]
    weights = [3, 3, 3, 1]
    if net is not None:
        faults.append(partition)
        weights.append(3)
    cluster = LocalCluster(COUNTER, hosts=net.hosts() if net else (("127.0.0.1", ()),))
    cluster.start()
    applied = []
    try:
        with Load(cluster.replicas, workdir, pause=0.005) as load:
            load.wait_for(PROGRESS)
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                time.sleep(rng.uniform(0.5, 2.0))
                fault = rng.choices(faults, weights)[0]
                applied.append(fault(cluster, rng, net))
                print(f"[{len(applied):3}] {applied[-1]}", flush=True)
                load.wait_for(PROGRESS, timeout=60)
            print("checking the history ...", flush=True)
            started = time.monotonic()
            history, value = load.check(cluster.replicas)
        print(f"{len(history)} operations ({history.count(OK)} acknowledged, "
              f"{history.count(UNKNOWN)} unknown), {len(applied)} faults, final value {value}; "
              f"linearizable (checked in {time.monotonic() - started:.0f} s)")
        return 0
    except AssertionError as exc:
        print(f"VIOLATION or no progress after {len(applied)} faults: {exc}", flush=True)
        print(f"histories and node logs kept in {workdir} and {cluster.workdir}")
        cluster.stop(keep_logs=True)
        return 1
    finally:
        cluster.stop(keep_logs=keep_logs)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    parser.add_argument("--seed", type=int, default=None, help="fault schedule seed")
    parser.add_argument("--keep-logs", action="store_true", help="keep the nodes' logs")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    workdir = tempfile.mkdtemp(prefix="concoord-chaos-")
    why_not = netns.available()
    print(f"chaos: {args.duration:g} s, seed {seed}, histories in {workdir}; partitions "
          f"{'on (3 namespace hosts)' if why_not is None else 'off: ' + why_not}", flush=True)
    if why_not is None:
        with netns.Network(hosts=3) as net:
            return run(args.duration, seed, workdir, net, args.keep_logs)
    return run(args.duration, seed, workdir, None, args.keep_logs)


if __name__ == "__main__":
    sys.exit(main())
