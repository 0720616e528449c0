"""A legitimate client that keeps calling the object while an attack runs.

Its latencies are reported, never asserted (the test machine is shared and slow): the tests
assert only that its calls succeed. With $CONCOORD_LATENCY_LOG set, one summary line per attack
is appended to that file (for the security report).
"""

import os
import statistics
import threading
import time

from concoord.client.proxy import ClientProxy

PAUSE = 0.05      # between two calls: a steady probe, not a load of its own
MIN_CALLS = 10    # calls measured at least (a short attack is over before they are)


class LatencyProbe:
    def __init__(self, address, secret, label, method="getvalue", fresh=False,
                 session_lease=5.0):
        """``fresh``: every call from a new proxy (a new connection and handshake), as a
        client that arrives during the attack."""
        self.label = label
        self._address, self._secret = address, secret
        self._proxy = ClientProxy(address, timeout=60, secret=secret, session_lease=session_lease)
        self._method = method
        self._fresh = fresh
        self.latencies, self.errors = [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._proxy._invoke(self._method)      # connected before the attack starts
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        deadline = time.monotonic() + 120
        while (len(self.latencies) + len(self.errors) < MIN_CALLS
               and time.monotonic() < deadline and self._thread.is_alive()):
            time.sleep(PAUSE)
        self._stop.set()
        self._thread.join(120)
        self._proxy.close()
        self._report()

    def _run(self):
        while not self._stop.wait(PAUSE):
            started = time.monotonic()
            try:
                self._call()
            except Exception as exc:   # reported and asserted on by the test
                self.errors.append(repr(exc))
                continue
            self.latencies.append(time.monotonic() - started)

    def _call(self):
        if not self._fresh:
            return self._proxy._invoke(self._method)
        with ClientProxy(self._address, timeout=60, secret=self._secret,
                         session_lease=None) as proxy:
            return proxy._invoke(self._method)

    def summary(self):
        if not self.latencies:
            return f"{self.label}: no successful call, errors {self.errors[:3]}"
        ms = sorted(1000 * s for s in self.latencies)
        return (f"{self.label}: {len(ms)} calls, {len(self.errors)} errors, median "
                f"{statistics.median(ms):.1f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.1f} ms, "
                f"max {ms[-1]:.1f} ms" + (f", errors {self.errors[:3]}" if self.errors else ""))

    def _report(self):
        line = self.summary()
        print(line)
        path = os.environ.get("CONCOORD_LATENCY_LOG")
        if path:
            with open(path, "a") as f:
                f.write(line + "\n")

    def assert_served(self):
        assert self.latencies and not self.errors, self.summary()
