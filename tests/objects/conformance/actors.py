"""What the conformance scenarios' actors do: module-level functions, so that a child process
can run them too. Each takes the object (standard or ConCoord) and plain keyword arguments."""

import time

from concoord.wire.exception_types import exception_name


def steps(obj, steps):
    """Run ``steps`` in order, each ``(name, *args)`` or ``("sleep", seconds)``: a method
    call, or the value of a property; returns each step's outcome, ("ok", value) or
    ("raised", exception type name), and goes on after an exception."""
    outcomes = []
    for name, *args in steps:
        if name == "sleep":
            time.sleep(args[0])
            continue
        try:
            value = getattr(obj, name)
            if callable(value):
                value = value(*args)
            outcomes.append(("ok", _comparable(name, value)))
        except Exception as exc:
            outcomes.append(("raised", exception_name(type(exc))))
    return outcomes


def _comparable(name, value):
    """ConCoord's Lock/RLock acquire() returns a fencing token where threading returns True
    (documented); both are true, and that is what is compared."""
    if name == "acquire" and type(value) is int:
        return True
    return value


def inside_with(obj):
    """``with obj:`` then whether the object is locked inside."""
    with obj:
        inside = obj.locked()
    return inside, obj.locked()


class Countdown:
    """A predicate that is true from its n-th call on (a local predicate, as wait_for's are)."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self):
        self.calls += 1
        return self.calls >= self.n


def wait_for(obj, true_on_call, timeout=None):
    """Condition.wait_for with a predicate that becomes true on its ``true_on_call``-th call:
    (the result, how many times the predicate ran, whether the lock is held after)."""
    predicate = Countdown(true_on_call)
    with obj:
        result = obj.wait_for(predicate, timeout)
        return result, predicate.calls


def _in_threads(n, function):
    """Run ``function(index)`` in n threads started together; their results, in index order."""
    import threading
    results = [None] * n
    start = threading.Barrier(n)

    def run(index):
        start.wait()
        results[index] = function(index)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def try_at_once(obj, threads):
    """``threads`` threads of this actor (sharing its object) try acquire(False) together:
    how many got it, and how many did not."""
    got = _in_threads(threads, lambda _: bool(obj.acquire(False)))
    return got.count(True), got.count(False)


def exclusive_increments(obj, threads, rounds):
    """``threads`` threads of this actor each enter ``with obj:`` ``rounds`` times and count:
    (entries, the most threads ever inside at once)."""
    import threading
    guard = threading.Lock()      # protects the counters, not the critical section
    state = {"inside": 0, "most": 0, "entries": 0}

    def run(_):
        for _ in range(rounds):
            with obj:
                with guard:
                    state["inside"] += 1
                    state["most"] = max(state["most"], state["inside"])
                time.sleep(0.01)
                with guard:
                    state["inside"] -= 1
                    state["entries"] += 1
    _in_threads(threads, run)
    return state["entries"], state["most"]
