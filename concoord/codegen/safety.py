"""The safety checker behind ``concoord object -s``: refuse objects unsafe to replicate.

A replicated object must compute the same result on every replica and touch nothing but its own
state: no network, files, processes, threads, or dynamic code. This is a static, best-effort check
over the AST (Python is too dynamic for a proof); it catches the honest mistakes, and each reason
names the file and line so the user can fix it.

Clock and random calls that the server-side copy makes replicated (``time.time()``,
``random.random()``..., see concoord.codegen.determinize) are fine; what cannot be made to agree
across replicas is refused: sleeping, operating-system randomness, ``uuid1``, clock readings in
the replica's own time zone, and ``hash()``/``id()`` (string hashing is randomised per process,
addresses differ).
"""

import ast

from concoord.codegen import parse_source
from concoord.codegen.determinize import import_aliases, qualified_name

_NETWORK = "network I/O is not allowed in a replicated object"
_FILES = "file and operating-system access is not allowed in a replicated object"
_CONCURRENCY = "threads, processes and signals are not allowed: replicas run methods one at a time"
_CODE = "loading code or reaching interpreter internals is not allowed in a replicated object"
_CONSOLE = "console input would block every replica"
_PER_PROCESS = "its value differs between replica processes"

FORBIDDEN_MODULES = {
    **dict.fromkeys(
        ["socket", "ssl", "select", "selectors", "asyncio", "urllib", "http", "ftplib",
         "smtplib", "requests"], _NETWORK),
    **dict.fromkeys(["os", "io", "shutil", "pathlib", "tempfile"], _FILES),
    **dict.fromkeys(
        ["subprocess", "threading", "_thread", "multiprocessing", "concurrent", "signal"],
        _CONCURRENCY),
    **dict.fromkeys(
        ["sys", "ctypes", "pickle", "marshal", "shelve", "importlib", "builtins"], _CODE),
    "secrets": "secret randomness cannot be the same on every replica and stay secret",
}

# Harmless names of forbidden modules: exception classes an object raises where its standard
# counterpart does (they travel to clients as themselves, see concoord/wire/exception_types.py).
ALLOWED_FROM = {"threading": {"BrokenBarrierError"}}

# Module functions whose results no rewrite can make agree across replicas (any import style).
UNREPLICABLE = {
    "time.sleep": "sleeping would stall every replica; park the caller instead "
                  "(concoord.blocking)",
    "random.SystemRandom": "operating-system randomness differs between replicas",
    "random.seed": "the replicated random values are seeded by the log; a seed has no effect",
    "uuid.uuid1": "uuid1 reads the host's clock and address; use uuid.uuid4()",
    "uuid.getnode": "the host's network address differs between replicas",
}

# time functions that read the replica's own clock and time zone when given no time.
CLOCK_READERS = {"time.localtime": 0, "time.gmtime": 0, "time.ctime": 0, "time.asctime": 0,
                 "time.strftime": 1}

FORBIDDEN_BUILTINS = {
    "open": _FILES,
    "exec": _CODE,
    "eval": _CODE,
    "compile": _CODE,
    "__import__": _CODE,
    "globals": _CODE,
    "locals": _CODE,
    "vars": _CODE,
    "input": _CONSOLE,
    "breakpoint": _CONSOLE,
    "hash": _PER_PROCESS + " (str and bytes hashing is randomised)",
    "id": _PER_PROCESS + " (it is a memory address)",
}

# Attributes that lead from any object to the interpreter's globals, code or class tree.
FORBIDDEN_ATTRIBUTES = {"__subclasses__", "__globals__", "__builtins__", "__code__"}


def check_safety(source: str, filename: str) -> list[str]:
    """Reasons (``file:line: what (why)``) the module is unsafe, sorted by line; [] if safe.

    Raises ObjectLoadError if the source does not parse.
    """
    tree = parse_source(source, filename)
    bound = _bound_names(tree)
    aliases = import_aliases(tree)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = []
    for node in ast.walk(tree):
        found.extend(_import_reasons(node))
        found.extend(_builtin_reasons(node, bound, called))
        found.extend(_attribute_reasons(node))
        found.extend(_unreplicable_reasons(node, aliases, called))
    found.sort(key=lambda item: item[0])
    return [f"{filename}:{line}: {text}" for line, text in found]


def _import_reasons(node):
    """``import os.path`` and ``from socket import socket`` name a forbidden top-level module."""
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if {alias.name for alias in node.names} <= ALLOWED_FROM.get(node.module, set()):
            return []
        modules = [node.module]
    else:
        return []  # relative imports stay inside the user's own package
    reasons = []
    for module in modules:
        top = module.split(".")[0]
        if top in FORBIDDEN_MODULES:
            reasons.append((node.lineno, f"imports '{module}' ({FORBIDDEN_MODULES[top]})"))
    return reasons


def _builtin_reasons(node, bound, called):
    """Uses of a dangerous builtin, called or merely referenced (``f = eval`` is no safer).

    A name the module binds itself (a parameter called ``input``, say) is not the builtin.
    ``called`` holds the ids of the nodes that are the function of some call.
    """
    if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
        return []
    name = node.id
    if name == "__builtins__":
        return [(node.lineno, f"refers to '__builtins__' ({_CODE})")]
    if name not in FORBIDDEN_BUILTINS or name in bound:
        return []
    verb = "calls" if id(node) in called else "refers to"
    return [(node.lineno, f"{verb} '{name}' ({FORBIDDEN_BUILTINS[name]})")]


def _attribute_reasons(node):
    """``x.__globals__`` and ``getattr(x, '__globals__')`` both reach interpreter internals."""
    if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
        return [(node.lineno, f"accesses '{node.attr}' ({_CODE})")]
    if _is_getattr_family(node):
        name = node.args[1]
        if isinstance(name, ast.Constant) and name.value in FORBIDDEN_ATTRIBUTES:
            return [(node.lineno, f"accesses '{name.value}' ({_CODE})")]
    return []


def _unreplicable_reasons(node, aliases, called):
    """Uses of module functions no rewrite can make deterministic (see UNREPLICABLE)."""
    if isinstance(node, ast.Call):
        name = qualified_name(node.func, aliases)
        if name in CLOCK_READERS and len(node.args) <= CLOCK_READERS[name] \
                and not node.keywords:
            return [(node.lineno, f"calls '{name}' without a time (it reads the replica's own "
                                  f"clock and time zone; pass one, e.g. time.gmtime(time.time()))")]
        return []
    if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(node.ctx, ast.Load):
        return []
    name = qualified_name(node, aliases)
    if name not in UNREPLICABLE:
        return []
    verb = "calls" if id(node) in called else "refers to"
    return [(node.lineno, f"{verb} '{name}' ({UNREPLICABLE[name]})")]


def _is_getattr_family(node):
    """A getattr/setattr/delattr/hasattr call with at least an object and a name."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"getattr", "setattr", "delattr", "hasattr"}
        and len(node.args) >= 2
    )


def _bound_names(tree):
    """Every name the module binds itself, anywhere (scopes are not told apart: best effort)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound
