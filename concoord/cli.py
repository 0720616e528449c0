"""The `concoord` command: argparse dispatch only, one function per subcommand."""

import argparse
import json
import logging
import os
import sys

from concoord import __version__
from concoord.bench import commands as bench_commands
from concoord.deploy import commands as deploy_commands
from concoord.dns import commands as dns_commands
from concoord.errors import ConcoordError, ConnectionError
from concoord.argtypes import positive_int, positive_seconds
from concoord.ops import commands as ops_commands
from concoord.ops.flags import add_metrics_flags
from concoord.protocol.timing import Timing
from concoord.security.flags import add_security_flags, configure_from_args

EXIT_FAILURE, EXIT_USAGE = 1, 2

BOOT_HELP = ("comma-separated ip:port list of running nodes to join through "
             "(e.g. 127.0.0.1:14000,127.0.0.1:14001), or the instance's domain name when a "
             "concoord nameserver serves it (its SRV record lists the replicas; set "
             "CONCOORD_NAMESERVER=host:port to ask a given nameserver)")
PORT_HELP = "TCP port to listen on (default: a free port chosen at random in 14000-15000)"
TIMING_FLAGS = [
    ("--heartbeat", "heartbeat_interval", "how often the leader tells the others it is alive"),
    ("--election-timeout", "election_timeout",
     "leader silence after which the next replica in line takes over"),
    ("--lease", "lease", "read lease of the leader: reads within it need no log slot"),
    ("--dead-after", "dead_after",
     "a replica silent this long is removed from the view (it rejoins when back)"),
]
ADDR_HELP = ("address to bind and to advertise to the other nodes (default 127.0.0.1; use this "
             "host's reachable IP address when nodes run on several hosts)")


def _add_object_flags(parser, required):
    parser.add_argument("-f", "--objectfile", required=False,
                        help="path of the Python file that defines the object's class")
    parser.add_argument("-c", "--classname", required=False, help="name of the object's class")
    parser.add_argument("-o", "--object", dest="dotted",
                        help="the class as package.module.Class, instead of -f/-c")
    parser.set_defaults(object_required=required)


def _add_node_flags(parser):
    parser.add_argument("-a", "--addr", default="127.0.0.1", help=ADDR_HELP)
    parser.add_argument("-p", "--port", type=_port, help=PORT_HELP)
    parser.add_argument("-d", "--debug", action="store_true", help="log every protocol event")
    add_logger_flag(parser)
    add_security_flags(parser)
    add_metrics_flags(parser)
    limits = parser.add_argument_group("limits")
    limits.add_argument("--max-connections", type=positive_int, default=1024,
                        help="connections this node accepts at once; more are closed "
                        "(default 1024)")
    limits.add_argument("--max-in-flight", type=positive_int, default=10000,
                        help="unanswered requests one client connection may have; a client "
                        "sending more is disconnected (default 10000)")


def _add_timing_flags(parser):
    defaults = Timing()
    group = parser.add_argument_group(
        "timeouts", "In seconds; checked against each other at start.")
    for flag, field, text in TIMING_FLAGS:
        group.add_argument(flag, dest=field, type=positive_seconds,
                           default=getattr(defaults, field),
                           help=f"{text} (default {getattr(defaults, field):g})")


def _timing(args):
    timing = Timing(**{field: getattr(args, field) for _, field, _ in TIMING_FLAGS})
    problems = timing.validate()
    if problems:
        raise ConcoordError("bad timeouts: " + "; ".join(problems))
    return timing


def add_logger_flag(parser):
    parser.add_argument("-l", "--logger", metavar="HOST:PORT",
                        help="also send this node's log lines to a `concoord logdaemon`")


def attach_logger(args, role):
    """-l: one line per log record to the network log sink (never blocks the node). Attached
    before the node starts, so its start-up lines are sent too; the handler's ``node_id``
    is completed once the port is known."""
    if not getattr(args, "logger", None):
        return None
    from concoord.deploy.netlog import attach_network_handler
    return attach_network_handler(args.logger, f"{args.addr}:{args.port or '?'}", role)


def _port(text):
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _bootstrap(text):
    """ip:port entries, or domain names served by a concoord nameserver (resolved later)."""
    hosts = [h.strip() for h in text.split(",") if h.strip()]
    for host in hosts:
        name, colon, port = host.rpartition(":")
        if colon and (not name or not port.isdigit()):
            raise argparse.ArgumentTypeError(f"'{host}' is neither ip:port nor a domain name")
    if not hosts:
        raise argparse.ArgumentTypeError("no ip:port given")
    return hosts


def _resolve_bootstrap(entries):
    """Domain names become the replicas their SRV record lists (see concoord nameserver)."""
    if entries is None:
        return None
    from concoord.dns.nameserver import expand_bootstrap
    try:
        return expand_bootstrap(entries)
    except OSError as exc:
        raise ConcoordError(f"cannot resolve bootstrap {','.join(entries)}: {exc}") from None


