"""The fixer pass that makes clock and random calls replicated, and what `-s` says about them."""

import ast
import textwrap

import pytest

from concoord import determinism
from concoord.host import call_context
from concoord.codegen.determinize import determinize, rewrites
from concoord.codegen.fixer import TRANSFORM_PASSES, describe_rewrites, generate_fixed
from concoord.codegen.safety import check_safety
from concoord.wire.types import Command


def _fixed(source):
    return generate_fixed(textwrap.dedent(source), "A", "a.py")


def _run(text):
    namespace = {"__name__": "fixed_module"}
    exec(compile(text, "fixed.py", "exec"), namespace)
    return namespace


def _in_call(function, stamp=1234.5, slot=7, number=1):
    """Run ``function`` as a replica runs a method: inside the determinism context."""
    context = call_context.for_command(None, {}, stamp, slot, Command("client", number, "m", b""))
    with call_context.running(context):
        return function()


def test_the_pass_is_registered():
    assert determinize in TRANSFORM_PASSES


@pytest.mark.parametrize("imports, call, replacement", [
    ("import time", "time.time()", "determinism.time()"),
    ("import time as t", "t.time_ns()", "determinism.time_ns()"),
    ("from time import time", "time()", "determinism.time()"),
    ("from time import time as now", "now()", "determinism.time()"),
    ("from time import monotonic", "monotonic()", "determinism.time()"),
    ("import datetime", "datetime.datetime.now()", "determinism.now()"),
    ("import datetime as dt", "dt.datetime.utcnow()", "determinism.utcnow()"),
    ("from datetime import datetime", "datetime.now(tz)", "determinism.now(tz)"),
    ("from datetime import date", "date.today()", "determinism.date_today()"),
    ("import random", "random.random()", "determinism.rng().random()"),
    ("import random as r", "r.randint(1, 6)", "determinism.rng().randint(1, 6)"),
    ("from random import choice", "choice(xs)", "determinism.rng().choice(xs)"),
    ("from random import shuffle as mix", "mix(xs)", "determinism.rng().shuffle(xs)"),
    ("import random", "random.uniform(0, 1)", "determinism.rng().uniform(0, 1)"),
    ("import random", "random.randrange(10)", "determinism.rng().randrange(10)"),
    ("import random", "random.Random()", "determinism.new_rng()"),
    ("import random", "random.Random(5)", "random.Random(5)"),
    ("import uuid", "uuid.uuid4()", "determinism.uuid4()"),
    ("from uuid import uuid4", "uuid4()", "determinism.uuid4()"),
    ("import random", "sorted(xs, key=random.random)",
     "sorted(xs, key=determinism.rng().random)"),
])
def test_every_import_style_is_rewritten(imports, call, replacement):
    text = _fixed(f"""\
        {imports}
        class A:
            def f(self, xs, tz=None):
                return {call}
    """)
    assert f"return {replacement}" in text
    assert ("from concoord import determinism\n" in text) == ("determinism" in replacement)


def test_local_names_that_shadow_an_import_are_left_alone():
    text = _fixed("""\
        from time import time
        import random
        class A:
            time = 5
            def f(self, time):
                return time
            def g(self):
                random = FakeRandom()
                return random.random()
            def h(self):
                return [time for time in range(3)]
            def i(self):
                return time()
    """)
    assert "def f(self, time):\n        return time\n" in text
    assert "return random.random()" in text
    assert "[time for time in range(3)]" in text
    assert "return determinism.time()" in text
    assert "    time = 5\n" in text


def test_a_module_that_uses_the_name_determinism_gets_an_alias():
    text = _fixed("""\
        import time
        determinism = "mine"
        class A:
            def f(self):
                return time.time(), determinism
    """)
    assert "from concoord import determinism as _concoord_determinism" in text
    assert "_concoord_determinism.time()" in text


def test_docstring_and_future_import_stay_first():
    text = _fixed('''\
        """Doc."""
        from __future__ import annotations
        import time
        class A:
            def f(self):
                return time.time()
    ''')
    body = text.split("\n", 2)[2]
    assert body.startswith('"""Doc."""\nfrom __future__ import annotations\n'
                           'from concoord import determinism\n')


def test_fixed_class_is_identical_on_every_replica_and_changes_with_the_command():
    source = """\
        import random, time, uuid
        class A:
            def __init__(self):
                self.created = time.time()
            def f(self):
                return (time.time(), random.random(), random.choice("abcdef"), str(uuid.uuid4()))
    """
    namespace_1, namespace_2 = _run(_fixed(source)), _run(_fixed(source))
    a1, a2 = namespace_1["A"](), namespace_2["A"]()
    assert a1.created == a2.created == determinism.OUTSIDE_TIME   # constructed outside a call
    first, second = _in_call(a1.f), _in_call(a2.f)
    assert first == second and first[0] == 1234.5
    assert _in_call(a1.f, number=2)[1:] != first[1:]


def test_fixed_module_keeps_its_encoding_declaration():
    source = "# -*- coding: latin-1 -*-\nimport time\nclass A:\n    x = time.time\n"
    assert generate_fixed(source, "A", "a.py").splitlines()[0] == "# -*- coding: latin-1 -*-"


def test_rewrites_are_described_one_line_each():
    source = textwrap.dedent("""\
        import time
        from random import random as roll

        class A:
            def f(self):
                return time.time(), roll()
    """)
    assert describe_rewrites(source, "a.py") == [
        "a.py:6: time.time() -> replicated leader time",
        "a.py:6: roll() (random.random) -> replicated random value (seeded by the log)",
    ]
    assert rewrites(ast.parse("class A:\n    pass\n")) == []


def test_concoord_object_prints_the_rewrites(tmp_path):
    from concoord.codegen.concoordify import concoordify
    path = tmp_path / "clock.py"
    path.write_text("import time\nclass Clock:\n    def now(self):\n        return time.time()\n")
    printed = []
    concoordify(str(path), "Clock", safe=True, report=printed.append)
    assert printed == [f"{path}:4: time.time() -> replicated leader time"]
    assert "determinism.time()" in (tmp_path / "clock.pyfixed").read_text()


@pytest.mark.parametrize("body, expected", [
    ("import time\nclass A:\n    def f(self):\n        time.sleep(1)\n",
     "a.py:4: calls 'time.sleep' (sleeping would stall every replica"),
    ("from random import SystemRandom\nx = SystemRandom()\n",
     "a.py:2: calls 'random.SystemRandom' (operating-system randomness"),
    ("import uuid\nx = uuid.uuid1()\n", "a.py:2: calls 'uuid.uuid1' (uuid1 reads"),
    ("import time\nx = time.localtime()\n", "a.py:2: calls 'time.localtime' without a time"),
    ("import time as t\nx = t.strftime('%Y')\n", "a.py:2: calls 'time.strftime' without a time"),
    ("import secrets\n", "a.py:1: imports 'secrets'"),
    ("x = hash('a')\n", "a.py:1: calls 'hash' (its value differs between replica processes"),
    ("x = id(object())\n", "a.py:1: calls 'id' (its value differs"),
])
def test_what_cannot_be_made_deterministic_is_refused(body, expected):
    reasons = check_safety(body, "a.py")
    assert len(reasons) == 1 and reasons[0].startswith(expected), reasons


def test_what_is_rewritten_passes_the_safety_check():
    source = ("import time, random, uuid\nfrom datetime import datetime\n"
              "x = (time.time(), random.random(), uuid.uuid4(), datetime.now(), "
              "time.gmtime(time.time()))\n")
    assert check_safety(source, "a.py") == []
