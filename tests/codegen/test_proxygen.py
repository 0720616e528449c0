"""The client proxy generator: signatures kept, bodies forwarded, the rest of the module intact."""

import inspect
import textwrap

import pytest

from concoord.codegen.proxygen import PROXY_IMPORT, generate_proxy
from concoord.errors import ObjectLoadError

KINDS = textwrap.dedent('''\
    #!/usr/bin/env python
    """A module with one class using every kind of parameter."""
    import math  # kept: helpers below use it

    LIMIT = 10


    def helper(x):
        return math.floor(x) * 2


    class Base:
        def inherited(self, q=1):
            return ("inherited", q)

        def overridden(self):
            return "base"


    def passthrough(func):
        return func


    class Kinds(Base):
        """Kinds of parameters.

        Second paragraph.
        """
        STEP = 3
        UNUSED = 99

        def __init__(self, start: int = 0, *, name="k"):
            self.start = start
            self.name = name

        def every(self, a, b: int = LIMIT, /, c=STEP, *args, d, e=2, **kw) -> tuple:
            """Every kind of parameter."""
            return (a, b, c, args, d, e, kw)

        def plain(self, x, y=None):
            return (x, y)

        def overridden(self):
            return "derived"

        @passthrough
        def decorated(this, x):
            return x

        def only_varargs(self, *rest, **named):
            return (rest, named)

        def _private(self):
            return "private"

        def __len__(self):
            return 0

        def __str__(self):
            return "kinds"

        @staticmethod
        def static(x):
            return x

        @classmethod
        def klass(cls):
            return cls

        @property
        def prop(self):
            return 1

        async def later(self):
            return 1


    class After:
        """A class after the target stays as it is."""
''')


@pytest.fixture
def kinds(exec_proxy):
    """The proxy namespace and a proxy instance for KINDS."""
    namespace = exec_proxy(generate_proxy(KINDS, "Kinds", "kinds.py"))
    return namespace, namespace["Kinds"]("127.0.0.1:14000")


@pytest.fixture
def original():
    """An instance of the original Kinds class, to check that forwarding round-trips."""
    namespace = {"__name__": "original_kinds"}
    exec(compile(KINDS, "kinds.py", "exec"), namespace)
    return namespace["Kinds"]()


CALLS = [
    ("every", (1,), {"d": 4}),
    ("every", (1, 2), {"d": 4}),
    ("every", (1, 2, 3, 4, 5), {"d": 6, "e": 7, "z": 8}),
    ("every", (1,), {"c": 9, "d": 0, "extra": [1]}),
    ("plain", (), {"x": 1}),
    ("plain", (1,), {"y": 2}),
    ("inherited", (), {}),
    ("inherited", (), {"q": 5}),
    ("only_varargs", (1, 2), {"k": 3}),
    ("only_varargs", (), {}),
    ("decorated", ("v",), {}),
]


@pytest.mark.parametrize("method, args, kwargs", CALLS)
def test_forwarded_call_means_the_same_on_the_replica(kinds, original, method, args, kwargs):
    _, proxy = kinds
    assert getattr(proxy, method)(*args, **kwargs) == ("remote", method)
    sent_method, sent_args, sent_kwargs = proxy.calls[-1]
    assert sent_method == method
    assert isinstance(sent_args, tuple) and isinstance(sent_kwargs, dict)
    expected = getattr(original, method)(*args, **kwargs)
    assert getattr(original, sent_method)(*sent_args, **sent_kwargs) == expected


def test_exact_args_and_kwargs_for_every_parameter_kind(kinds):
    _, proxy = kinds
    proxy.every(1, d=4)
    proxy.every(1, 2, 3, 4, 5, d=6, e=7, z=8)
    assert proxy.calls == [
        ("every", (1, 10, 3), {"d": 4, "e": 2}),
        ("every", (1, 2, 3, 4, 5), {"d": 6, "e": 7, "z": 8}),
    ]


