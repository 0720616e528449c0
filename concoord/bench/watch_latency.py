"""W6: how long a watcher waits for a change, from the moment a client starts the write that
makes it (the write's own round trip included) until the watcher's callback runs.

A watcher process follows the read method (a @concoord.readonly one) while this process writes
sequentially for ``duration`` seconds; both read CLOCK_MONOTONIC, which is one clock for every
process of the host. Each write moves the result by one (the Counter's increment), so the
result after the i-th write names which write a notification belongs to.
"""

import multiprocessing
import queue
import time

from concoord.errors import ConcoordError

START_TIMEOUT = 30.0


def measure(bootstrap, method, read_method, duration):
    """Sorted latencies in seconds, one per write whose change the watcher saw."""
    context = multiprocessing.get_context("spawn")
    started, results, stop = context.Queue(), context.Queue(), context.Event()
    watcher = context.Process(target=_watch, args=(bootstrap, read_method, started, results,
                                                   stop), daemon=True)
    watcher.start()
    try:
        base = started.get(timeout=START_TIMEOUT)
        if isinstance(base, str):
            raise ConcoordError(f"bench: W6 watcher failed: {base}")
        writes = _write(bootstrap, method, duration)
        time.sleep(0.5)          # the last changes on their way
        stop.set()
        seen = results.get(timeout=START_TIMEOUT)
    except queue.Empty:
        raise ConcoordError("bench: W6 watcher did not answer") from None
    finally:
        watcher.join(5)
        if watcher.is_alive():
            watcher.kill()
    if isinstance(seen, str):
        raise ConcoordError(f"bench: W6 watcher failed: {seen}")
    return sorted(seen[base + i + 1] - start for i, start in enumerate(writes)
                  if base + i + 1 in seen)


def _write(bootstrap, method, duration):
    from concoord.client.proxy import ClientProxy
    proxy = ClientProxy(bootstrap, timeout=30)
    starts, deadline = [], time.monotonic() + duration
    try:
        while time.monotonic() < deadline:
            starts.append(time.monotonic())
            proxy._invoke(method)
    finally:
        proxy.close()
    return starts


def _watch(bootstrap, read_method, started, results, stop):
    """The watcher process: {result: monotonic time its change arrived}."""
    try:
        from concoord.client.proxy import ClientProxy
        proxy = ClientProxy(bootstrap, timeout=30)
        seen, first = {}, []

        def changed(change):
            now = time.monotonic()
            if isinstance(change, BaseException):
                return
            if not first:
                first.append(change.value)
                started.put(change.value)
            seen.setdefault(change.value, now)
        watch = proxy.watch(read_method, callback=changed)
        stop.wait()
        watch.close()
        proxy.close()
        results.put(seen)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        started.put(f"{type(exc).__name__}: {exc}")
        results.put(f"{type(exc).__name__}: {exc}")
