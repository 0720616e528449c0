"""Fixtures for the integration tests: a Harness per test, its processes stopped afterwards and
their logs attached to the report of a failed test."""

import pytest

from tests.integration.harness import Harness

README_COUNTER = '''\
class Counter():
    def __init__(self):
        self.value = 0

    def decrement(self):
        self.value -= 1

    def increment(self):
        self.value += 1

    def getvalue(self):
        return self.value

    def __str__(self):
        return "The counter value is %d" % self.value
'''


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    harness = getattr(item, "_concoord_harness", None)
    if harness is not None and report.failed and report.when in ("setup", "call"):
        report.sections.append(("concoord node logs", harness.logs()))


@pytest.fixture
def harness(request, tmp_path):
    """A Harness working in a fresh temporary directory; everything it started is stopped."""
    h = Harness(tmp_path)
    request.node._concoord_harness = h
    request.addfinalizer(h.close)
    return h


@pytest.fixture
def counter_harness(harness):
    """A harness with the README's Counter concoordified as counter.py / counterproxy.py."""
    harness.write_object(README_COUNTER, "counter.py", "Counter")
    return harness
