"""Run one scenario against the standard library and against ConCoord, and compare.

A scenario is a list of actors: module-level functions (see actors.py) that each get the
object, start at a fixed offset from a common start time, and return a value or raise. It is
run first with the standard object (``threading.Lock()``, ``queue.Queue()``...), one thread per
actor, which gives the expected outcome; then with the ConCoord object of a real cluster, in
one of three ways:

- ``shared``: one proxy, one thread per actor (the README allows sharing a proxy);
- ``own``: one thread and one proxy per actor;
- ``process``: one process and one proxy per actor.

Every actor must end the same way (same value, or same exception type) on both sides, and end
at about the same time: not before the standard one (less a little) and at most TIME_SLACK
seconds after it. Offsets are tenths of seconds apart: the machine is small and shared, so no
scenario relies on tight timing.
"""

import importlib
import multiprocessing
import queue
import threading
import time
import traceback
from typing import Any, Callable, Dict, NamedTuple

from concoord.wire.exception_types import exception_name

MODES = ("shared", "own", "process")
TIME_SLACK = 1.0          # how much later than the standard object a ConCoord actor may end
EARLY_SLACK = 0.1         # how much earlier (timers of two machines' worth of threads differ)
THREAD_LEAD = 0.3         # from the start of the threads to the scenario's time 0
PROCESS_LEAD = 3.0        # processes need to start, import and connect first
PROXY_TIMEOUT = 30.0

# kind -> (the standard factory, the ConCoord proxy module and class, its cluster module)
KINDS = {
    "Lock": (threading.Lock, "concoord.proxy.lock", "Lock", "lock"),
    "RLock": (threading.RLock, "concoord.proxy.rlock", "RLock", "rlock"),
    "Semaphore": (threading.Semaphore, "concoord.proxy.semaphore", "Semaphore", "semaphore"),
    "BoundedSemaphore": (threading.BoundedSemaphore, "concoord.proxy.bounded_semaphore",
                         "BoundedSemaphore", "bounded_semaphore"),
    "Condition": (threading.Condition, "concoord.proxy.condition", "Condition", "condition"),
    "Barrier": (threading.Barrier, "concoord.proxy.barrier", "Barrier", "barrier"),
    "Event": (threading.Event, "concoord.proxy.event", "Event", "event"),
    "Queue": (queue.Queue, "concoord.proxy.queue", "Queue", "queue"),
}


class Actor(NamedTuple):
    function: Callable
    at: float = 0.0                     # seconds after the scenario's time 0
    kwargs: Dict[str, Any] = {}


def actor(function, at=0.0, **kwargs):
    return Actor(function, at, kwargs)


class Ending(NamedTuple):
    outcome: tuple          # ("ok", value) or ("raised", exception type name)
    ended: float            # seconds after the scenario's time 0


def new_proxy(kind, bootstrap):
    _, module, class_name, _ = KINDS[kind]
    proxy_class = getattr(importlib.import_module(module), class_name)
    return proxy_class(bootstrap, timeout=PROXY_TIMEOUT)


def play(function, obj, start, at, kwargs):
    """Run one actor: wait for its moment, call it, describe how it ended."""
    time.sleep(max(0.0, start + at - time.time()))
    try:
        outcome = ("ok", function(obj, **kwargs))
    except Exception as exc:
        outcome = ("raised", exception_name(type(exc)))
    return Ending(outcome, round(time.time() - start, 3))


def _in_thread(results, index, obj_for, start, scene):
    obj, close = obj_for()
    try:
        results[index] = play(scene.function, obj, start, scene.at, scene.kwargs)
    except BaseException:
        results[index] = Ending(("harness error", traceback.format_exc()), 0.0)
    finally:
        close()


def _in_process(kind, bootstrap, start, scene, pipe):
    """A child process: its own proxy, its actor, the ending sent back."""
    proxy = new_proxy(kind, bootstrap)
    try:
        pipe.send(play(scene.function, proxy, start, scene.at, scene.kwargs))
    finally:
        proxy.close()


class World:
    """Runs scenarios in one mode against the clusters of ``object_cluster``."""

    def __init__(self, mode, object_cluster):
        self.mode = mode
        self.object_cluster = object_cluster

    def check(self, kind, actors, *args, **kwargs):
        """Run ``actors`` on ``kind(*args, **kwargs)`` both ways; returns the standard endings
        (scenarios may check more of them)."""
        expected = run_standard(kind, actors, args, kwargs)
        actual = self.run(kind, actors, args, kwargs)
        compare(expected, actual)
        return expected

    def run(self, kind, actors, args=(), kwargs=None):
        bootstrap = self.object_cluster(KINDS[kind][3])
        control = new_proxy(kind, bootstrap)
        try:
            control.__concoordinit__(*args, **(kwargs or {}))   # a fresh object
            if self.mode == "process":
                return _run_processes(kind, bootstrap, actors)
            if self.mode == "shared":
                return _run_threads(actors, lambda: (control, lambda: None))
            return _run_threads(actors, lambda: _own_proxy(kind, bootstrap))
        finally:
            control.close()


def _own_proxy(kind, bootstrap):
    proxy = new_proxy(kind, bootstrap)
    return proxy, proxy.close


def run_standard(kind, actors, args=(), kwargs=None):
    obj = KINDS[kind][0](*args, **(kwargs or {}))
    return _run_threads(actors, lambda: (obj, lambda: None))


def _run_threads(actors, obj_for):
    results = [None] * len(actors)
    start = time.time() + THREAD_LEAD
    threads = [threading.Thread(target=_in_thread, args=(results, i, obj_for, start, scene),
                                daemon=True)
               for i, scene in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(r is not None for r in results), f"actors never ended: {results}"
    return results


def _run_processes(kind, bootstrap, actors):
    context = multiprocessing.get_context("spawn")
    start = time.time() + PROCESS_LEAD
    children = []
    for scene in actors:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_in_process, args=(kind, bootstrap, start, scene, send),
                                  daemon=True)
        process.start()
        children.append((process, receive))
    results = []
    for process, receive in children:
        if not receive.poll(60):
            process.kill()
            raise AssertionError("an actor process never reported")
        results.append(receive.recv())
        process.join(10)
    return results


def compare(expected, actual):
    """Same outcomes, and each actor ends at about the same time on both sides."""
    assert [e.outcome for e in actual] == [e.outcome for e in expected], \
        f"\nstandard: {expected}\nconcoord: {actual}"
    for index, (want, got) in enumerate(zip(expected, actual)):
        assert want.ended - EARLY_SLACK <= got.ended <= want.ended + TIME_SLACK, \
            f"actor {index} ended at {got.ended}s, the standard one at {want.ended}s"
