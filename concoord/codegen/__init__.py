"""Code generation for `concoord object`: the client proxy, the server-side copy, the safety check.

The entry points live in their own modules (import them from there):

- ``concoord.codegen.concoordify.concoordify``  -- the whole `concoord object` command
- ``concoord.codegen.proxygen.generate_proxy``  -- source of the ``.pyproxy`` module
- ``concoord.codegen.fixer.generate_fixed``     -- source of the ``.pyfixed`` module
- ``concoord.codegen.safety.check_safety``      -- reasons an object must not be replicated
- ``concoord.codegen.loader.load_class``        -- the class object a replica instantiates

This package module only holds the few source-level helpers those modules share, so that every
one of them reports a bad file or a missing class with the same one-line message.
"""

import ast
import re

from concoord.errors import ObjectLoadError

# PEP 263: an encoding declaration must stay on line 1 or 2, so headers go below it.
_CODING_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")


def one_line(text):
    """Collapse a message onto one line: every ObjectLoadError is a single readable line."""
    return " ".join(str(text).split())


def syntax_error_message(error, filename):
    """``file:line: syntax error: msg`` for a SyntaxError raised while compiling ``filename``."""
    where = error.filename or filename
    if error.lineno:
        where = f"{where}:{error.lineno}"
    return f"{where}: syntax error: {one_line(error.msg)}"


def parse_source(source, filename):
    """Parse a user's module, turning a SyntaxError into a one-line ObjectLoadError."""
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as error:
        raise ObjectLoadError(syntax_error_message(error, filename)) from None
    except ValueError as error:  # e.g. a NUL byte in the source
        raise ObjectLoadError(f"{filename}: cannot parse: {one_line(error)}") from None


def class_not_found_message(class_name, filename, available):
    """The message for a missing class, naming the classes that are there (typos are common)."""
    if available:
        listing = "it defines: " + ", ".join(available)
    else:
        listing = "it defines no classes"
    return f"class '{class_name}' not found in {filename} ({listing})"


def top_level_classes(tree):
    """Name -> ClassDef of the module's top-level classes; a later definition wins, as in Python."""
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def find_class(tree, class_name, filename):
    """The top-level ClassDef called ``class_name``, or an ObjectLoadError listing the classes."""
    classes = top_level_classes(tree)
    if class_name not in classes:
        raise ObjectLoadError(class_not_found_message(class_name, filename, list(classes)))
    return classes[class_name]


def add_header(source, header_lines):
    """Insert comment lines at the top of ``source``, after any shebang or encoding line."""
    lines = source.splitlines(keepends=True)
    keep = 0
    for index, line in enumerate(lines[:2]):
        is_shebang = index == 0 and line.startswith("#!")
        if is_shebang or _CODING_COOKIE.match(line):
            keep = index + 1
    header = "".join(f"# {text}\n" for text in header_lines)
    if keep and not lines[keep - 1].endswith("\n"):
        lines[keep - 1] += "\n"
    return "".join(lines[:keep]) + header + "".join(lines[keep:])