def test_signature_is_kept_so_bad_calls_fail_locally(kinds):
    _, proxy = kinds
    with pytest.raises(TypeError):
        proxy.every(1)  # d is keyword-only and required
    with pytest.raises(TypeError):
        proxy.every(a=1, d=2)  # a is positional-only
    with pytest.raises(TypeError):
        proxy.plain()
    assert proxy.calls == []
    params = inspect.signature(proxy.every).parameters
    assert [(p.name, p.kind.name) for p in params.values()] == [
        ("a", "POSITIONAL_ONLY"), ("b", "POSITIONAL_ONLY"), ("c", "POSITIONAL_OR_KEYWORD"),
        ("args", "VAR_POSITIONAL"), ("d", "KEYWORD_ONLY"), ("e", "KEYWORD_ONLY"),
        ("kw", "VAR_KEYWORD"),
    ]


def test_constructor_connects_and_concoordinit_forwards(kinds, stub_client_proxy):
    _, proxy = kinds
    assert isinstance(proxy, stub_client_proxy)
    assert proxy.bootstrap == "127.0.0.1:14000"
    proxy.__concoordinit__(5, name="x")
    proxy.__concoordinit__()
    assert proxy.calls == [
        ("__concoordinit__", (5,), {"name": "x"}),
        ("__concoordinit__", (0,), {"name": "k"}),
    ]


def test_constructor_passes_options_through(exec_proxy, readme_counter):
    namespace = exec_proxy(generate_proxy(readme_counter, "Counter", "counter.py"))
    proxy = namespace["Counter"]("a:1,b:2", timeout=3)
    assert (proxy.bootstrap, proxy.options) == ("a:1,b:2", {"timeout": 3})


def test_class_without_init_gets_argumentless_concoordinit(exec_proxy):
    source = "class Plain:\n    def get(self):\n        return 1\n"
    proxy = exec_proxy(generate_proxy(source, "Plain", "plain.py"))["Plain"]("h:1")
    assert proxy.__concoordinit__() == ("remote", "__concoordinit__")
    assert proxy.calls == [("__concoordinit__", (), {})]


def test_private_dunder_static_class_and_property_are_not_exposed(kinds):
    namespace, _ = kinds
    exposed = set(vars(namespace["Kinds"]))
    for name in ["_private", "__len__", "__str__", "static", "klass", "prop", "later"]:
        assert name not in exposed
    assert {"every", "plain", "inherited", "overridden", "decorated"} <= exposed


def test_skipped_methods_are_explained_in_comments():
    text = generate_proxy(KINDS, "Kinds", "kinds.py")
    assert "# static: not exposed (a staticmethod" in text
    assert "# klass: not exposed (a classmethod" in text
    assert "# prop: not exposed (properties" in text
    assert "# later: not exposed (async" in text


def test_rest_of_module_is_kept_verbatim(kinds):
    namespace, _ = kinds
    assert namespace["helper"](2.5) == 4
    assert namespace["LIMIT"] == 10
    assert namespace["After"].__doc__ == "A class after the target stays as it is."
    assert namespace["Base"]().inherited() == ("inherited", 1)
    text = generate_proxy(KINDS, "Kinds", "kinds.py")
    before = KINDS.split("class Kinds(Base):")[0].split("\n", 1)[1]  # after the shebang
    after = KINDS.split("class After:")[1]
    assert before in text and after in text
    assert "import math  # kept: helpers below use it" in text


def test_docstrings_and_names_are_kept(kinds):
    namespace, proxy = kinds
    assert namespace["Kinds"].__doc__.startswith("Kinds of parameters.\n\n    Second")
    assert proxy.every.__doc__ == "Every kind of parameter."
    assert namespace["Kinds"].__name__ == "Kinds"


def test_inherited_methods_follow_the_override(kinds, original):
    _, proxy = kinds
    proxy.overridden()
    assert proxy.calls == [("overridden", (), {})]
    assert original.overridden() == "derived"


def test_only_class_constants_used_by_defaults_are_copied():
    text = generate_proxy(KINDS, "Kinds", "kinds.py")
    assert "STEP = 3" in text
    assert "UNUSED" not in text


