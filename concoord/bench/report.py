"""What `concoord bench` prints, and what it writes for machines (--json)."""

import json
import os
import platform
import sys

TITLES = {"W1": "1 client, sequential writes", "W2": "{clients} client threads, sync writes",
          "W3": "1 client, pipelined writes (window {window})",
          "W4": "1 client, linearizable reads", "W5": "failover: next write after the leader"}


def table(results, settings):
    lines = [f"{'workload':<48} {'ops/s':>10} {'p50 ms':>8} {'p99 ms':>8}"]
    for name, result in results.items():
        title = f"{name}: " + TITLES[name].format(**settings)
        if name == "W5":
            for how, label in (("kill", "SIGKILL"), ("stop", "SIGSTOP")):
                stats = result[how]
                lines.append(f"{title + ' ' + label:<48} {'':>10} median {stats['median_s']:.3f} s"
                             f", p90 {stats['p90_s']:.3f} s ({len(stats['trials'])} trials)")
            continue
        lines.append(f"{title:<48} {result['ops_per_second']:>10,.0f} "
                     f"{result['p50_ms']:>8.3f} {result['p99_ms']:>8.3f}")
    return "\n".join(lines)


def machine():
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0],
            "platform": platform.platform()}


def write_json(path, results, settings, sweep=None):
    document = {"settings": settings, "machine": machine(), "results": results}
    if sweep:
        document["clients_sweep"] = sweep
    with open(path, "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
