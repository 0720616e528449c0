"""`concoord bench`: throughput, latency and failover of a local or running instance."""

import argparse
import signal
import sys

from concoord.argtypes import positive_int
from concoord.errors import ConcoordError
from concoord.security.flags import add_security_flags

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")
SWEEP = (1, 2, 4, 8, 16)
DESCRIPTION = (
    "Measure an instance with the README's Counter (or -o CLASS). Without -b it starts its own "
    "in a temp dir: -r replicas and -a acceptors, durable (--data-dir, fsync'd) unless "
    "--in-memory. W1: 1 client, sequential writes. W2: --clients threads over several client "
    "processes, synchronous writes. W3: 1 client, up to --window asynchronous writes in "
    "flight. W4: 1 client, sequential linearizable reads (a @readonly method: no log slot). W5: "
    "SIGKILL, then SIGSTOP, the leader and time the next acknowledged write (--trials each; "
    "local instance only). W6: a watcher of the read method, time from the start of each write "
    "to the watcher's change. Clients always run in processes of their own. "
    "--baseline etcd|zookeeper "
    "then runs W1-W4 and W6 against a 3-member etcd or ZooKeeper started on this host "
    "(durable, their "
    "defaults) and prints ours, theirs and the ratio ours/theirs side by side.")
BASELINES = ("etcd", "zookeeper")


def add_commands(commands):
    """Add this package's subparsers to `commands` (argparse subparsers); each sets run=FUNC."""
    parser = commands.add_parser("bench", help="measure throughput, latency and failover",
                                 description=DESCRIPTION)
    parser.add_argument("-b", "--boot", help="ip:port[,...] of a running instance to measure "
                        "instead of a local one (W5 needs the local one)")
    parser.add_argument("-r", "--replicas", type=positive_int, default=3,
                        help="replicas of the local instance (default 3)")
    parser.add_argument("-a", "--acceptors", type=positive_int, default=3,
                        help="acceptors of the local instance (default 3)")
    parser.add_argument("--layout", choices=("separate", "colocated"), default="separate",
                        help="local instance: every node in a process of its own (separate, "
                        "the default), or replica i and acceptor i in one process (colocated: "
                        "`concoord replica --with-acceptor`; needs -r equal to -a)")
    parser.add_argument("--in-memory", action="store_true",
                        help="local nodes without --data-dir (no fsync)")
    parser.add_argument("-o", "--object", default="concoord.objects.counter.Counter",
                        help="the class as package.module.Class (default the README's Counter)")
    parser.add_argument("--method", default="increment", help="the write (default increment)")
    parser.add_argument("--read-method", default="getvalue",
                        help="the read for W4, a @concoord.readonly method (default getvalue)")
    parser.add_argument("--workloads", type=_workloads, default=list(WORKLOADS),
                        help="comma-separated subset of W1,W2,W3,W4,W5,W6 (default all)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds per workload (default 10)")
    parser.add_argument("--clients", type=positive_int, default=16,
                        help="client threads for W2 (default 16)")
    parser.add_argument("--processes", type=positive_int, default=4,
                        help="client processes W2's threads are spread over (default 4)")
    parser.add_argument("--window", type=positive_int, default=2000,
                        help="calls in flight for W3 (default 2000)")
    parser.add_argument("--trials", type=positive_int, default=3,
                        help="failovers of each kind for W5 (default 3)")
    parser.add_argument("--runs", type=positive_int, default=1,
                        help="measure this many times (ours, then the --baseline, in turn, so "
                        "that a change in the machine's load hits both) and report the median "
                        "of each figure (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    parser.add_argument("--plot", metavar="FILE.png", help="draw throughput against client "
                        "threads (W2 with 1-16) and latency CDFs (needs matplotlib)")
    parser.add_argument("--baseline", choices=BASELINES, help="also run the same workloads "
                        "against a 3-member etcd (apt-get install etcd-server) or a 3-server "
                        "ZooKeeper ensemble (apt-get install zookeeper) started on this host, "
                        "after ours, and print ours, theirs and ours/theirs (ops/s and p50) per "
                        "workload; needs pip install 'concoord[baseline]'. etcd put / "
                        "ZooKeeper set_data for writes, etcd linearizable get / ZooKeeper "
                        "sync+get for reads; no W5, and no W3 for etcd (its client cannot "
                        "pipeline)")
    add_security_flags(parser)
    parser.set_defaults(run=run_bench)


def _workloads(text):
    names = [name.strip().upper() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown workload {','.join(unknown) or text!r} "
                                         f"(choose from {','.join(WORKLOADS)})")
    return names