def build_parser():
    parser = argparse.ArgumentParser(
        prog="concoord", description="ConCoord: replicate an ordinary Python object with "
        "Multi-Paxos and use it from anywhere through a generated proxy.")
    parser.add_argument("--version", action="version", version=f"concoord {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    obj = commands.add_parser("object", help="generate the client proxy and server-side copy "
                              "of an object", description="Write FILE.pyfixed (server side) and "
                              "FILE.pyproxy (client proxy) beside the object's file.")
    obj.add_argument("-f", "--objectfile", required=True, help="path of the object's file")
    obj.add_argument("-c", "--classname", required=True, help="name of the object's class")
    obj.add_argument("-s", "--safe", action="store_true",
                     help="refuse objects that do I/O, networking, threads, exec or eval")
    obj.set_defaults(run=run_object)

    replica = commands.add_parser("replica", help="start a replica of an object",
                                  description="Start a replica. Without -b it is the bootstrap "
                                  "replica of a new instance; with -b it joins a running one.")
    _add_object_flags(replica, required=True)
    _add_node_flags(replica)
    replica.add_argument("-b", "--boot", type=_bootstrap, help=BOOT_HELP)
    replica.add_argument("-n", "--domain", help="also answer DNS for this domain, like "
                         "`concoord nameserver` (see --dns-port)")
    replica.add_argument("--dns-port", type=_port, default=53,
                         help="UDP/TCP port for DNS with -n (default 53, which needs root)")
    dns_commands.add_rate_limit_flag(replica)
    replica.add_argument("--data-dir", help="directory where the replica records its identity "
                         "and the instance's initial configuration, so that restarted with it "
                         "(even after the whole instance stopped) it resumes as the same member "
                         "and rebuilds the object from the log")
    colocated = replica.add_argument_group(
        "colocated acceptor", "One process for both roles on a host (the common deployment): "
        "the replica and an acceptor, each a full member with its own port (other replicas "
        "reach the acceptor there), talking to each other by function call instead of over "
        "TCP. The acceptor joins through this replica (or -b), and with --data-dir DIR keeps "
        "its promises in DIR/acceptor, fsync'd before it answers: restarted with the same "
        "--data-dir, both resume as the same members. `concoord acceptor` runs one alone.")
    colocated.add_argument("--with-acceptor", action="store_true",
                           help="also run an acceptor in this process")
    colocated.add_argument("--acceptor-port", type=_port,
                           help="the colocated acceptor's TCP port (needs --with-acceptor; "
                           "default: the one remembered in --data-dir, else a free port in "
                           "14000-15000)")
    _add_timing_flags(replica)
    replica.set_defaults(run=run_replica)

    acceptor = commands.add_parser("acceptor", help="start an acceptor",
                                   description="Start an acceptor and join the instance that "
                                   "the bootstrap node belongs to.")
    _add_node_flags(acceptor)
    acceptor.add_argument("-b", "--boot", type=_bootstrap, help=BOOT_HELP + " (required, "
                          "except to restart from a --data-dir that holds its promises)")
    acceptor.add_argument("--data-dir", help="directory for the acceptor's promises, fsync'd "
                          "before every reply; restart with the same directory to resume as "
                          "the same member. Without it state is in memory only: an acceptor "
                          "that restarts has forgotten its promises and must not rejoin under "
                          "its old address, and a whole-instance crash loses every write")
    acceptor.set_defaults(run=run_acceptor)

    status = commands.add_parser("status", help="show the instance: every node, alive or "
                                 "not, the leader, applied slots and lag, commands per second")
    status.add_argument("-b", "--boot", type=_bootstrap, required=True, help=BOOT_HELP)
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    add_security_flags(status)
    status.set_defaults(run=run_status)

    secret = commands.add_parser("secret", help="make a new node secret for an instance, or "
                                 "derive its client credential",
                                 description="Print a new random node secret, or write it to "
                                 "FILE (readable by its owner only) for the nodes' --secret-file. "
                                 "With --client-from, the client credential of that node secret "
                                 "instead: clients use it; it cannot authenticate as a node.")
    secret.add_argument("-o", "--output", metavar="FILE", help="write the secret to FILE")
    secret.add_argument("--client-from", metavar="NODE_SECRET_FILE",
                        help="derive the client credential of this node secret")
    secret.add_argument("--ca", metavar="CA_FILE", nargs="?", const="",
                        help="make a new instance CA (alone, with -o CA_FILE), or, with "
                        "--node-cert, the CA that signs the certificate (see --node-cert on "
                        "the nodes)")
    secret.add_argument("--node-cert", metavar="HOST:PORT[,HOST:PORT]",
                        help="make a certificate for the node(s) listening there, signed by "
                        "--ca CA_FILE")
    secret.set_defaults(run=run_secret)

    for package_commands in (dns_commands, deploy_commands, bench_commands, ops_commands):
        package_commands.add_commands(commands)
    return parser


def _configure_logging(debug):
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")


def _load_object(args):
    from concoord.codegen.loader import load_class
    if args.dotted:
        return load_class(dotted=args.dotted)
    if not (args.objectfile and args.classname):
        raise ConcoordError("name the object with -f FILE -c CLASS (or -o package.module.Class)")
    return load_class(path=args.objectfile, class_name=args.classname)


