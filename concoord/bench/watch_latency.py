"""W6: how long a watcher waits for a change, from the moment a client starts the write that
makes it (the write's own round trip included) until the watcher's callback runs.

A watcher process follows the counter (ConCoord: proxy.watch of the read method, a
@concoord.readonly one; etcd: a watch on the counter key) while this process writes
sequentially for ``duration`` seconds; both read CLOCK_MONOTONIC, which is one clock for every
process of the host. Each write moves the counter by one, so the value after the i-th write
names which write a notification belongs to. (ZooKeeper's watches fire once and must be set
again, so they may miss values: no W6 for it.)
"""

import multiprocessing
import queue
import time

from concoord.errors import ConcoordError

START_TIMEOUT = 30.0


def measure(client, duration):
    """Sorted latencies in seconds, one per write whose change the watcher saw. ``client``:
    a concoord.bench.sessions spec ("system", and "bootstrap", "method" and "read_method" for
    ConCoord or "endpoint" for etcd)."""
    context = multiprocessing.get_context("spawn")
    started, results, stop = context.Queue(), context.Queue(), context.Event()
    watcher = context.Process(target=_watch, args=(client, started, results, stop),
                              daemon=True)
    watcher.start()
    try:
        base = started.get(timeout=START_TIMEOUT)
        if isinstance(base, str):
            raise ConcoordError(f"bench: W6 watcher failed: {base}")
        writes = _write(client, duration)
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


def _write(client, duration):
    from concoord.bench.sessions import connect
    session = connect(dict(client, op="write"))
    starts, deadline = [], time.monotonic() + duration
    try:
        while time.monotonic() < deadline:
            starts.append(time.monotonic())
            session.call()
    finally:
        session.close()
    return starts


def _watch(client, started, results, stop):
    """The watcher process: {counter value: monotonic time its change arrived}."""
    try:
        seen = {}
        watch = (_watch_etcd if client["system"] == "etcd" else _watch_concoord)(client, seen,
                                                                              started)
        stop.wait()
        watch()
        results.put(seen)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        started.put(f"{type(exc).__name__}: {exc}")
        results.put(f"{type(exc).__name__}: {exc}")


def _watch_concoord(client, seen, started):
    """Follow the read method; the first change says where the counter starts. Returns the
    function that ends the watch."""
    from concoord.client.proxy import ClientProxy
    proxy = ClientProxy(client["bootstrap"], timeout=30)
    first = []

    def changed(change):
        now = time.monotonic()
        if isinstance(change, BaseException):
            return
        if not first:
            first.append(change.value)
            started.put(change.value)
        seen.setdefault(change.value, now)
    watch = proxy.watch(client["read_method"], callback=changed)
    return lambda: (watch.close(), proxy.close())


def _watch_etcd(client, seen, started):
    """Watch the counter key; the bench's etcd writer counts from 1 (sessions.EtcdSession)."""
    import etcd3
    from concoord.bench.sessions import KEY
    host, port = client["endpoint"].split(":")
    etcd = etcd3.client(host, int(port), timeout=30)

    def changed(response):
        now = time.monotonic()
        for event in getattr(response, "events", ()):
            seen.setdefault(int(event.value), now)
    watch_id = etcd.add_watch_callback(KEY, changed)
    started.put(0)
    return lambda: (etcd.cancel_watch(watch_id), etcd.close())
