"""The `concoord dashboard` and `concoord systemd-unit` subcommands (wired into cli.py by
add_commands)."""

import argparse
import shlex
import shutil
import sys

from concoord.errors import ConcoordError
from concoord.ops.flags import port_number
from concoord.security.flags import add_security_flags

DASHBOARD_DESCRIPTION = (
    "Serve a live web page of the instance at http://ADDRESS:PORT/: every node with its role, "
    "address, liveness, applied slot and lag; the leader and its ballot; commands per second "
    "and the leader's status round trip over the last ten minutes; recent elections and view "
    "changes; str() of the object. It "
    "reads the instance through the status protocol, like `concoord status`, about once a "
    "second (give the instance's --secret-file / TLS flags if it has them).")


def add_commands(commands):
    """Add this package's subparsers to ``commands`` (argparse subparsers); each sets run=FUNC."""
    parser = commands.add_parser("dashboard", help="serve a live web page of the instance",
                                 description=DASHBOARD_DESCRIPTION)
    parser.add_argument("-b", "--boot", required=True, type=_bootstrap,
                        help="ip:port[,ip:port...] of the instance's replicas (or its domain "
                        "name when a concoord nameserver serves it); the page keeps working "
                        "when these die, through the replicas it has seen since")
    parser.add_argument("-p", "--port", type=port_number, default=8080,
                        help="HTTP port of the page (default 8080)")
    parser.add_argument("-a", "--addr", default="127.0.0.1",
                        help="address the page listens on (default 127.0.0.1: this host only; "
                        "the page has no login of its own, so expose it with care)")
    add_security_flags(parser)
    parser.set_defaults(run=run_dashboard)
    _add_systemd_unit(commands)


def _add_systemd_unit(commands):
    from concoord.ops.systemd import DEFAULT_USER, ROLES
    parser = commands.add_parser(
        "systemd-unit", help="print a systemd unit that runs one node",
        description="Print a systemd unit file for one replica, acceptor or nameserver: run as "
        "its own system user, restarted on failure (not after a clean stop), state in its data "
        "directory. Everything after ROLE is passed to the node, e.g. `concoord systemd-unit "
        "--name counter-replica replica -o counter.Counter -a 10.0.0.1 -p 14000 -b BOOT`. "
        "Install: save it as /etc/systemd/system/NAME.service, `useradd --system concoord`, "
        "then `systemctl daemon-reload && systemctl enable --now NAME`.")
    parser.add_argument("--name", help="the service's name, used for the default data "
                        "directory (default concoord-ROLE)")
    parser.add_argument("--user", default=DEFAULT_USER,
                        help=f"system user (and group) the node runs as (default {DEFAULT_USER})")
    parser.add_argument("--data-dir", help="the node's --data-dir (default /var/lib/concoord/"
                        "NAME, which systemd creates for the user); not for nameservers")
    parser.add_argument("--working-dir", help="directory the node starts in (where relative "
                        "paths on its command line, e.g. -f counter.py, are found)")
    parser.add_argument("--exec", dest="program", help="the concoord command on the host, "
                        "absolute (default: this one, e.g. /usr/local/bin/concoord)")
    parser.add_argument("role", choices=ROLES, help="which node the unit runs")
    parser.add_argument("node_args", nargs=argparse.REMAINDER, metavar="NODE FLAGS",
                        help="the node's own flags (see `concoord ROLE --help`)")
    parser.set_defaults(run=run_systemd_unit)


def _bootstrap(text):
    from concoord.cli import _bootstrap as parse
    return parse(text)


def run_dashboard(args):
    from concoord.cli import _resolve_bootstrap
    from concoord.ops.dashboard import serve_dashboard
    serve_dashboard(_resolve_bootstrap(args.boot), args.addr, args.port)
    return 0


def run_systemd_unit(args):
    from concoord.ops.systemd import unit_text
    name = args.name or f"concoord-{args.role}"
    if args.program:
        program = shlex.split(args.program)
    elif shutil.which("concoord"):
        program = [shutil.which("concoord")]
    else:
        program = [sys.executable, "-m", "concoord"]
    argv = program + [args.role]
    data_dir = None
    if args.role != "nameserver":
        if "--data-dir" in args.node_args:
            if args.data_dir:
                raise ConcoordError("give the data directory once (--data-dir before ROLE)")
            data_dir = args.node_args[args.node_args.index("--data-dir") + 1]
        else:
            data_dir = args.data_dir or f"/var/lib/concoord/{name}"
            argv += ["--data-dir", data_dir]
    elif args.data_dir:
        raise ConcoordError("a nameserver keeps no data: --data-dir is for replicas and "
                            "acceptors")
    try:
        print(unit_text(args.role, argv + args.node_args, args.user, data_dir,
                        args.working_dir, description=f"ConCoord {args.role} ({name})"), end="")
    except ValueError as exc:
        raise ConcoordError(str(exc)) from None
    return 0