def run_object(args):
    from concoord.codegen.concoordify import concoordify
    fixed, proxy = concoordify(args.objectfile, args.classname, safe=args.safe)
    print(f"wrote {fixed}\nwrote {proxy}")
    return 0


def _with_fixed_hash_seed():
    """Replicas must iterate sets and dicts of strings in the same order: str hashes are
    randomised per process unless PYTHONHASHSEED is fixed, so re-run this command with it."""
    if os.environ.get("PYTHONHASHSEED") == "0":
        return
    env = dict(os.environ, PYTHONHASHSEED="0")
    argv = getattr(sys, "orig_argv", None) or [sys.executable] + sys.argv
    os.execve(sys.executable, [sys.executable] + argv[1:], env)


def _check_colocated_flags(args):
    """Refuse combinations that cannot mean what the user wants, before anything starts."""
    if args.acceptor_port is not None and not args.with_acceptor:
        raise ConcoordError("--acceptor-port needs --with-acceptor (the acceptor it is for)")
    if args.with_acceptor and args.acceptor_port is not None \
            and args.acceptor_port == args.port:
        raise ConcoordError(f"--acceptor-port {args.acceptor_port} is the replica's own port "
                            "(-p): the replica and its acceptor each need a port of their own")


def _start_replica_nodes(args, object_class):
    """The replica's runner, and the colocated acceptor's (or None)."""
    from concoord.runtime.colocated import start_colocated
    from concoord.runtime.launch import start_replica
    bootstrap = _resolve_bootstrap(args.boot)
    if args.with_acceptor:
        return start_colocated(object_class, args.addr, args.port, args.acceptor_port,
                               bootstrap, args.data_dir, _timing(args), _limits(args))
    return start_replica(object_class, args.addr, args.port, bootstrap, args.data_dir,
                         _timing(args), _limits(args)), None


def run_replica(args):
    _check_colocated_flags(args)
    _with_fixed_hash_seed()
    from concoord.runtime.launch import serve_until_signalled
    _configure_logging(args.debug)
    object_class = _load_object(args)
    handler = attach_logger(args, "replica")
    runner, acceptor = _start_replica_nodes(args, object_class)
    if handler is not None:
        handler.node_id = runner.node_id
    _serve_metrics(args, runner, "replica")
    dns = None
    if args.domain:
        from concoord.dns.replica_dns import serve_dns_alongside
        dns = serve_dns_alongside(runner.node_id, args.domain, args.addr, args.dns_port,
                                  rate_limit=args.rate_limit)
    try:
        failure = serve_until_signalled(runner, *([acceptor] if acceptor else []))
    finally:
        if dns is not None:
            dns.stop()
    return _exit_status("replica", failure)


def run_acceptor(args):
    from concoord.runtime.launch import serve_until_signalled, start_acceptor
    _configure_logging(args.debug)
    handler = attach_logger(args, "acceptor")
    runner = start_acceptor(args.addr, args.port, _resolve_bootstrap(args.boot), args.data_dir,
                            _limits(args))
    if handler is not None:
        handler.node_id = runner.node_id
    _serve_metrics(args, runner, "acceptor")
    return _exit_status("acceptor", serve_until_signalled(runner))


def _exit_status(role, failure):
    """0 after a signal; 1, with the reason on stderr, when the node stopped itself."""
    if failure is None:
        return 0
    print(f"concoord {role}: stopped: {failure}", file=sys.stderr)
    return 1


def _serve_metrics(args, runner, role):
    if args.metrics_port is not None:
        from concoord.ops.metrics import serve_node_metrics
        serve_node_metrics(args, runner, role)


def _limits(args):
    from concoord.runtime.launch import Limits
    return Limits(args.max_connections, args.max_in_flight)


def run_secret(args):
    from concoord.security.secret import (SecretError, client_credential, generate_secret,
                                          read_secret_file)
    from concoord.security import node_certs
    if args.node_cert:
        if not args.ca:
            raise SecretError("--node-cert needs --ca CA_FILE, the CA that signs it")
        secret = node_certs.issue(node_certs.read_ca_file(args.ca), args.node_cert.split(","))
        what = f"a node certificate for {args.node_cert}"
    elif args.ca is not None:
        if args.ca:
            raise SecretError("--ca FILE goes with --node-cert; alone, --ca -o CA_FILE makes "
                              "a new CA")
        secret, what = node_certs.new_ca(), "a new instance CA"
    elif args.client_from:
        secret, what = client_credential(read_secret_file(args.client_from)).decode(), \
            "the client credential"
    else:
        secret, what = generate_secret(), "a new node secret"
    if not args.output:
        print(secret)
        return 0
    descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as f:
        f.write(secret + "\n")
    print(f"wrote {what} to {args.output}")
    return 0


def run_status(args):
    from concoord.client.instance_status import format_status, instance_status
    view = instance_status(_resolve_bootstrap(args.boot))
    print(json.dumps(view, indent=2, sort_keys=True) if args.json else format_status(view))
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        configure_from_args(args)
        return args.run(args)
    except ConnectionError as exc:        # the network or the instance: not a usage error
        print(f"concoord {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except ConcoordError as exc:
        print(f"concoord {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"concoord {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
