"""``concoord object -f PATH -c CLASS [-s]``: write the server copy and the client proxy by PATH.

``/foo/counter.py`` gives ``/foo/counter.pyfixed`` (replicas run it) and ``/foo/counter.pyproxy``
(clients import it, renamed to ``counterproxy.py`` as the README shows). Both texts are generated
before either file is written, so a refused or broken object writes nothing. Each call the
server-side copy makes replicated (``time.time()``, ``random.random()``...) is reported, one
line each, through ``report`` (default: printed).
"""

import os
import tokenize

from concoord.codegen import find_class, one_line, parse_source
from concoord.codegen.fixer import describe_rewrites, generate_fixed
from concoord.codegen.proxygen import generate_proxy
from concoord.codegen.safety import check_safety
from concoord.errors import ObjectLoadError


def concoordify(path: str, class_name: str, safe: bool = False,
                report=print) -> tuple[str, str]:
    """Generate both files for ``class_name`` in ``path``; return (fixed path, proxy path).

    ``report(line)`` receives one line per rewritten call (None: say nothing).
    """
    source, encoding = read_source(path)
    find_class(parse_source(source, path), class_name, path)
    if safe:
        _refuse_unsafe(source, path)
    fixed_text = generate_fixed(source, class_name, path)
    proxy_text = generate_proxy(source, class_name, path)
    fixed_path, proxy_path = output_paths(path)
    _write(fixed_path, fixed_text, encoding)
    _write(proxy_path, proxy_text, encoding)
    if report is not None:
        for line in describe_rewrites(source, path):
            report(line)
    return fixed_path, proxy_path


def output_paths(path):
    """``x.py`` -> (``x.pyfixed``, ``x.pyproxy``); other names get ``fixed``/``proxy`` appended."""
    return path + "fixed", path + "proxy"


def read_source(path):
    """The file's text and encoding (its PEP 263 declaration, else UTF-8), or ObjectLoadError."""
    if os.path.isdir(path):
        raise ObjectLoadError(f"object file '{path}' is a directory, not a Python file")
    try:
        with open(path, "rb") as stream:
            encoding, _ = tokenize.detect_encoding(stream.readline)
            stream.seek(0)
            raw = stream.read()
    except FileNotFoundError:
        raise ObjectLoadError(f"object file '{path}' not found") from None
    except OSError as error:
        raise ObjectLoadError(f"cannot read object file '{path}': {error.strerror}") from None
    except SyntaxError as error:  # detect_encoding: unknown or inconsistent encoding declaration
        raise ObjectLoadError(f"cannot read object file '{path}': {one_line(error.msg)}") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise ObjectLoadError(
            f"cannot read object file '{path}': not valid {encoding} text ({error.reason} "
            f"at byte {error.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _refuse_unsafe(source, path):
    """Raise with a summary line, then one line per reason, if the safety check finds anything."""
    reasons = check_safety(source, path)
    if reasons:
        count = f"{len(reasons)} problem{'s' if len(reasons) != 1 else ''}"
        summary = f"{path} is not safe to replicate ({count}; run without -s to skip this check):"
        raise ObjectLoadError("\n".join([summary] + reasons))


def _write(path, text, encoding):
    """Write ``text`` in the source's own encoding, so its encoding declaration stays true."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        message = f"cannot write '{path}': the text does not fit the {encoding} encoding"
        raise ObjectLoadError(message) from None
    try:
        with open(path, "wb") as stream:
            stream.write(data)
    except OSError as error:
        raise ObjectLoadError(f"cannot write '{path}': {error.strerror}") from None
