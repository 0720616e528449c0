"""Find and import the user's class for a replica or nameserver (``-f FILE -c CLASS`` or ``-o``).

Every failure is an ObjectLoadError with one line that says what to fix: which paths were
searched, which line does not parse, which import failed inside the module, which classes the
module does define, or which constructor arguments a replica could not supply.
"""

import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import re
import sys
import traceback

from concoord.codegen import class_not_found_message, one_line, syntax_error_message
from concoord.errors import ObjectLoadError

# Loaded files are registered under a private name so that a user's ``queue.py`` cannot shadow
# the standard library's ``queue`` for the whole replica process.
MODULE_PREFIX = "_concoord_object_"


def load_class(path=None, class_name=None, dotted=None):
    """Return the class named by ``path`` + ``class_name``, or by ``dotted='pkg.module.Class'``."""
    if dotted is not None and path is None and class_name is None:
        module, name, where = _import_dotted(dotted)
    elif path is not None and class_name is not None and dotted is None:
        where = find_object_file(path)
        module, name = _import_file(where), class_name
    else:
        raise ObjectLoadError("name the object as a file and a class (-f FILE -c CLASS) "
                              "or as package.module.Class (-o)")
    cls = _class_from_module(module, name, where)
    _check_constructible(cls)
    return cls


def find_object_file(path):
    """The object file to load: ``path`` itself, or for a bare file name the first match on
    ``sys.path`` (which includes PYTHONPATH), as the README's ``-f counter.py`` expects."""
    if os.path.isdir(path):
        raise ObjectLoadError(f"object file '{path}' is a directory, not a Python file")
    if os.path.exists(path):
        return path
    if os.path.basename(path) != path:
        raise ObjectLoadError(f"object file '{path}' not found")
    searched = [os.path.abspath(os.curdir)]
    searched += [os.path.abspath(entry or os.curdir) for entry in sys.path]
    searched = list(dict.fromkeys(d for d in searched if os.path.isdir(d)))
    for directory in searched:
        candidate = os.path.join(directory, path)
        if os.path.isfile(candidate):
            return candidate
    where = ", ".join(searched)
    raise ObjectLoadError(f"object file '{path}' not found (looked in: {where})")


def _import_file(path):
    """Import ``path`` as a fresh module, with its directory first on sys.path meanwhile so that
    its own imports (a helper module beside it) work. Any suffix is accepted (``.pyfixed`` too)."""
    stem = re.sub(r"\W", "_", os.path.basename(path).split(".")[0]) or "object"
    name = MODULE_PREFIX + stem
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    directory = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, directory)
    sys.modules[name] = module  # dataclasses and pickle look the module up while it runs
    try:
        loader.exec_module(module)
    except BaseException as error:
        del sys.modules[name]
        _raise_import_failure(error, path)
    finally:
        _remove_first(sys.path, directory)
    return module


def _remove_first(items, value):
    """Undo our sys.path insertion even if the module itself also edited sys.path."""
    if value in items:
        items.remove(value)


def _raise_import_failure(error, path):
    """One line for an exception raised while the object's module ran; re-raise Ctrl-C as is."""
    if isinstance(error, KeyboardInterrupt):
        raise error
    if isinstance(error, SyntaxError):
        raise ObjectLoadError(syntax_error_message(error, path)) from None
    if isinstance(error, OSError) and error.filename == path:
        raise ObjectLoadError(f"cannot read object file '{path}': {error.strerror}") from None
    where = _failing_line(error, path)
    detail = f"{type(error).__name__}: {one_line(error)}"
    raise ObjectLoadError(f"importing {path} failed: {detail}{where}") from None


def _failing_line(error, path):
    """`` (at FILE:LINE)`` for the deepest frame of the traceback inside the object file."""
    target = os.path.abspath(path)
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.abspath(frame.filename) == target:
            line = frame.lineno
    return f" (at {path}:{line})" if line else ""


def _import_dotted(dotted):
    """Import ``package.module`` of ``package.module.Class``: (module, class name, where)."""
    module_name, _, class_name = dotted.rpartition(".")
    if not module_name or not class_name:
        raise ObjectLoadError(f"'{dotted}' is not of the form package.module.Class")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name + ".").startswith(error.name + "."):
            message = f"module '{module_name}' not found (from '{dotted}'; is it on PYTHONPATH?)"
            raise ObjectLoadError(message) from None
        _raise_import_failure(error, _module_origin(module_name))
    except BaseException as error:
        _raise_import_failure(error, _module_origin(module_name))
    return module, class_name, f"module '{module_name}'"


def _module_origin(module_name):
    """The file of a module whose import failed, for the message (else the module's name)."""
    try:
        spec = importlib.util.find_spec(module_name)
    except Exception:  # the parent package itself fails to import
        return module_name
    return spec.origin if spec is not None and spec.origin else module_name


def _class_from_module(module, class_name, where):
    """``module.class_name``, checked to be a class; a miss lists the classes defined there."""
    if not hasattr(module, class_name):
        defined = [
            name for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == module.__name__
        ]
        raise ObjectLoadError(class_not_found_message(class_name, where, defined))
    cls = getattr(module, class_name)
    if not inspect.isclass(cls):
        kind = type(cls).__name__
        raise ObjectLoadError(f"'{class_name}' in {where} is a {kind}, not a class")
    return cls


def _check_constructible(cls):
    """Replicas create the object as ``Class()``: refuse a constructor with required arguments."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return  # no introspectable signature (some builtin bases): let construction decide
    required = [
        p.name for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if required:
        raise ObjectLoadError(
            f"class {cls.__name__} cannot be constructed with no arguments: __init__ requires "
            f"{', '.join(required)} (replicas create the object as {cls.__name__}(); "
            f"use __concoordinit__ to set it up)")
