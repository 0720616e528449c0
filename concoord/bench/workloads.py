"""The workloads of `concoord bench`, run by client processes separate from the nodes.

W1 one client, sequential writes; W2 many client threads over several processes, synchronous
writes; W3 one client, pipelined asynchronous writes; W4 one client, sequential linearizable
reads; W5 failover: SIGKILL / SIGSTOP the leader and time the next acknowledged write.
"""

import array
import multiprocessing
import queue
import signal
import statistics
import threading
import time

from concoord.errors import ConcoordError
from concoord.protocol.acceptor import MAX_LEASE

WARMUP_CALLS = 100
START_TIMEOUT = 60.0


def run_clients(spec, processes, on_progress=None):
    """Run ``processes`` client processes of ``spec`` at once; (operations, latencies in s)."""
    context = multiprocessing.get_context("spawn")   # no inherited threads or sockets
    results, ready, go = context.Queue(), context.Semaphore(0), context.Event()
    procs = [context.Process(target=_client_main, args=(spec, results, ready, go), daemon=True)
             for _ in range(processes)]
    for proc in procs:
        proc.start()
    try:
        return _collect(spec, procs, results, ready, go, on_progress)
    except BaseException:
        _stop(procs)     # Ctrl-C: the clients go before the nodes they talk to are stopped
        raise


def _collect(spec, procs, results, ready, go, on_progress):
    for _ in procs:
        if not ready.acquire(timeout=START_TIMEOUT):
            raise ConcoordError("bench: a client process did not start (is the instance up?)")
    go.set()
    _show_progress(spec["duration"], on_progress)
    operations, latencies = 0, array.array("d")
    for _ in procs:
        try:
            outcome = results.get(timeout=spec["duration"] + START_TIMEOUT)
        except queue.Empty:
            raise ConcoordError("bench: a client process did not report") from None
        if isinstance(outcome, str):
            raise ConcoordError(f"bench: a client failed: {outcome}")
        count, samples = outcome
        operations += count
        latencies.frombytes(samples)
    for proc in procs:
        proc.join()
    return operations, sorted(latencies)


def _show_progress(duration, on_progress):
    deadline = time.monotonic() + duration
    while on_progress is not None and time.monotonic() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        on_progress(max(0.0, deadline - time.monotonic()))


def _stop(procs):
    for proc in procs:
        proc.kill()


def _client_main(spec, results, ready, go):
    """One client process: ``threads`` callers (or one pipelining caller) for ``duration``,
    each with a session of its own to ConCoord or to a baseline (sessions.py)."""
    try:
        from concoord.security.flags import configure_from_args
        if spec.get("security") is not None:
            configure_from_args(spec["security"])
        from concoord.bench.sessions import connect
        sessions = [connect(spec) for _ in range(spec["threads"])]
        for session in sessions:
            for _ in range(WARMUP_CALLS):
                session.call()
        ready.release()
        go.wait()
        run = _pipelined if spec["window"] else _sequential
        outcomes = [None] * len(sessions)

        def caller(i):
            try:
                outcomes[i] = run(sessions[i], spec)
            except Exception as exc:  # noqa: BLE001 - the process reports it as one line
                outcomes[i] = exc
        threads = [threading.Thread(target=caller, args=(i,)) for i in range(len(sessions))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if failed:
            raise failed[0]
        latencies = array.array("d")
        for _, samples in outcomes:
            latencies.extend(samples)
        results.put((sum(count for count, _ in outcomes), latencies.tobytes()))
        for session in sessions:
            session.close()
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        ready.release()
        results.put(f"{type(exc).__name__}: {exc}")


def _sequential(session, spec):
    call, latencies = session.call, array.array("d")
    clock = time.perf_counter
    deadline = clock() + spec["duration"]
    while True:
        started = clock()
        if started >= deadline:
            break
        call()
        latencies.append(clock() - started)
    return len(latencies), latencies


def _pipelined(session, spec):
    """Up to ``window`` calls in flight; each call's latency is from send to its reply."""
    latencies = array.array("d")
    slots, clock, failures = threading.Semaphore(spec["window"]), time.perf_counter, []

    def done(exception, started):
        if exception is not None:
            failures.append(exception)
        else:
            latencies.append(clock() - started)
        slots.release()
    deadline = clock() + spec["duration"]
    while clock() < deadline and not failures:
        slots.acquire()
        started = clock()
        session.call_async(lambda e, s=started: done(e, s))
    for _ in range(spec["window"]):
        slots.acquire()
    if failures:
        raise failures[0]
    return len(latencies), latencies


def failover(cluster, bootstrap, method, signum, trials, on_trial=None):
    """Seconds from ``signum`` to the leader to the next acknowledged write, per trial; the
    node is brought back (SIGCONT, or a restart from its data dir) between trials."""
    from concoord.client.proxy import ClientProxy
    times = []
    for trial in range(trials):
        proxy = ClientProxy(bootstrap, timeout=30)
        try:
            for _ in range(20):
                proxy._invoke(method)
            leader = cluster.leader()
            started = time.monotonic()
            cluster.signal(leader, signum)
            proxy._invoke(method)
            times.append(time.monotonic() - started)
        finally:
            proxy.close()
        if signum == signal.SIGSTOP:
            cluster.signal(leader, signal.SIGCONT)
            cluster.wait_converged()
        else:
            cluster.restart(leader)
            if cluster.layout == "colocated":
                # Its acceptor restarted too, and promises no new leader for MAX_LEASE
                # (leases it granted before the kill are forgotten): the next trial would
                # time that wait, not a failover.
                time.sleep(MAX_LEASE)
        if on_trial is not None:
            on_trial(trial + 1, times[-1])
    return times


def summarize(operations, latencies, duration):
    """ops/s and latency percentiles (ms) of one workload."""
    def percentile(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1e3
    if not latencies:
        raise ConcoordError("bench: no call completed")
    return {"operations": operations, "ops_per_second": operations / duration,
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99),
            "mean_ms": statistics.fmean(latencies) * 1e3}


def summarize_failover(kill_times, stop_times):
    def stats(times):
        ordered = sorted(times)
        return {"median_s": statistics.median(ordered),
                "p90_s": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
                "p99_s": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
                "trials": ordered}
    return {"kill": stats(kill_times), "stop": stats(stop_times)}


def median_of_runs(runs):
    """One measurement from ``runs`` of them (the _run_all dicts of commands.py): the median of
    each figure, W5's trials pooled, the W2 sweep's median per client count; the latency CDFs
    are the last run's (a CDF has no median)."""
    if len(runs) == 1:
        return runs[0]
    last = runs[-1]
    results = {}
    for name, result in last["results"].items():
        if name == "W5":
            results[name] = summarize_failover(
                [t for run in runs for t in run["results"][name]["kill"]["trials"]],
                [t for run in runs for t in run["results"][name]["stop"]["trials"]])
        else:
            results[name] = {key: statistics.median(run["results"][name][key] for run in runs)
                             for key in result}
    sweep = [(clients, statistics.median(run["sweep"][i][1] for run in runs))
             for i, (clients, _) in enumerate(last["sweep"])]
    return dict(last, results=results, sweep=sweep)
