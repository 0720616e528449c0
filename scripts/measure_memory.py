#!/usr/bin/env python3
"""Resident memory of every node over a long run: garbage collection must keep it flat.

    python scripts/measure_memory.py [--commands 1000000] [--first 100000]

Starts 3 replicas and 3 durable acceptors of the README's Counter in a temp dir, sends
pipelined increments, and prints each node's resident set size (VmRSS) after --first commands
and after --commands. Exits 1 if any node grew by more than 20% between the two, or if the
counter does not equal the number of increments.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

from concoord.client.proxy import ClientProxy
from concoord.client.status import query_status

COUNTER = "concoord.objects.counter.Counter"
MAX_GROWTH = 0.20


def spawn(args, log):
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "concoord", *args], stdout=out,
                                stderr=subprocess.STDOUT)


def wait_for(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.1)
    raise SystemExit(f"measure_memory: {what} did not happen within {timeout:g} s")


def start_instance(base, workdir):
    """{address: Popen} of 3 replicas and 3 durable acceptors; the replicas' addresses."""
    first = f"127.0.0.1:{base}"
    nodes = {first: spawn(["replica", "-o", COUNTER, "-p", str(base), "--data-dir",
                           f"{workdir}/r0"], f"{workdir}/r0.log")}
    wait_for(lambda: query_status(first), "the first replica answering")
    for i in (1, 2, 3):
        nodes[f"127.0.0.1:{base + i}"] = spawn(
            ["acceptor", "-b", first, "-p", str(base + i), "--data-dir", f"{workdir}/a{i}"],
            f"{workdir}/a{i}.log")
    replicas = [first]
    for i in (4, 5):
        address = f"127.0.0.1:{base + i}"
        nodes[address] = spawn(["replica", "-o", COUNTER, "-b", first, "-p", str(base + i),
                                "--data-dir", f"{workdir}/r{i}"], f"{workdir}/r{i}.log")
        replicas.append(address)
    wait_for(lambda: all(len(query_status(r)["replicas"]) == 3 and
                         len(query_status(r)["acceptors"]) == 3 for r in replicas),
             "the instance converging")
    return nodes, replicas


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"measure_memory: no VmRSS for pid {pid}")


def increment(proxy, count, window):
    """``count`` increments with up to ``window`` in flight; raises the first failure."""
    slots = threading.Semaphore(window)
    errors = []

    def done(future):
        if future.exception() is not None:
            errors.append(future.exception())
        slots.release()
    for _ in range(count):
        slots.acquire()
        if errors:
            raise errors[0]
        proxy.call_async("increment").add_done_callback(done)
    for _ in range(window):
        slots.acquire()
    if errors:
        raise errors[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=1_000_000)
    parser.add_argument("--first", type=int, default=100_000,
                        help="commands before the first measurement")
    parser.add_argument("--window", type=int, default=2000, help="increments in flight")
    parser.add_argument("--base-port", type=int, default=18100)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="concoord-memory-")
    nodes, replicas = start_instance(args.base_port, workdir)
    try:
        proxy = ClientProxy(",".join(replicas), timeout=120)
        started = time.monotonic()
        increment(proxy, args.first, args.window)
        time.sleep(6)         # one snapshot interval: GC has caught up with the first part
        before = {address: rss_kib(proc.pid) for address, proc in nodes.items()}
        increment(proxy, args.commands - args.first, args.window)
        time.sleep(6)
        after = {address: rss_kib(proc.pid) for address, proc in nodes.items()}
        elapsed = time.monotonic() - started
        value = proxy._invoke("getvalue")
        proxy.close()
    finally:
        for proc in nodes.values():
            proc.kill()
    print(f"{args.commands} increments in {elapsed:.0f} s; counter = {value}")
    print(f"{'node':22} {'RSS at %d' % args.first:>16} {'RSS at %d' % args.commands:>16}  growth")
    worst = 0.0
    for address in nodes:
        growth = after[address] / before[address] - 1
        worst = max(worst, growth)
        print(f"{address:22} {before[address]:>13} KiB {after[address]:>13} KiB  {growth:+.1%}")
    ok = worst <= MAX_GROWTH and value == args.commands
    print(f"largest growth {worst:+.1%} (limit {MAX_GROWTH:.0%}): {'flat' if ok else 'NOT FLAT'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
