#!/usr/bin/env python3
"""Failover time: SIGKILL or SIGSTOP the leader of a 3-replica, 3-durable-acceptor Counter
instance on loopback and time the next acknowledged client write.

    python scripts/measure_failover.py --trials 10 [--attempt-timeout 0.5]

Prints the median and p90 for each signal. Each trial starts a fresh instance in a temp dir.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from concoord.client.proxy import ClientProxy
from concoord.client.status import query_status

COUNTER = "concoord.objects.counter.Counter"


def start(args, log):
    return subprocess.Popen([sys.executable, "-m", "concoord", *args],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)


def wait(predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:   # not up yet
            pass
        time.sleep(0.05)
    raise SystemExit("measure_failover: the instance did not come up")


def start_instance(base, workdir):
    procs, first = {}, f"127.0.0.1:{base}"
    procs[first] = start(["replica", "-o", COUNTER, "-p", str(base), "--data-dir",
                          f"{workdir}/r0"], f"{workdir}/r0.log")
    wait(lambda: query_status(first))
    for i in (1, 2, 3):
        procs[f"a{i}"] = start(["acceptor", "-b", first, "-p", str(base + i), "--data-dir",
                                f"{workdir}/a{i}"], f"{workdir}/a{i}.log")
    replicas = [first] + [f"127.0.0.1:{base + i}" for i in (4, 5)]
    for i, address in zip((4, 5), replicas[1:]):
        procs[address] = start(["replica", "-o", COUNTER, "-b", first, "-p", str(base + i),
                                "--data-dir", f"{workdir}/r{i}"], f"{workdir}/r{i}.log")
    wait(lambda: all(len(query_status(r)["replicas"]) == 3 for r in replicas))
    return procs, replicas


def trial(signum, base, attempt_timeout):
    procs, replicas = start_instance(base, tempfile.mkdtemp(prefix="concoord-failover-"))
    try:
        client = ClientProxy(",".join(replicas), attempt_timeout=attempt_timeout)
        for _ in range(50):
            client._invoke("increment")
        leader = procs[query_status(replicas[0])["leader"]]
        started = time.monotonic()
        os.kill(leader.pid, signum)
        client._invoke("increment")
        return time.monotonic() - started
    finally:
        for proc in procs.values():
            proc.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--attempt-timeout", type=float, default=1.0,
                        help="the client's silence timeout (ClientProxy attempt_timeout)")
    parser.add_argument("--base-port", type=int, default=17000)
    args = parser.parse_args()
    for offset, signum in ((0, signal.SIGKILL), (5000, signal.SIGSTOP)):
        times = sorted(trial(signum, args.base_port + offset + 10 * i, args.attempt_timeout)
                       for i in range(args.trials))
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        print(f"{signum.name}: median {statistics.median(times):.3f} s, p90 {p90:.3f} s "
              f"over {len(times)} trials")


if __name__ == "__main__":
    main()
