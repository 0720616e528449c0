"""Client load that records its history, for tests that break a real instance while it works.

Each client is a process of its own running the README's Counter through a RecordingProxy:
mostly increments, now and then a read, every call recorded (ok, raised, or unknown when no
answer came in time) in its own JSON-lines file. ``check`` merges the files, adds a final read
after the instance has healed, and runs the linearizability checker with the Counter class as
the model: every acknowledged increment must be in the final value, a value never read twice
the same way out of order, and unknown calls may count or not.
"""

import multiprocessing
import pathlib
import time

from concoord.checker import OK, UNKNOWN, HistoryWriter, RecordingProxy, check, load_history
from concoord.objects.counter import Counter

CALL_TIMEOUT = 15.0      # long: every unknown outcome multiplies the checker's search
READ_EVERY = 5


def _client(bootstrap, path, process, stop, attempt_timeout, pause):
    from concoord.client.proxy import ClientProxy
    from concoord.errors import ConcoordError
    with HistoryWriter(path, process=process) as writer:
        def connect():
            return ClientProxy(bootstrap, timeout=CALL_TIMEOUT, attempt_timeout=attempt_timeout)
        proxy, calls = connect(), 0
        counter = RecordingProxy(proxy, writer)
        while not stop.is_set():
            calls += 1
            try:
                if calls % READ_EVERY == 0:
                    counter.getvalue()
                else:
                    counter.increment()
            except ConcoordError:
                time.sleep(0.05)       # recorded as unknown; the instance may be down
            except RuntimeError as exc:
                # The instance expired this client's session (recorded as failed: refused
                # calls never run); like any client, start a new one.
                assert getattr(exc, "concoord_refused", False), exc
                print(f"{process}: {exc}; opening a new session", flush=True)
                proxy.close()
                proxy = connect()
                counter = RecordingProxy(proxy, writer)
            if pause:
                stop.wait(pause)
        proxy.close()


class Load:
    """``clients`` recording client processes against ``bootstrap`` (a list of addresses)."""

    def __init__(self, bootstrap, directory, clients=3, attempt_timeout=0.5, pause=0.0):
        self.directory = pathlib.Path(directory)
        self.bootstrap = ",".join(bootstrap)
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self.paths = [self.directory / f"history-{i}.jsonl" for i in range(clients)]
        self._procs = [context.Process(target=_client, daemon=True, args=(
            self.bootstrap, str(path), f"client-{i}", self._stop, attempt_timeout, pause))
            for i, path in enumerate(self.paths)]

    def __enter__(self):
        for proc in self._procs:
            proc.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def acknowledged(self):
        """Calls answered so far (counted in the history files as they grow)."""
        return sum(path.read_text().count('"event":"ok"') for path in self.paths
                   if path.exists())

    def wait_for(self, acknowledged, timeout=30.0):
        """Until at least ``acknowledged`` more calls than now were answered."""
        target = self.acknowledged() + acknowledged
        deadline = time.monotonic() + timeout
        while self.acknowledged() < target:
            assert time.monotonic() < deadline, f"the load made no progress for {timeout:g} s"
            time.sleep(0.2)

    def stop(self):
        self._stop.set()
        for proc in self._procs:
            proc.join(CALL_TIMEOUT + 10)
            if proc.is_alive():
                proc.kill()

    def check(self, bootstrap):
        """Stop the load, read the final value once more, and check the whole history."""
        self.stop()
        final = self.directory / "history-final.jsonl"
        from concoord.client.proxy import ClientProxy
        with HistoryWriter(final, process="final") as writer:
            proxy = ClientProxy(",".join(bootstrap), timeout=CALL_TIMEOUT)
            value = RecordingProxy(proxy, writer).getvalue()
            proxy.close()
        history = load_history(self.paths + [final])
        result = check(history, Counter)
        assert result.ok, result.explain()
        acknowledged = history.count(OK, "increment")
        unknown = history.count(UNKNOWN, "increment")
        assert acknowledged <= value <= acknowledged + unknown, (acknowledged, value, unknown)
        return history, value
