"""``make server`` / ``make client``: ConCoord as one zipapp that runs with a plain ``python3``.

Both bundles hold the whole ``concoord`` package and pure-Python copies of its dependencies
(msgpack runs on its pure-Python fallback when the compiled module is absent; dnspython and
prometheus-client are pure Python). msgspec is compiled, so it is not bundled: without it the
wire codec checks messages in Python (concoord/wire/fallback.py), in the same format; an
installed msgspec is used when the bundle's Python has one. paramiko is not bundled: only ``initialize``/``addnode`` need
it, on the operator's machine. User objects given on the command line go in at the top level of
the archive.

- server: ``python3 concoord-server.pyz replica -o counter.Counter ...``. Its dependencies sit in
  ``_vendor/``, put last on sys.path, so an installed (compiled, faster) msgpack wins.
- client: ``sys.path.append("concoord-client.pyz")`` then ``from concoord.client.proxy import
  ClientProxy`` (or a bundled proxy module). Dependencies sit at the top level so that adding the
  archive to sys.path is enough; appended, it still prefers installed ones.
"""

import importlib.metadata
import importlib.util
import os
import pathlib
import shutil
import tempfile
import zipapp

import concoord
from concoord.deploy.errors import DeployError

KINDS = ("server", "client")
# import name -> distribution name (prometheus_client, pure Python, serves --metrics-port)
VENDORED = {"msgpack": "msgpack", "dns": "dnspython", "prometheus_client": "prometheus-client"}
VENDOR_DIR = {"server": "_vendor", "client": ""}
MAIN = '''\
"""concoord-{kind}.pyz: the `concoord` command line (python3 concoord-{kind}.pyz --help)."""
import os
import sys

# Bundled dependencies go last: an installed (compiled, faster) msgpack is preferred.
_vendor = os.path.join(os.path.dirname(os.path.abspath(__file__)), {vendor!r})
if {vendor!r} and _vendor not in sys.path:
    sys.path.append(_vendor)

from concoord.cli import main

sys.exit(main())
'''


def build_bundle(kind, output, objects=()):
    """Write the ``kind`` bundle to ``output`` with ``objects`` (paths of .py files) added."""
    if kind not in KINDS:
        raise DeployError(f"unknown bundle kind '{kind}' (expected server or client)")
    output = pathlib.Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="concoord-bundle-") as staging:
        root = pathlib.Path(staging)
        _copy_package(pathlib.Path(concoord.__file__).parent, root / "concoord")
        vendor = root / VENDOR_DIR[kind]
        for module, distribution in VENDORED.items():
            _copy_package(_package_dir(module), vendor / module)
            _copy_licenses(distribution, root / "licenses")
        for path in objects:
            _add_object(pathlib.Path(path), root)
        (root / "__main__.py").write_text(MAIN.format(kind=kind, vendor=VENDOR_DIR[kind]))
        zipapp.create_archive(root, output, interpreter="/usr/bin/env python3",
                              compressed=True)
    return output


def _package_dir(module):
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise DeployError(f"cannot bundle '{module}': it is not installed here")
    return pathlib.Path(list(spec.submodule_search_locations)[0])


def _copy_package(source, target):
    """Every .py file of the package; compiled extensions are left out on purpose (the
    bundle must run on any CPU and Python version, and the packages fall back without them)."""
    for path in source.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def _copy_licenses(distribution, target):
    """Vendored code travels with its licence text."""
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        return
    for entry in files:
        if entry.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry.locate(), target / f"{distribution}-{entry.name}")


def _add_object(path, root):
    if not path.is_file():
        raise DeployError(f"object file '{path}' not found")
    # The README's renames: counter.pyfixed -> counter.py, counter.pyproxy -> counterproxy.py.
    suffixes = {".py": ".py", ".pyfixed": ".py", ".pyproxy": "proxy.py"}
    if path.suffix not in suffixes:
        raise DeployError(f"object file '{path}' is not a .py, .pyfixed or .pyproxy file")
    name = path.stem + suffixes[path.suffix]
    if os.path.splitext(name)[0] in ("concoord", "__main__", *VENDORED):
        raise DeployError(f"object file '{path}' would shadow the bundle's own '{name}'")
    shutil.copyfile(path, root / name)
