"""Record client histories and check them for linearizability against the object's own class.

Record (one file per client process; see recorder.py)::

    writer = HistoryWriter("history-1.jsonl", process="client-1")
    counter = RecordingProxy(ClientProxy("127.0.0.1:14000"), writer)
    counter.increment()

Check (in a test, or ``python -m concoord.checker -f counter.py -c Counter history-*.jsonl``)::

    result = check(load_history(paths), Counter)
    assert result.ok, result.explain()
"""

from concoord.checker.history import (FAIL, OK, RAISED, UNKNOWN, History, HistoryWriter,
                                      Operation, RaisedError, load_history)
from concoord.checker.linearizability import CheckResult, check
from concoord.checker.model import ObjectModel
from concoord.checker.recorder import RecordingProxy

__all__ = ["FAIL", "OK", "RAISED", "UNKNOWN", "CheckResult", "History", "HistoryWriter",
           "ObjectModel", "Operation", "RaisedError", "RecordingProxy", "check", "load_history"]
