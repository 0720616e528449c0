"""Regenerate the library's client proxies: ``python -m concoord.proxy.regenerate [--check]``.

For each object module ``concoord/objects/NAME.py`` (helpers starting with ``_`` excepted) it
writes ``concoord/proxy/NAME.py`` with the same generator as ``concoord object``. The header
names the object by its path inside the package, so the output is the same on every checkout.
``--check`` writes nothing and exits 1 if any proxy is missing, out of date or left over.
"""

import argparse
import ast
import os
import sys

import concoord.objects
from concoord.codegen.proxygen import generate_proxy

OBJECTS_DIR = os.path.dirname(os.path.abspath(concoord.objects.__file__))
PROXY_DIR = os.path.dirname(os.path.abspath(__file__))
OWN_MODULES = {"__init__.py", "regenerate.py"}
HOW_TO_REGENERATE = "run `python -m concoord.proxy.regenerate`."


def object_modules():
    """File names of the object modules, sorted."""
    return sorted(name for name in os.listdir(OBJECTS_DIR)
                  if name.endswith(".py") and not name.startswith("_"))


def object_class(source, filename):
    """The one public class a library module defines."""
    tree = ast.parse(source, filename=filename)
    names = [node.name for node in tree.body
             if isinstance(node, ast.ClassDef) and not node.name.startswith("_")]
    if len(names) != 1:
        raise ValueError(f"{filename} must define exactly one public class, not {names}")
    return names[0]


def expected_proxies():
    """File name in concoord/proxy -> the text the generator makes for it now."""
    proxies = {}
    for name in object_modules():
        with open(os.path.join(OBJECTS_DIR, name), encoding="utf-8") as stream:
            source = stream.read()
        shown = f"concoord/objects/{name}"
        text = generate_proxy(source, object_class(source, shown), shown)
        proxies[name] = text.replace("run `concoord object` again.", HOW_TO_REGENERATE, 1)
    return proxies


def stale_proxies():
    """Problems with the checked-in proxies: [(file name, what is wrong)]; [] if up to date."""
    expected = expected_proxies()
    problems = []
    for name, text in expected.items():
        path = os.path.join(PROXY_DIR, name)
        if not os.path.exists(path):
            problems.append((name, "missing"))
            continue
        with open(path, encoding="utf-8") as stream:
            if stream.read() != text:
                problems.append((name, "out of date"))
    for name in sorted(os.listdir(PROXY_DIR)):
        if name.endswith(".py") and name not in expected and name not in OWN_MODULES:
            problems.append((name, "left over: no such object"))
    return problems


def write_proxies():
    """Write every proxy; returns the file names that changed."""
    changed = []
    for name, text in expected_proxies().items():
        path = os.path.join(PROXY_DIR, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as stream:
                if stream.read() == text:
                    continue
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        changed.append(name)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m concoord.proxy.regenerate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="report stale proxies and exit 1 instead of writing them")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_proxies()
        for name, what in problems:
            print(f"concoord/proxy/{name}: {what}")
        return 1 if problems else 0
    for name in write_proxies():
        print(f"wrote concoord/proxy/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
