"""What `concoord bench` prints, and what it writes for machines (--json)."""

import json
import os
import platform
import sys

TITLES = {"W1": "1 client, sequential writes", "W2": "{clients} client threads, sync writes",
          "W3": "1 client, pipelined writes (window {window})",
          "W4": "1 client, linearizable reads", "W5": "failover: next write after the leader",
          "W6": "watch: write start to watcher's change"}


def compare(ours, theirs):
    """Per workload both systems ran: ours, theirs and the ratio ours/theirs of ops/s (above 1:
    ConCoord does more) and of p50 (below 1: ConCoord answers sooner)."""
    workloads = {}
    for name, mine in ours["results"].items():
        other = theirs["results"].get(name)
        if other is None or name == "W5":
            continue
        workloads[name] = {"ours": mine, "theirs": other, "ratio": {
            key: mine[key] / other[key] for key in ("ops_per_second", "p50_ms")}}
    return {"system": theirs["system"], "version": theirs["version"],
            "members": theirs["members"], "workloads": workloads, "skipped": theirs["skipped"]}


def table(results, settings, comparison=None):
    text = (_side_by_side(results, settings, comparison) if comparison
            else _plain(results, settings))
    if settings.get("layout") and not settings.get("boot"):
        text += f"\n(ConCoord's {settings['layout']} layout)"
    if settings.get("runs", 1) > 1:
        text += f"\n(medians of {settings['runs']} runs)"
    return text


def _plain(results, settings):
    lines = [f"{'workload':<48} {'ops/s':>10} {'p50 ms':>8} {'p99 ms':>8}"]
    for name, result in results.items():
        title = f"{name}: " + TITLES[name].format(**settings)
        if name == "W5":
            for how, label in (("kill", "SIGKILL"), ("stop", "SIGSTOP")):
                stats = result[how]
                lines.append(f"{title + ' ' + label:<48} {'':>10} median {stats['median_s']:.3f} s"
                             f", p90 {stats['p90_s']:.3f} s, p99 {stats['p99_s']:.3f} s"
                             f" ({len(stats['trials'])} trials)")
            continue
        lines.append(f"{title:<48} {result['ops_per_second']:>10,.0f} "
                     f"{result['p50_ms']:>8.3f} {result['p99_ms']:>8.3f}")
    return "\n".join(lines)


def _side_by_side(results, settings, comparison):
    them = comparison["system"]
    lines = [f"{'':<48} {' ops/s ':-^26}   {' p50 ms ':-^26}",
             f"{'workload':<48} {'ConCoord':>9} {them:>9} {'ratio':>6}   "
             f"{'ConCoord':>9} {them:>9} {'ratio':>6}"]
    for name, result in results.items():
        title = f"{name}: " + TITLES[name].format(**settings)
        row = comparison["workloads"].get(name)
        if row:
            ours, theirs, ratio = row["ours"], row["theirs"], row["ratio"]
            lines.append(f"{title:<48} {ours['ops_per_second']:>9,.0f} "
                         f"{theirs['ops_per_second']:>9,.0f} {ratio['ops_per_second']:>5.2f}x   "
                         f"{ours['p50_ms']:>9.3f} {theirs['p50_ms']:>9.3f} "
                         f"{ratio['p50_ms']:>5.2f}x")
        elif name == "W5":
            lines += _plain({name: result}, settings).split("\n")[1:]    # as without --baseline
        else:
            lines.append(f"{title:<48} {result['ops_per_second']:>9,.0f} {'-':>9} {'-':>6}   "
                         f"{result['p50_ms']:>9.3f} {'-':>9} {'-':>6}")
    for name, why in comparison["skipped"].items():
        lines.append(f"  ({them} has no {name}: {why})")
    lines.append(f"ratio = ConCoord / {them} {comparison['version']} ({comparison['members']} "
                 f"members, same host): ops/s above 1x and p50 below 1x favour ConCoord")
    return "\n".join(lines)


def machine():
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0],
            "platform": platform.platform()}


def write_json(path, results, settings, sweep=None, comparison=None):
    document = {"settings": settings, "machine": machine(), "results": results}
    if sweep:
        document["clients_sweep"] = sweep
    if comparison:
        document["comparison"] = comparison
    with open(path, "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