def test_header_comes_after_shebang():
    lines = generate_proxy(KINDS, "Kinds", "kinds.py").splitlines()
    assert lines[0] == "#!/usr/bin/env python"
    assert lines[1].startswith("# Client proxy generated by `concoord object` from kinds.py")
    assert "Do not edit" in lines[2]
    assert PROXY_IMPORT in lines


def test_readme_counter_proxy(exec_proxy, readme_counter):
    text = generate_proxy(readme_counter, "Counter", "/foo/counter.py")
    assert text.startswith("# Client proxy generated by `concoord object` from /foo/counter.py.")
    proxy = exec_proxy(text)["Counter"]("127.0.0.1:14000")
    proxy.increment()
    proxy.decrement()
    assert proxy.getvalue() == ("remote", "getvalue")
    assert [call[0] for call in proxy.calls] == ["increment", "decrement", "getvalue"]
    assert "__str__" not in vars(type(proxy))


def test_class_not_found_lists_classes():
    with pytest.raises(ObjectLoadError) as caught:
        generate_proxy(KINDS, "Kind", "kinds.py")
    expected = "class 'Kind' not found in kinds.py (it defines: Base, Kinds, After)"
    assert str(caught.value) == expected


def test_syntax_error_names_file_and_line():
    with pytest.raises(ObjectLoadError) as caught:
        generate_proxy("class A:\n    def f(self:\n        pass\n", "A", "bad.py")
    assert str(caught.value).startswith("bad.py:2: syntax error: ")
    assert "\n" not in str(caught.value)


# ---- readonly properties, client-side methods, server-only imports ---------------------------

GATE = textwrap.dedent('''\
    """A gate."""
    import time

    from concoord import client_side, readonly
    from concoord.blocking import current_caller, park
    from concoord.objects._waiters import WaitQueue
    import concoord.determinism
    from mylib import helper


    class Gate:
        def __init__(self):
            self.waiters = WaitQueue()

        @property
        @readonly
        def size(self):
            """How many wait."""
            return len(self.waiters)

        @property
        def plain_property(self):
            return 1

        @client_side
        def wait_twice(self, timeout=None):
            """Runs in the client."""
            first = self.wait(timeout)
            return first, self.wait(timeout)

        def wait(self, timeout=None):
            self.waiters.add(current_caller())
            park(timeout)
''')


def test_a_readonly_property_is_a_remote_property(exec_proxy):
    namespace = exec_proxy(_without_mylib(generate_proxy(GATE, "Gate", "gate.py")))
    gate = namespace["Gate"]("127.0.0.1:14000")
    assert isinstance(namespace["Gate"].size, property)
    assert namespace["Gate"].size.__doc__ == "How many wait."
    assert gate.size == ("remote", "size") and gate.calls == [("size", (), {})]
    assert "plain_property" not in vars(namespace["Gate"])


def test_a_client_side_method_is_copied_and_calls_remotely(exec_proxy):
    text = generate_proxy(GATE, "Gate", "gate.py")
    assert "    @client_side\n    def wait_twice(self, timeout=None):\n" in text
    gate = exec_proxy(_without_mylib(text))["Gate"]("127.0.0.1:14000")
    assert gate.wait_twice(3) == (("remote", "wait"), ("remote", "wait"))
    assert gate.calls == [("wait", (3,), {}), ("wait", (3,), {})]


def test_unused_imports_of_the_server_side_are_dropped():
    text = generate_proxy(GATE, "Gate", "gate.py")
    for dropped in ("concoord.blocking", "concoord.objects", "concoord.determinism"):
        assert dropped not in text
    # The client library and the user's own modules stay, used or not.
    for kept in ("import time", "from concoord import client_side, readonly",
                 "from mylib import helper"):
        assert kept in text


def test_a_server_side_import_still_used_in_the_proxy_is_kept():
    source = GATE + "\n\ndef later():\n    return current_caller()\n"
    assert "from concoord.blocking import current_caller, park" in \
        generate_proxy(source, "Gate", "gate.py")


def _without_mylib(text):
    return text.replace("from mylib import helper", "helper = None")
