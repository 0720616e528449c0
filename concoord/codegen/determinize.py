"""The fixer pass that makes clock and random calls replicated (see concoord.determinism).

In the server-side copy, ``time.time()``, ``datetime.now()``, ``random.random()``,
``random.choice(x)``, ``uuid.uuid4()`` and their kin become calls of ``concoord.determinism``,
whatever the import style (``import time``, ``import random as r``, ``from time import time as
now``, ``from datetime import datetime``). References are rewritten too, not only calls
(``sorted(xs, key=random.random)``), and a local variable that shadows an imported name is left
alone. ``rewrites(tree)`` lists what the pass changes, for ``concoord object`` to print.
"""

import ast

DETERMINISM_MODULE = "concoord.determinism"

_TIME = "replicated leader time"
_RANDOM = "replicated random value (seeded by the log)"

# Qualified name -> (function of concoord.determinism, what the replacement reads).
FUNCTIONS = {
    "time.time": ("time", _TIME),
    "time.time_ns": ("time_ns", _TIME),
    "time.monotonic": ("time", _TIME),
    "time.monotonic_ns": ("time_ns", _TIME),
    "time.perf_counter": ("time", _TIME),
    "time.perf_counter_ns": ("time_ns", _TIME),
    "datetime.datetime.now": ("now", _TIME + " (naive: UTC)"),
    "datetime.datetime.utcnow": ("utcnow", _TIME),
    "datetime.datetime.today": ("today", _TIME + " (naive: UTC)"),
    "datetime.date.today": ("date_today", _TIME + " (UTC)"),
    "uuid.uuid4": ("uuid4", "replicated random UUID"),
}

# Functions of the random module that draw from its hidden global generator: they become
# methods of determinism.rng(), the generator every replica seeds alike for this call.
RANDOM_FUNCTIONS = frozenset([
    "random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform",
    "getrandbits", "randbytes", "gauss", "normalvariate", "lognormvariate", "expovariate",
    "vonmisesvariate", "gammavariate", "triangular", "betavariate", "paretovariate",
    "weibullvariate", "binomialvariate",
])

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def determinize(tree, class_name=None):
    """The pass (in fixer.TRANSFORM_PASSES): rewrite ``tree`` in place and return it."""
    rewriter = _Rewriter(tree)
    tree = rewriter.visit(tree)
    if rewriter.found:
        _add_import(tree, rewriter.alias)
    return tree


def rewrites(tree):
    """[(line, what was written, what it becomes)] for the calls ``determinize`` rewrites."""
    rewriter = _Rewriter(tree, record_only=True)
    rewriter.visit(tree)
    return rewriter.found


def import_aliases(tree):
    """Local name -> the module or module attribute it stands for, from every absolute import
    (``import random as r`` -> {"r": "random"}; ``from time import time`` -> {"time":
    "time.time"}). Imports anywhere count: names are not told apart by scope here."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def qualified_name(node, aliases):
    """``dt.datetime.now`` -> "datetime.datetime.now" when ``dt`` is the datetime module."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = qualified_name(node.value, aliases)
        return None if base is None else f"{base}.{node.attr}"
    return None


