"""Loading the user's class for a replica: every way it can go wrong gives one clear line."""

import os
import sys
import textwrap

import pytest

from concoord.codegen.loader import MODULE_PREFIX, load_class
from concoord.errors import ObjectLoadError


def _write(directory, name, body):
    path = directory / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def _error(**kwargs):
    with pytest.raises(ObjectLoadError) as caught:
        load_class(**kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_loads_a_class_from_a_path(tmp_path, readme_counter):
    path = _write(tmp_path, "counter.py", readme_counter)
    counter = load_class(path, "Counter")()
    counter.increment()
    assert counter.getvalue() == 1
    assert type(counter).__module__ == MODULE_PREFIX + "counter"


def test_a_bare_file_name_is_found_on_sys_path(tmp_path, monkeypatch, readme_counter):
    _write(tmp_path, "counter.py", readme_counter)
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_class("counter.py", "Counter").__name__ == "Counter"


def test_the_object_can_import_modules_beside_it(tmp_path):
    _write(tmp_path, "cghelper_mod.py", "START = 7\n")
    path = _write(tmp_path, "obj.py", """\
        from cghelper_mod import START
        class Obj:
            def __init__(self):
                self.value = START
    """)
    before = list(sys.path)
    assert load_class(path, "Obj")().value == 7
    assert sys.path == before


def test_a_file_named_like_a_stdlib_module_does_not_shadow_it(tmp_path):
    import queue
    path = _write(tmp_path, "queue.py", "class Queue:\n    pass\n")
    assert load_class(path, "Queue") is not queue.Queue
    assert sys.modules["queue"] is queue


def test_loads_a_dotted_name(tmp_path, monkeypatch):
    package = tmp_path / "cgpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    _write(package, "things.py", "class Thing:\n    def __init__(self, size=1):\n        pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_class(dotted="cgpkg.things.Thing").__name__ == "Thing"


def test_missing_file_with_a_directory(tmp_path):
    path = str(tmp_path / "nope.py")
    assert _error(path=path, class_name="C") == f"object file '{path}' not found"


def test_missing_bare_file_names_the_places_searched(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "sub"))
    (tmp_path / "sub").mkdir()
    message = _error(path="cg_missing.py", class_name="C")
    assert message.startswith(f"object file 'cg_missing.py' not found (looked in: {tmp_path}, ")
    assert str(tmp_path / "sub") in message


def test_a_directory_is_not_an_object_file(tmp_path):
    message = _error(path=str(tmp_path), class_name="C")
    assert message == f"object file '{tmp_path}' is a directory, not a Python file"


def test_syntax_error_names_file_and_line(tmp_path):
    path = _write(tmp_path, "bad.py", "class A:\n    def f(self):\n        return (\n")
    assert _error(path=path, class_name="A").startswith(f"{path}:3: syntax error: ")


def test_import_error_inside_the_module(tmp_path):
    path = _write(tmp_path, "obj.py", "import math\nimport cg_no_such_module\nclass A:\n    pass\n")
    assert _error(path=path, class_name="A") == (
        f"importing {path} failed: ModuleNotFoundError: No module named 'cg_no_such_module' "
        f"(at {path}:2)")


def test_any_exception_while_importing(tmp_path):
    path = _write(tmp_path, "obj.py", "X = 1\nY = 1 / 0\n")
    assert _error(path=path, class_name="A") == (
        f"importing {path} failed: ZeroDivisionError: division by zero (at {path}:2)")
    assert MODULE_PREFIX + "obj" not in sys.modules


def test_class_not_found_lists_the_classes_defined_there(tmp_path):
    source = "from collections import OrderedDict\nclass A: pass\nclass B: pass\n"
    path = _write(tmp_path, "obj.py", source)
    assert _error(path=path, class_name="C") == f"class 'C' not found in {path} (it defines: A, B)"


def test_class_not_found_in_a_module_without_classes(tmp_path):
    path = _write(tmp_path, "obj.py", "x = 1\n")
    expected = f"class 'C' not found in {path} (it defines no classes)"
    assert _error(path=path, class_name="C") == expected


def test_not_a_class(tmp_path):
    path = _write(tmp_path, "obj.py", "def Counter():\n    pass\n")
    expected = f"'Counter' in {path} is a function, not a class"
    assert _error(path=path, class_name="Counter") == expected


def test_class_needing_constructor_arguments(tmp_path):
    path = _write(tmp_path, "obj.py", """\
        class Account:
            def __init__(self, owner, balance=0, *rest, currency, **extra):
                pass
    """)
    assert _error(path=path, class_name="Account") == (
        "class Account cannot be constructed with no arguments: __init__ requires owner, currency "
        "(replicas create the object as Account(); use __concoordinit__ to set it up)")


def test_neither_or_both_forms_is_an_error():
    assert _error().startswith("name the object as a file and a class (-f FILE -c CLASS)")
    assert _error(path="a.py").startswith("name the object")
    assert _error(path="a.py", class_name="A", dotted="m.A").startswith("name the object")


def test_dotted_name_needs_a_module():
    assert _error(dotted="Counter") == "'Counter' is not of the form package.module.Class"


def test_dotted_module_not_found():
    assert _error(dotted="cg_nopkg.mod.Thing") == (
        "module 'cg_nopkg.mod' not found (from 'cg_nopkg.mod.Thing'; is it on PYTHONPATH?)")


def test_dotted_module_failing_to_import(tmp_path, monkeypatch):
    _write(tmp_path, "cg_broken_mod.py", "import cg_also_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = os.path.join(str(tmp_path), "cg_broken_mod.py")
    assert _error(dotted="cg_broken_mod.Thing") == (
        f"importing {path} failed: ModuleNotFoundError: No module named 'cg_also_missing' "
        f"(at {path}:1)")


def test_dotted_class_not_found(tmp_path, monkeypatch):
    _write(tmp_path, "cg_mod_with_a.py", "class A:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _error(dotted="cg_mod_with_a.Z") == (
        "class 'Z' not found in module 'cg_mod_with_a' (it defines: A)")
