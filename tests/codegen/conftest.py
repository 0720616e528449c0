"""Shared helpers for the code generator tests.

The generated proxy imports ``concoord.client.proxy.ClientProxy``. These unit tests replace that
module with a recording stub (through ``sys.modules``) so they check exactly what the generated
methods hand to ``_invoke``, independently of the real client.
"""

import pathlib
import sys
import textwrap
import types

import pytest

# No project-wide pytest configuration puts the repository on sys.path yet; until one does, make
# `import concoord` work for `pytest tests/codegen` run from anywhere.
_REPO = str(pathlib.Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

# The README's example object, as a user would save it in /foo/counter.py.
README_COUNTER = textwrap.dedent('''\
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
''')


class RecordingClientProxy:
    """Stands in for ClientProxy: remembers the constructor arguments and every _invoke."""

    def __init__(self, bootstrap, **options):
        self.bootstrap = bootstrap
        self.options = options
        self.calls = []

    def _invoke(self, method_name, args, kwargs):
        self.calls.append((method_name, args, kwargs))
        return ("remote", method_name)


@pytest.fixture
def readme_counter():
    """The README's Counter source."""
    return README_COUNTER


@pytest.fixture
def stub_client_proxy(monkeypatch):
    """Install the recording ClientProxy as ``concoord.client.proxy`` for this test."""
    module = types.ModuleType("concoord.client.proxy")
    module.ClientProxy = RecordingClientProxy
    monkeypatch.setitem(sys.modules, "concoord.client.proxy", module)
    return RecordingClientProxy


@pytest.fixture
def exec_proxy(stub_client_proxy):
    """exec a generated proxy module in a fresh namespace and return that namespace."""

    def run(text, filename="<proxy>"):
        namespace = {"__name__": "generated_proxy"}
        exec(compile(text, filename, "exec"), namespace)
        return namespace

    return run
