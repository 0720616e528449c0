"""Client histories: what each client asked for, when, and what came of it.

A history is a list of operations. Each has the process that issued it (a client process or
thread: one operation at a time), the method and arguments, the monotonic times at which it was
invoked and completed, and an outcome:

``ok``       completed; ``value`` is what the method returned.
``raised``   completed; the object raised ``value`` (a RaisedError). The call went through the
             log, so its effect on the object counts like any other completed call.
``fail``     definitely never took effect (refused before it was sent); the checker ignores it.
``unknown``  no answer (timeout, the client died): it may take effect at any time after its
             invocation, or never. Its ``complete`` is None.

Recording is crash-tolerant: a HistoryWriter appends one JSON line per event (the invocation
before the request leaves, the completion after the reply arrives) and flushes each, so the
history of a client process killed mid-call still says the call was invoked, and the operation
loads as ``unknown``. Each client process writes its own file; ``load_history(paths)`` merges
them. Times come from ``time.monotonic()``, which on Linux is one clock for every process on a
machine, so files written on the same machine merge into one real-time order (files from
different machines do not).
"""

import dataclasses
import json
import threading
import time

from concoord.checker.jsonvalues import from_json, to_json

OK, RAISED, FAIL, UNKNOWN = "ok", "raised", "fail", "unknown"
OUTCOMES = (OK, RAISED, FAIL, UNKNOWN)


@dataclasses.dataclass(frozen=True)
class RaisedError:
    """An exception the replicated object raised: its class name and arguments."""
    type_name: str
    args: tuple = ()

    def __repr__(self):
        return f"{self.type_name}{self.args!r}"


@dataclasses.dataclass
class Operation:
    process: str
    method: str
    args: tuple
    kwargs: dict
    invoke: float
    complete: float = None     # None: the outcome is unknown
    outcome: str = UNKNOWN
    value: object = None
    seq: int = 0               # the process's own numbering, to pair events
    note: str = ""             # why it failed or is unknown
    index: int = -1            # position in the merged history (set by History)

    def describe(self):
        call = ", ".join([repr(a) for a in self.args] +
                         [f"{k}={v!r}" for k, v in self.kwargs.items()])
        text = f"#{self.index} process {self.process}: {self.method}({call})"
        if self.outcome == OK:
            text += f" -> {self.value!r}"
        elif self.outcome == RAISED:
            text += f" raised {self.value!r}"
        else:
            text += f" [{self.outcome}{': ' + self.note if self.note else ''}]"
        end = "?" if self.complete is None else f"{self.complete:.6f}"
        return f"{text}  (invoked {self.invoke:.6f}, completed {end})"


class History:
    """Operations, numbered in invocation order."""

    def __init__(self, operations=()):
        self.operations = sorted(operations, key=lambda op: (op.invoke, op.process, op.seq))
        for index, op in enumerate(self.operations):
            op.index = index

    def __len__(self):
        return len(self.operations)

    def __iter__(self):
        return iter(self.operations)

    def count(self, outcome=None, method=None):
        return sum(1 for op in self.operations
                   if (outcome is None or op.outcome == outcome)
                   and (method is None or op.method == method))

    def summary(self):
        counts = ", ".join(f"{self.count(o)} {o}" for o in OUTCOMES)
        processes = len({op.process for op in self.operations})
        return f"{len(self)} operations from {processes} processes ({counts})"


class HistoryWriter:
    """Appends one process's events to a JSON-lines file (thread-safe; one line per event)."""

    def __init__(self, path, process):
        self.process = str(process)
        self._file = open(path, "a", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()
        self._seq = 0

    def invoke(self, method, args=(), kwargs=None):
        """Record an invocation now (call it before sending); returns its sequence number."""
        with self._lock:
            self._seq += 1
            seq = self._seq
        self._write({"event": "invoke", "seq": seq, "method": method,
                     "args": to_json(tuple(args)), "kwargs": to_json(dict(kwargs or {}))})
        return seq

    def ok(self, seq, value):
        self._write({"event": OK, "seq": seq, "value": to_json(value)})

    def raised(self, seq, type_name, args=()):
        self._write({"event": RAISED, "seq": seq, "type": type_name, "args": to_json(tuple(args))})

    def fail(self, seq, reason=""):
        self._write({"event": FAIL, "seq": seq, "reason": str(reason)})

    def unknown(self, seq, reason=""):
        self._write({"event": UNKNOWN, "seq": seq, "reason": str(reason)})

    def close(self):
        with self._lock:
            self._file.close()

    def _write(self, record):
        record["time"] = time.monotonic()
        record["process"] = self.process
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)   # line-buffered: in the kernel before the call returns

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def load_history(paths):
    """Merge the JSON-lines files at ``paths`` into one History (see the module docstring)."""
    if isinstance(paths, str):
        paths = [paths]
    events = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            events.extend(_parse_lines(f, path))
    return History(operations_from_events(events))


def _parse_lines(lines, where):
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            if not line.endswith("\n"):
                return   # a writer killed mid-line: everything before it is whole
            raise ValueError(f"{where}:{number}: not a JSON history event") from None


def operations_from_events(events):
    """Pair each invocation with its completion by (process, seq)."""
    operations = {}
    for event in events:
        key = (event["process"], event["seq"])
        if event["event"] == "invoke":
            if key in operations:
                raise ValueError(f"process {key[0]} invoked seq {key[1]} twice")
            operations[key] = Operation(
                process=key[0], seq=key[1], method=event["method"],
                args=tuple(from_json(event["args"])), kwargs=from_json(event["kwargs"]),
                invoke=event["time"])
        else:
            _complete(operations, key, event)
    return list(operations.values())


def _complete(operations, key, event):
    op = operations.get(key)
    if op is None:
        raise ValueError(f"process {key[0]} completed seq {key[1]} it never invoked")
    kind = event["event"]
    if kind not in OUTCOMES:
        raise ValueError(f"unknown history event {kind!r}")
    op.outcome = kind
    op.note = event.get("reason", "")
    if kind == OK:
        op.value, op.complete = from_json(event["value"]), event["time"]
    elif kind == RAISED:
        op.value = RaisedError(event["type"], tuple(from_json(event["args"])))
        op.complete = event["time"]
    elif kind == FAIL:
        op.complete = event["time"]
