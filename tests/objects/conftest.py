"""Fixtures for the object library's tests: real clusters of `concoord` processes.

``object_cluster("lock")`` starts (once per test session, then shares) one replica and one
acceptor serving ``concoord/objects/lock.py``; tests reset the object with ``__concoordinit__``.
``harness`` is a fresh harness per test, for tests that kill processes or need several replicas.
Node logs are attached to the report of a failed test.
"""

import os

import pytest

import concoord.objects
from tests.integration.harness import Harness

OBJECTS_DIR = os.path.dirname(os.path.abspath(concoord.objects.__file__))

CLASS_NAMES = {
    "counter": "Counter", "lock": "Lock", "rlock": "RLock", "semaphore": "Semaphore",
    "bounded_semaphore": "BoundedSemaphore", "condition": "Condition", "barrier": "Barrier",
    "event": "Event", "queue": "Queue", "stack": "Stack", "log": "Log",
    "membership": "Membership", "bank": "Bank", "binary_tree": "BinaryTree",
    "job_manager": "JobManager", "dictionary": "Dictionary",
}


def object_path(module):
    return os.path.join(OBJECTS_DIR, module + ".py")


class SharedClusters:
    """One running cluster per library object, started on first use."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self._clusters = {}
        self.harnesses = []

    def __call__(self, module):
        if module not in self._clusters:
            harness = Harness(self._tmp.mktemp(f"cluster-{module}"))
            self.harnesses.append(harness)
            replicas, _ = harness.start_cluster(1, 1, object_file=object_path(module),
                                                class_name=CLASS_NAMES[module])
            self._clusters[module] = (harness, replicas[0].address)
        return self._clusters[module][1]

    def logs(self):
        return "\n".join(h.logs() for h in self.harnesses)

    def close(self):
        for harness in self.harnesses:
            harness.close()


@pytest.fixture(scope="session")
def object_cluster(tmp_path_factory):
    """``object_cluster(module)`` -> the bootstrap address of a cluster serving that object."""
    clusters = SharedClusters(tmp_path_factory)
    yield clusters
    clusters.close()


@pytest.fixture
def harness(request, tmp_path):
    h = Harness(tmp_path)
    request.node._concoord_harness = h
    request.addfinalizer(h.close)
    return h


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.failed and report.when in ("setup", "call")):
        return
    harness = getattr(item, "_concoord_harness", None)
    if harness is not None:
        report.sections.append(("concoord node logs", harness.logs()))
    clusters = item.funcargs.get("object_cluster") if hasattr(item, "funcargs") else None
    if clusters is not None:
        report.sections.append(("shared cluster logs", clusters.logs()))
