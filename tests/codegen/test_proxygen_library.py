"""Proxy generation features the object library relies on: ``with obj:`` forwarded to the
replicas, and methods inherited from a base class imported from another module."""

import textwrap

from concoord.codegen.proxygen import generate_proxy

CONTEXT_MANAGER = textwrap.dedent('''\
    class Gate:
        def open(self):
            pass

        def __enter__(self):
            return self.open()

        def __exit__(self, *exc_info):
            pass
''')


def test_a_context_manager_class_forwards_enter_and_exit(exec_proxy):
    gate = exec_proxy(generate_proxy(CONTEXT_MANAGER, "Gate", "gate.py"))["Gate"]("h:1")
    try:
        with gate as entered:
            raise KeyError("the body's error")
    except KeyError:
        pass
    assert entered == ("remote", "__enter__")
    # Exception objects and tracebacks cannot travel: the replica sees a clean exit.
    assert gate.calls == [("__enter__", (), {}), ("__exit__", (None, None, None), {})]


def test_without_both_halves_the_proxy_keeps_clientproxys_with():
    source = "class Half:\n    def __enter__(self):\n        return 1\n"
    text = generate_proxy(source, "Half", "half.py")
    assert "__enter__" not in text and "__exit__" not in text
    assert "__enter__" not in generate_proxy(
        "class Plain:\n    def f(self):\n        pass\n", "Plain", "plain.py")


def test_methods_of_a_base_imported_from_a_module_beside_are_offered(tmp_path, exec_proxy):
    (tmp_path / "basemod.py").write_text(textwrap.dedent('''\
        class Base:
            def inherited(self, n=2):
                """From the base."""
                return n

            def overridden(self):
                return "base"
    '''))
    source = textwrap.dedent('''\
        from basemod import Base


        class Derived(Base):
            def overridden(self):
                return "derived"

            def own(self):
                pass
    ''')
    text = generate_proxy(source, "Derived", str(tmp_path / "derived.py"))
    assert '"""From the base."""' in text
    derived = exec_proxy(text.replace("from basemod import Base\n", ""))["Derived"]("h:1")
    derived.inherited()
    derived.overridden()
    derived.own()
    assert [c[0] for c in derived.calls] == ["inherited", "overridden", "own"]
    assert derived.calls[0] == ("inherited", (2,), {})


def test_a_base_from_an_installed_package_is_followed():
    source = "from concoord.objects.semaphore import Semaphore\n\n\n" \
             "class Mine(Semaphore):\n    pass\n"
    text = generate_proxy(source, "Mine", "mine.py")
    assert "def acquire(self, blocking=True, timeout=None):" in text
    assert "def __enter__(self):" in text


def test_an_unknown_base_is_skipped():
    source = "from nowhere_at_all import Base\n\n\nclass Mine(Base):\n    def f(self):\n" \
             "        pass\n"
    assert "def f(self):" in generate_proxy(source, "Mine", "mine.py")