def say(line, end="\n"):
    print(line, end=end, file=sys.stderr, flush=True)


def run_bench(args):
    if args.duration <= 0:
        raise ConcoordError("--duration must be positive")
    if args.plot:
        _require_matplotlib()           # fail now, not after the whole run
    if args.layout == "colocated" and args.replicas != args.acceptors:
        raise ConcoordError("--layout colocated runs one acceptor per replica: give -r and -a "
                            "the same number")
    if args.boot and "W5" in args.workloads:
        raise ConcoordError("W5 kills the leader: it needs the local instance (drop -b)")
    if args.baseline:
        from concoord.bench import baseline
        baseline.require(args.baseline)     # fail now, before measuring ours for nothing
    ours, theirs = [], []
    for run in range(args.runs):
        if args.runs > 1:
            say(f"bench: run {run + 1} of {args.runs}")
        ours.append(_run_ours(args))
        if args.baseline:
            theirs.append(_run_baseline(args))
    from concoord.bench.workloads import median_of_runs
    _report(args, median_of_runs(ours), median_of_runs(theirs) if theirs else None)
    return 0


def _run_ours(args):
    """Our workloads against the -b instance or a local one, started and stopped here."""
    from concoord.bench.cluster import LocalCluster
    cluster = None
    try:
        if args.boot:
            bootstrap = args.boot
            _check_reachable(bootstrap)
        else:
            say(f"bench: starting {args.replicas} replicas and {args.acceptors} "
                f"{'in-memory' if args.in_memory else 'durable'} acceptors of {args.object}"
                f" ({args.layout} layout)")
            cluster = LocalCluster(args.object, args.replicas, args.acceptors, args.in_memory,
                                   _node_security_args(args), layout=args.layout).start()
            bootstrap = ",".join(cluster.replicas)
        client = dict(system="concoord", bootstrap=bootstrap, method=args.method,
                      read_method=args.read_method, security=_security_namespace(args))
        ours = _run_all(args, cluster, client)
    except BaseException:
        if cluster is not None:
            cluster.stop(keep_logs=True)     # the error message names the directory
        raise
    if cluster is not None:
        cluster.stop()      # before the baseline starts: they must not share the CPUs
    return ours


def _run_baseline(args):
    """The same workloads against ``args.baseline``, started here and always stopped."""
    from concoord.bench import baseline
    system = baseline.create(args.baseline)
    say(f"bench: starting a {baseline.MEMBERS}-member durable {args.baseline} "
        f"{system.version()} for the baseline")
    try:
        system.start()
        measured = _run_all(args, None, dict(system=args.baseline, endpoint=system.leader))
    except BaseException as exc:
        keep = isinstance(exc, ConcoordError)
        if keep:
            say(f"bench: {args.baseline} logs kept in {system.workdir}")
        system.stop(keep_logs=keep)
        raise
    system.stop()
    measured.update(system=args.baseline, version=system.version(), members=baseline.MEMBERS)
    return measured


def _check_reachable(bootstrap):
    from concoord.client.status import query_status
    from concoord.errors import ConnectionError
    errors = []
    for address in bootstrap.split(","):
        try:
            query_status(address.strip())
            return
        except ConnectionError as exc:
            errors.append(str(exc))
    raise ConnectionError("; ".join(errors))


# What a baseline cannot run, and why (printed in the table and the JSON).
SKIPPED = {"W3": {"etcd": "the etcd3 client has no pipelining"},
           "W5": {"etcd": "failover is measured for ConCoord only",
                  "zookeeper": "failover is measured for ConCoord only"},
           "W6": {"zookeeper": "its watches fire once and are set again: they may miss "
                                "values"}}


