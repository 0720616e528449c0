"""`concoord object`: both files written beside the original, and each way it refuses."""

import textwrap

import pytest

from concoord.codegen.concoordify import concoordify, output_paths
from concoord.codegen.loader import load_class
from concoord.errors import ObjectLoadError


@pytest.fixture
def counter_file(tmp_path, readme_counter):
    path = tmp_path / "counter.py"
    path.write_text(readme_counter)
    return str(path)


def test_writes_pyfixed_and_pyproxy_beside_the_file(counter_file, tmp_path, exec_proxy):
    fixed, proxy = concoordify(counter_file, "Counter", safe=True)
    assert (fixed, proxy) == (str(tmp_path / "counter.pyfixed"), str(tmp_path / "counter.pyproxy"))
    server_counter = load_class(fixed, "Counter")()
    server_counter.increment()
    assert server_counter.getvalue() == 1
    with open(proxy) as stream:
        client = exec_proxy(stream.read(), proxy)["Counter"]("127.0.0.1:14000")
    client.increment()
    assert client.calls == [("increment", (), {})]


def test_output_names():
    assert output_paths("/foo/counter.py") == ("/foo/counter.pyfixed", "/foo/counter.pyproxy")
    assert output_paths("/foo/counter") == ("/foo/counterfixed", "/foo/counterproxy")


def test_a_file_without_py_suffix(tmp_path, readme_counter):
    path = tmp_path / "counter"
    path.write_text(readme_counter)
    fixed, proxy = concoordify(str(path), "Counter")
    assert (tmp_path / "counterfixed").is_file() and (tmp_path / "counterproxy").is_file()
    assert (fixed, proxy) == (str(tmp_path / "counterfixed"), str(tmp_path / "counterproxy"))


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.py")
    with pytest.raises(ObjectLoadError, match=r"^object file '.*nope.py' not found$"):
        concoordify(path, "Counter")


def test_a_directory(tmp_path):
    with pytest.raises(ObjectLoadError, match="is a directory, not a Python file"):
        concoordify(str(tmp_path), "Counter")


def test_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("class Counter:\n    def f(self)\n        pass\n")
    with pytest.raises(ObjectLoadError) as caught:
        concoordify(str(path), "Counter")
    assert str(caught.value).startswith(f"{path}:2: syntax error: ")
    assert list(tmp_path.iterdir()) == [path]


def test_class_not_found_lists_classes(counter_file):
    with pytest.raises(ObjectLoadError) as caught:
        concoordify(counter_file, "Countr")
    assert str(caught.value) == f"class 'Countr' not found in {counter_file} (it defines: Counter)"


def test_safe_mode_refuses_with_every_reason_and_writes_nothing(tmp_path):
    path = tmp_path / "unsafe.py"
    path.write_text(textwrap.dedent("""\
        import socket
        class Unsafe:
            def read(self):
                return open('/etc/passwd').read()
    """))
    with pytest.raises(ObjectLoadError) as caught:
        concoordify(str(path), "Unsafe", safe=True)
    lines = str(caught.value).splitlines()
    summary = f"{path} is not safe to replicate (2 problems; run without -s to skip this check):"
    assert lines[0] == summary
    assert lines[1].startswith(f"{path}:1: imports 'socket'")
    assert lines[2].startswith(f"{path}:4: calls 'open'")
    assert list(tmp_path.iterdir()) == [path]


def test_without_safe_mode_an_unsafe_object_is_accepted(tmp_path):
    path = tmp_path / "unsafe.py"
    path.write_text("import socket\nclass Unsafe:\n    pass\n")
    assert concoordify(str(path), "Unsafe")[0] == str(path) + "fixed"


def test_undecodable_file(tmp_path):
    path = tmp_path / "binary.py"
    path.write_bytes(b"class A:\n    x = '\xff\xfe'\n")
    with pytest.raises(ObjectLoadError, match=r"cannot read object file .*: not valid utf-8 text"):
        concoordify(str(path), "A")


def test_declared_encoding_is_kept(tmp_path):
    path = tmp_path / "latin.py"
    source = b"# -*- coding: latin-1 -*-\nclass A:\n    def name(self):\n        return '\xe9'\n"
    path.write_bytes(source)
    fixed, _ = concoordify(str(path), "A")
    assert load_class(fixed, "A")().name() == "\xe9"
