"""`concoord bench`: throughput, latency and failover of a local or running instance."""

import argparse
import signal
import sys

from concoord.argtypes import positive_int
from concoord.errors import ConcoordError
from concoord.security.flags import add_security_flags

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
SWEEP = (1, 2, 4, 8, 16)
DESCRIPTION = (
    "Measure an instance with the README's Counter (or -o CLASS). Without -b it starts its own "
    "in a temp dir: -r replicas and -a acceptors, durable (--data-dir, fsync'd) unless "
    "--in-memory. W1: 1 client, sequential writes. W2: --clients threads over several client "
    "processes, synchronous writes. W3: 1 client, up to --window asynchronous writes in "
    "flight. W4: 1 client, sequential linearizable reads (a @readonly method: no log slot). W5: "
    "SIGKILL, then SIGSTOP, the leader and time the next acknowledged write (--trials each; "
    "local instance only). Clients always run in processes of their own.")


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
    parser.add_argument("--in-memory", action="store_true",
                        help="local nodes without --data-dir (no fsync)")
    parser.add_argument("-o", "--object", default="concoord.objects.counter.Counter",
                        help="the class as package.module.Class (default the README's Counter)")
    parser.add_argument("--method", default="increment", help="the write (default increment)")
    parser.add_argument("--read-method", default="getvalue",
                        help="the read for W4, a @concoord.readonly method (default getvalue)")
    parser.add_argument("--workloads", type=_workloads, default=list(WORKLOADS),
                        help="comma-separated subset of W1,W2,W3,W4,W5 (default all)")
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
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    parser.add_argument("--plot", metavar="FILE.png", help="draw throughput against client "
                        "threads (W2 with 1-16) and latency CDFs (needs matplotlib)")
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
    from concoord.bench.cluster import LocalCluster
    if args.duration <= 0:
        raise ConcoordError("--duration must be positive")
    if args.plot:
        _require_matplotlib()           # fail now, not after the whole run
    if args.boot and "W5" in args.workloads:
        raise ConcoordError("W5 kills the leader: it needs the local instance (drop -b)")
    cluster = None
    try:
        if args.boot:
            bootstrap = args.boot
            _check_reachable(bootstrap)
        else:
            say(f"bench: starting {args.replicas} replicas and {args.acceptors} "
                f"{'in-memory' if args.in_memory else 'durable'} acceptors of {args.object}")
            cluster = LocalCluster(args.object, args.replicas, args.acceptors, args.in_memory,
                                   _node_security_args(args)).start()
            bootstrap = ",".join(cluster.replicas)
        results, sweep, cdfs = _run_all(args, cluster, bootstrap)
    except BaseException:
        if cluster is not None:
            cluster.stop(keep_logs=True)     # the error message names the directory
        raise
    if cluster is not None:
        cluster.stop()
    _report(args, results, sweep, cdfs)
    return 0


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


def _run_all(args, cluster, bootstrap):
    results, cdfs, sweep = {}, {}, []
    plan = {"W1": (args.method, 1, 1, 0), "W2": (args.method, args.processes, args.clients, 0),
            "W3": (args.method, 1, 1, args.window), "W4": (args.read_method, 1, 1, 0)}
    for name in args.workloads:
        if name == "W5":
            results["W5"] = _failover(args, cluster, bootstrap)
            continue
        method, processes, threads, window = plan[name]
        result, latencies = _measure(args, name, bootstrap, method, threads, processes, window)
        results[name] = result
        cdfs[name] = latencies[::max(1, len(latencies) // 2000)]
    if args.plot:
        for clients in SWEEP:
            result, _ = _measure(args, f"W2 with {clients}", bootstrap, args.method, clients,
                                 min(args.processes, clients), 0)
            sweep.append((clients, result["ops_per_second"]))
    return results, sweep, cdfs


def _measure(args, label, bootstrap, method, threads, processes, window):
    from concoord.bench import workloads as w
    per_process = [threads // processes + (i < threads % processes) for i in range(processes)]
    say(f"bench: {label}: {threads} client thread(s) in {processes} process(es), "
        f"{args.duration:g} s ...")
    operations, latencies = 0, []
    specs = [dict(bootstrap=bootstrap, method=method, threads=n, window=window,
                  duration=args.duration, security=_security_namespace(args))
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


def _report(args, results, sweep, cdfs):
    from concoord.bench import report
    settings = {"clients": args.clients, "window": args.window, "duration": args.duration,
                "replicas": args.replicas, "acceptors": args.acceptors,
                "durable": not args.in_memory, "object": args.object, "boot": args.boot,
                "secret": bool(args.secret_file), "tls": bool(args.tls_ca)}
    print(report.table(results, settings))
    if args.json:
        report.write_json(args.json, results, settings, sweep)
        say(f"bench: wrote {args.json}")
    if args.plot:
        from concoord.bench.plot import plot
        plot(args.plot, sweep, cdfs)
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