class _Rewriter(ast.NodeTransformer):
    def __init__(self, tree, record_only=False):
        self.aliases = import_aliases(tree)
        self.record_only = record_only
        self.alias = _free_alias(tree)
        self.calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        self.scopes = []    # (is a class body, names bound there), innermost last
        self.found = []

    def visit_ClassDef(self, node):
        # Bases, keywords and decorators are evaluated outside the class body.
        for field in ("bases", "keywords", "decorator_list"):
            setattr(node, field, [self.visit(child) for child in getattr(node, field)])
        node.body = self._visit_body(node.body, True, _bound_in_class(node))
        return node

    def visit_FunctionDef(self, node):
        # Decorators and default values are evaluated where the function is defined.
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        self._visit_defaults(node.args)
        node.body = self._visit_body(node.body, False, _bound_in_function(node))
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self._visit_defaults(node.args)
        node.body = self._visit_body(node.body, False, _bound_in_function(node))
        return node

    def _visit_comprehension(self, node):
        return self._visit_body(node, False, _bound_in_function(node))

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _visit_comprehension

    def _visit_defaults(self, arguments):
        arguments.defaults = [self.visit(d) for d in arguments.defaults]
        arguments.kw_defaults = [d if d is None else self.visit(d) for d in arguments.kw_defaults]

    def _visit_body(self, body, is_class, names):
        """Visit statements (a list), or one expression or comprehension, in a new scope."""
        self.scopes.append((is_class, names))
        try:
            if isinstance(body, list):
                return [self.visit(statement) for statement in body]
            if isinstance(body, _COMPREHENSIONS):
                return ast.NodeTransformer.generic_visit(self, body)
            return self.visit(body)
        finally:
            self.scopes.pop()

    def visit_Call(self, node):
        name = qualified_name(node.func, self.aliases)
        if name == "random.Random" and not node.args and not node.keywords \
                and not self._shadowed(node.func):
            return self._replace(node, "random.Random()", ["new_rng"], "a replicated "
                                 "random generator (seeded by the log)", call=True)
        return self.generic_visit(node)

    def visit_Attribute(self, node):
        return self._maybe_replace(node) or self.generic_visit(node)

    def visit_Name(self, node):
        return self._maybe_replace(node) or node

    def _maybe_replace(self, node):
        if not isinstance(node.ctx, ast.Load) or self._shadowed(node):
            return None
        name = qualified_name(node, self.aliases)
        if name in FUNCTIONS:
            function, meaning = FUNCTIONS[name]
            return self._replace(node, name, [function], meaning)
        module, _, function = (name or "").rpartition(".")
        if module == "random" and function in RANDOM_FUNCTIONS:
            return self._replace(node, name, ["rng", function], _RANDOM)
        return None

    def _shadowed(self, node):
        """Whether the expression's first name is a local variable, not the import."""
        while isinstance(node, ast.Attribute):
            node = node.value
        if not isinstance(node, ast.Name):
            return True
        for depth, (is_class, names) in enumerate(reversed(self.scopes)):
            if is_class and depth > 0:
                continue   # a class body's names are not visible inside its methods
            if node.id in names:
                return True
        return False

    def _replace(self, node, name, path, meaning, call=False):
        written = ast.unparse(node)
        if not call and id(node) in self.calls:
            written += "()"
        if written.split("(")[0] != name.split("(")[0]:
            written = f"{written} ({name})"
        self.found.append((node.lineno, written, meaning))
        if self.record_only:
            return node
        return ast.copy_location(_determinism_expression(self.alias, path, call), node)


def _determinism_expression(alias, path, call):
    """``alias.time`` / ``alias.rng().choice`` / ``alias.new_rng()``."""
    expression = ast.Name(id=alias, ctx=ast.Load())
    for index, attribute in enumerate(path):
        expression = ast.Attribute(value=expression, attr=attribute, ctx=ast.Load())
        if index < len(path) - 1 or call:
            expression = ast.Call(func=expression, args=[], keywords=[])
    return expression


def _bound_in_function(node):
    """Names a function, lambda or comprehension binds itself (parameters, assignments,
    loop and comprehension targets), less those it declares global or nonlocal."""
    names, declared = set(), set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        arguments = node.args
        every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
        every += [a for a in (arguments.vararg, arguments.kwarg) if a]
        names.update(a.arg for a in every)
        body = node.body if isinstance(node.body, list) else [node.body]
    else:
        body = node.generators
    for statement in body:
        for inner in ast.walk(statement):
            if isinstance(inner, ast.Name) and isinstance(inner.ctx, (ast.Store, ast.Del)):
                names.add(inner.id)
            elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(inner.name)
            elif isinstance(inner, (ast.Global, ast.Nonlocal)):
                declared.update(inner.names)
    return names - declared


def _bound_in_class(node):
    names = set()
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        for target in _assignment_targets(statement):
            names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _assignment_targets(statement):
    if isinstance(statement, ast.Assign):
        return statement.targets
    if isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        return [statement.target]
    return []


def _free_alias(tree):
    """The name the determinism module gets: ``determinism`` unless the module uses it."""
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used.update(import_aliases(tree))
    used.update(n.name for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
    return "determinism" if "determinism" not in used else "_concoord_determinism"


def _add_import(tree, alias):
    """``from concoord import determinism [as alias]`` after the docstring and __future__."""
    position = 0
    for index, statement in enumerate(tree.body):
        is_docstring = index == 0 and isinstance(statement, ast.Expr) and \
            isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)
        is_future = isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
        if is_docstring or is_future:
            position = index + 1
    package, _, module = DETERMINISM_MODULE.rpartition(".")
    names = [ast.alias(name=module, asname=None if alias == module else alias)]
    tree.body.insert(position, ast.ImportFrom(module=package, names=names, level=0))
