"""The `-s` safety checker: each forbidden category, with the right line, and the README passes."""

import textwrap

import pytest

from concoord.codegen.safety import FORBIDDEN_MODULES, check_safety
from concoord.errors import ObjectLoadError


def _check(body):
    return check_safety(textwrap.dedent(body), "obj.py")


def test_readme_counter_is_safe(readme_counter):
    assert check_safety(readme_counter, "counter.py") == []


@pytest.mark.parametrize("module", sorted(FORBIDDEN_MODULES))
def test_each_forbidden_import_is_refused(module):
    reasons = _check(f"x = 1\nimport {module}\n")
    assert len(reasons) == 1
    assert reasons[0].startswith(f"obj.py:2: imports '{module}' (")


def test_reason_says_why():
    assert _check("import socket\n") == [
        "obj.py:1: imports 'socket' (network I/O is not allowed in a replicated object)"
    ]


@pytest.mark.parametrize("statement, module", [
    ("import os.path", "os.path"),
    ("from os import path", "os"),
    ("from urllib.request import urlopen", "urllib.request"),
    ("import json, subprocess", "subprocess"),
    ("import concurrent.futures as cf", "concurrent.futures"),
])
def test_nested_and_from_imports(statement, module):
    reasons = _check(statement + "\n")
    assert len(reasons) == 1 and f"obj.py:1: imports '{module}'" in reasons[0]


def test_harmless_imports_pass():
    source = "import math, json, collections\nfrom .helpers import thing\nimport ossify\n"
    assert _check(source) == []


@pytest.mark.parametrize("name", [
    "open", "exec", "eval", "compile", "__import__", "input", "globals", "locals", "vars",
])
def test_each_forbidden_call_is_refused(name):
    source = f"""\
        class A:
            def f(self):
                return {name}('x')
    """
    reasons = _check(source)
    assert len(reasons) == 1 and reasons[0].startswith(f"obj.py:3: calls '{name}' (")


def test_referring_to_a_forbidden_builtin_is_refused_too():
    assert _check("f = eval\n")[0].startswith("obj.py:1: refers to 'eval' (")


def test_a_parameter_named_like_a_builtin_is_not_the_builtin():
    source = """\
        class A:
            def set(self, input):
                self.value = input
    """
    assert _check(source) == []


def test_getattr_with_any_name_is_allowed_but_not_with_an_internal_one():
    assert _check("def f(o, name):\n    return getattr(o, name), setattr(o, 'x', 1)\n") == []
    assert _check("def f(o):\n    return getattr(o, '__globals__')\n") == [
        "obj.py:2: accesses '__globals__' (loading code or reaching interpreter internals "
        "is not allowed in a replicated object)"
    ]


@pytest.mark.parametrize("attribute", ["__subclasses__", "__globals__", "__builtins__", "__code__"])
def test_internal_attributes_are_refused(attribute):
    reasons = _check(f"def f(o):\n    pass\n    return o.{attribute}\n")
    assert len(reasons) == 1 and reasons[0].startswith(f"obj.py:3: accesses '{attribute}' (")


def test_bare_builtins_name_is_refused():
    assert _check("b = __builtins__\n")[0].startswith("obj.py:1: refers to '__builtins__'")


def test_all_reasons_are_reported_in_line_order():
    source = """\
        import math
        class A:
            def f(self):
                return eval(open('x').read())
        import socket
    """
    reasons = _check(source)
    assert [r.split(":")[1] for r in reasons] == ["4", "4", "5"]
    assert any("'eval'" in r for r in reasons) and any("'open'" in r for r in reasons)


def test_unparsable_source_is_an_error():
    with pytest.raises(ObjectLoadError, match=r"^obj.py:1: syntax error"):
        check_safety("def (:\n", "obj.py")


def test_standard_exception_classes_of_forbidden_modules_may_be_imported():
    assert _check("from threading import BrokenBarrierError\n") == []
    reasons = _check("from threading import BrokenBarrierError, Thread\n")
    assert len(reasons) == 1 and "imports 'threading'" in reasons[0]


@pytest.mark.parametrize("module", ["lock", "rlock", "semaphore", "bounded_semaphore",
                                    "condition", "barrier", "event", "queue"])
def test_the_library_objects_are_safe(module):
    import concoord.objects
    path = f"{concoord.objects.__path__[0]}/{module}.py"
    with open(path, encoding="utf-8") as stream:
        assert check_safety(stream.read(), path) == []