def _run_all(args, cluster, client):
    """{"results", "sweep", "cdfs", "skipped"} of the chosen workloads with ``client`` (a
    sessions.py spec without threads, window and duration)."""
    system = client["system"]
    label = "" if system == "concoord" else f" ({system})"
    results, cdfs, sweep, skipped = {}, {}, [], {}
    plan = {"W1": ("write", 1, 1, 0), "W2": ("write", args.processes, args.clients, 0),
            "W3": ("write", 1, 1, args.window), "W4": ("read", 1, 1, 0)}
    for name in args.workloads:
        if system in SKIPPED.get(name, {}):
            skipped[name] = SKIPPED[name][system]
            continue
        if name == "W5":
            results["W5"] = _failover(args, cluster, client["bootstrap"])
            continue
        if name == "W6":
            results["W6"] = _watch_latency(args, client, label)
            continue
        op, processes, threads, window = plan[name]
        result, latencies = _measure(args, name + label, dict(client, op=op), threads,
                                     processes, window)
        results[name] = result
        cdfs[name] = latencies[::max(1, len(latencies) // 2000)]
    if args.plot:
        for clients in SWEEP:
            result, _ = _measure(args, f"W2 with {clients}{label}", dict(client, op="write"),
                                 clients, min(args.processes, clients), 0)
            sweep.append((clients, result["ops_per_second"]))
    return {"results": results, "sweep": sweep, "cdfs": cdfs, "skipped": skipped}


def _watch_latency(args, client, label):
    from concoord.bench import watch_latency, workloads
    say(f"bench: W6{label}: 1 writer, 1 watcher, {args.duration:g} s ...")
    latencies = watch_latency.measure(client, args.duration)
    result = workloads.summarize(len(latencies), latencies, args.duration)
    say(f"bench: W6{label}: {len(latencies):,} changes seen, p50 {result['p50_ms']:.3f} ms, "
        f"p99 {result['p99_ms']:.3f} ms")
    return result


def _measure(args, label, client, threads, processes, window):
    from concoord.bench import workloads as w
    per_process = [threads // processes + (i < threads % processes) for i in range(processes)]
    say(f"bench: {label}: {threads} client thread(s) in {processes} process(es), "
        f"{args.duration:g} s ...")
    operations, latencies = 0, []
    specs = [dict(client, threads=n, window=window, duration=args.duration)
             for n in per_process if n]
    # Processes with the same thread count run together; mixed counts are rare (16/4 = 4).
    for count in sorted({s["threads"] for s in specs}):
        group = [s for s in specs if s["threads"] == count]
        ops, lat = w.run_clients(group[0], len(group), _countdown(label))
        operations += ops
        latencies += lat
    latencies.sort()
    result = w.summarize(operations, latencies, args.duration)
    result.update(clients=threads, processes=processes)
    say(f"bench: {label}: {result['ops_per_second']:,.0f} ops/s, p50 {result['p50_ms']:.3f} ms,"
        f" p99 {result['p99_ms']:.3f} ms")
    return result, latencies


def _failover(args, cluster, bootstrap):
    from concoord.bench import workloads as w
    times = {}
    for signum, how in ((signal.SIGKILL, "kill"), (signal.SIGSTOP, "stop")):
        say(f"bench: W5: {signum.name} of the leader, {args.trials} trial(s) ...")
        times[how] = w.failover(cluster, bootstrap, args.method, signum, args.trials,
                                lambda n, t: say(f"bench: W5 {signum.name} trial {n}: {t:.3f} s"))
    return w.summarize_failover(times["kill"], times["stop"])


def _countdown(label):
    if not sys.stderr.isatty():
        return None
    return lambda left: say(f"\rbench: {label}: {left:4.0f} s left", end="" if left else "\n")


def _report(args, ours, theirs):
    from concoord.bench import report
    settings = {"clients": args.clients, "window": args.window, "duration": args.duration,
                "replicas": args.replicas, "acceptors": args.acceptors, "layout": args.layout,
                "durable": not args.in_memory, "object": args.object, "boot": args.boot,
                "secret": bool(args.secret_file), "tls": bool(args.tls_ca), "runs": args.runs}
    comparison = report.compare(ours, theirs) if theirs else None
    print(report.table(ours["results"], settings, comparison))
    if args.json:
        report.write_json(args.json, ours["results"], settings, ours["sweep"], comparison)
        say(f"bench: wrote {args.json}")
    if args.plot:
        from concoord.bench.plot import plot
        sweeps, cdfs = {"ConCoord": ours["sweep"]}, dict(ours["cdfs"])
        if theirs:
            sweeps[theirs["system"]] = theirs["sweep"]
            cdfs.update({f"{name} {theirs['system']}": latencies
                         for name, latencies in theirs["cdfs"].items()})
        plot(args.plot, sweeps, cdfs)
        say(f"bench: wrote {args.plot}")


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConcoordError("--plot needs matplotlib: pip install 'concoord[plot]'") from None


def _node_security_args(args):
    flags = []
    for flag, value in (("--secret-file", args.secret_file), ("--tls-cert", args.tls_cert),
                        ("--tls-key", args.tls_key), ("--tls-ca", args.tls_ca)):
        if value:
            flags += [flag, value]
    return flags


def _security_namespace(args):
    return argparse.Namespace(secret_file=args.secret_file, tls_cert=args.tls_cert,
                              tls_key=args.tls_key, tls_ca=args.tls_ca)
