"""Run the simulator over many seeds: python -m tests.sim.run --seeds 10000 [--steps 2000]."""

import argparse
from collections import Counter
import sys
import time

from tests.sim.cluster import Violation, run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, help="run this one seed")
    parser.add_argument("--seeds", type=int, default=100, help="run seeds 0..N-1")
    parser.add_argument("--first", type=int, default=0, help="first seed of the range")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--acceptors", type=int, nargs="+", default=[3, 5])
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else range(args.first, args.first + args.seeds)
    started, failures, runs, mix = time.time(), 0, 0, Counter()
    for seed in seeds:
        for acceptors in args.acceptors:
            runs += 1
            try:
                mix.update(run(seed, args.steps, acceptors, args.replicas).fault_mix)
            except Violation as exc:
                failures += 1
                print(exc, flush=True)
    print(f"{runs} runs ({len(seeds)} seeds x {args.acceptors} acceptors, {args.steps} steps): "
          f"{failures} violations in {time.time() - started:.1f}s")
    print("faults drawn: " + ", ".join(f"{kind} {n}" for kind, n in mix.most_common()))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
