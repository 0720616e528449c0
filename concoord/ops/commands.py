"""The `concoord dashboard` and `concoord systemd-unit` subcommands (wired into cli.py by
add_commands)."""

from concoord.ops.flags import port_number
from concoord.security.flags import add_security_flags

DASHBOARD_DESCRIPTION = (
    "Serve a live web page of the instance at http://ADDRESS:PORT/: every node with its role, "
    "address, liveness, applied slot and lag; the leader and its ballot; commands per second "
    "over the last ten minutes; recent elections and view changes; str() of the object. It "
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


def _bootstrap(text):
    from concoord.cli import _bootstrap as parse
    return parse(text)


def run_dashboard(args):
    from concoord.cli import _resolve_bootstrap
    from concoord.ops.dashboard import serve_dashboard
    serve_dashboard(_resolve_bootstrap(args.boot), args.addr, args.port)
    return 0
