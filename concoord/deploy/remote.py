"""Getting a host ready for nodes: check its Python, find ConCoord there (or ship the server
bundle), make the work directory, upload the object file, check the DNS port for nameservers."""

import dataclasses
import re
import shlex

from concoord import __version__
from concoord.deploy.errors import host_error

MIN_PYTHON = (3, 9)
BUNDLE_NAME = "concoord-server.pyz"
PROBE = ("import sys; print('%d.%d.%d' % sys.version_info[:3]); "
         "import concoord; print(concoord.__version__)")
BIND_CHECK = ("import socket, sys\n"
              "family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n"
              "for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):\n"
              "    socket.socket(family, kind).bind((sys.argv[1], int(sys.argv[2])))\n")


@dataclasses.dataclass
class PreparedHost:
    """A connected host with a work directory and a command that runs `concoord` there."""

    session: object          # SshSession
    address: str             # the IP the nodes bind and advertise
    work_dir: str            # absolute path on the host
    concoord: list           # argv prefix: [python, -m, concoord] or [python, bundle]
    description: str         # for progress lines: "Python 3.11.2, concoord 2.0.0 installed"

    def __str__(self):
        return str(self.session)


def probe_python(session, python):
    """(version tuple, installed concoord version or None); DeployError if no usable Python."""
    status, out, err = session.run(f"{shlex.quote(python)} -c {shlex.quote(PROBE)}")
    lines = out.split()
    if status in (126, 127) and not lines:
        reason = "not executable" if status == 126 else "command not found"
        raise host_error(session, f"no Python at '{python}' ({reason}); install Python "
                         f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}+ or pass --remote-python PATH")
    if not lines or not re.fullmatch(r"\d+\.\d+\.\d+", lines[0]):
        detail = (err.strip().splitlines() or [f"exit status {status}"])[-1]
        raise host_error(session, f"'{python}' does not run as Python: {detail}")
    version = tuple(int(part) for part in lines[0].split("."))
    if version[:2] < MIN_PYTHON:
        raise host_error(session, f"'{python}' is Python {lines[0]}; ConCoord needs "
                         f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or later")
    installed = lines[1] if status == 0 and len(lines) > 1 else None
    return version, installed


def make_work_dir(session, path):
    """Create ``path`` (relative: under the remote home) and return it as an absolute path."""
    if path.startswith("~/"):
        path = path[2:]  # sh would not expand a quoted ~; the command already runs in $HOME
    quoted = shlex.quote(path)
    status, out, err = session.run(f"mkdir -p {quoted} && cd {quoted} && pwd")
    if status != 0 or not out.strip():
        raise host_error(session, f"cannot create work directory {path}: {err.strip()}")
    return out.strip().splitlines()[-1]


def prepare_host(session, settings, work_dir, object_name, object_data, bundle):
    """Check the host and upload what its nodes need (``object_data`` None: no object file);
    ``bundle()`` builds the server bundle (bytes) when ConCoord is not installed there in this
    same version."""
    python = settings.remote_python
    version, installed = probe_python(session, python)
    work_dir = make_work_dir(session, work_dir)
    if object_data is not None:  # acceptors need no object
        session.upload(object_data, f"{work_dir}/{object_name}")
    pyver = ".".join(map(str, version))
    if installed == __version__:
        # -m puts the work directory (where the object file is) first on sys.path.
        return PreparedHost(session, session.peer_address, work_dir, [python, "-m", "concoord"],
                            f"Python {pyver}, concoord {installed} installed")
    session.upload(bundle(), f"{work_dir}/{BUNDLE_NAME}")
    why = f"concoord {installed} installed, not {__version__}" if installed else "no concoord"
    return PreparedHost(session, session.peer_address, work_dir,
                        [python, f"{work_dir}/{BUNDLE_NAME}"],
                        f"Python {pyver}, {why}: using the uploaded {BUNDLE_NAME}")


def check_dns_port(prepared, python, port):
    """Nameservers answer DNS on ``port`` (UDP and TCP): make sure they will be able to bind."""
    script = (f"{shlex.quote(python)} -c {shlex.quote(BIND_CHECK)} "
              f"{shlex.quote(prepared.address)} {port}")
    status, _, err = prepared.session.run(script)
    if status != 0:
        detail = (err.strip().splitlines() or [f"exit status {status}"])[-1]
        hint = " (ports below 1024 need root)" if port < 1024 else ""
        raise host_error(prepared, f"cannot bind DNS port {port} on {prepared.address}{hint}: "
                         f"{detail}; pass --dns-port to use another port")
