"""The `concoord` subcommands of this package (wired into cli.py by add_commands):
initialize, addnode, logdaemon and bundle. Argument parsing only; the work is done elsewhere
(imported when the command runs, so that other commands never load paramiko)."""

import argparse
import os
import signal
import sys
import textwrap

from concoord.deploy import settings as settings_module
from concoord.deploy.errors import DeployError

SSH_FLAGS = ("ssh_user", "ssh_key", "ssh_port", "known_hosts", "accept_new_host_keys",
             "remote_python", "remote_dir", "dns_port", "join_timeout", "logger",
             "systemd", "systemd_user", "unit_dir", "systemctl")
CONFIG_EPILOG = ("Configuration file (--config), every key optional:\n"
                 + settings_module.__doc__.split("::", 1)[1])
HOST_FILE_HELP = ("file listing the hosts, one per line: host, user@host, host:port or "
                  "user@host:port; '#' starts a comment")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def _add_object_flags(parser, required):
    parser.add_argument("-s", "--domain", required=True,
                        help="name of the instance (the nameservers' DNS domain)")
    parser.add_argument("-f", "--objectfile", required=required,
                        help="the object's Python file (it is concoordified and copied over)")
    parser.add_argument("-c", "--classname", required=required, help="the object's class")


def _add_ssh_flags(parser):
    group = parser.add_argument_group("SSH and remote hosts (flags override --config)")
    group.add_argument("--config", metavar="FILE",
                       help="INI file with these settings (format below)")
    group.add_argument("--ssh-user", metavar="USER", help="user for hosts given without one")
    group.add_argument("--ssh-key", metavar="FILE",
                       help="private key file (default: ssh-agent and ~/.ssh/id_*)")
    group.add_argument("--ssh-port", metavar="PORT", type=int,
                       help="SSH port for hosts given without one (default 22)")
    group.add_argument("--known-hosts", metavar="FILE",
                       help="known_hosts file to check host keys against "
                            "(default ~/.ssh/known_hosts)")
    group.add_argument("--accept-new-host-keys", action="store_const", const=True,
                       help="trust hosts not yet in known_hosts and record their keys "
                            "(a key that changed is still refused)")
    group.add_argument("--remote-python", metavar="PATH",
                       help="Python 3.9+ on the hosts (default python3)")
    group.add_argument("--remote-dir", metavar="DIR",
                       help="work directory on the hosts for the object, logs and data "
                            "(default .concoord/DOMAIN in the remote home)")
    group.add_argument("--dns-port", metavar="PORT", type=int,
                       help="DNS port of nameservers (default 53, which needs root)")
    group.add_argument("--join-timeout", metavar="SECONDS", type=float,
                       help="how long a node may take to join (default 30)")
    group.add_argument("-l", "--logger", metavar="HOST:PORT",
                       help="send the nodes' logs to this `concoord logdaemon`")
    units = parser.add_argument_group("systemd (the SSH user must be root on the hosts)")
    units.add_argument("--systemd", action="store_const", const=True,
                       help="install and start each node as a systemd unit (Restart="
                       "on-failure, started at boot, run as --systemd-user, its data in its "
                       "data directory) instead of a detached process; the work directory "
                       "defaults to /var/lib/concoord/DOMAIN")
    units.add_argument("--systemd-user", metavar="USER", help="system user the nodes run as, "
                       "created if missing (default concoord)")
    units.add_argument("--unit-dir", metavar="DIR", help="where the unit files go (default "
                       "/etc/systemd/system)")
    units.add_argument("--systemctl", metavar="COMMAND", help="systemctl on the hosts "
                       "(default systemctl)")


def _add_initialize(commands):
    parser = commands.add_parser(
        "initialize", help="start a new instance on remote hosts over SSH",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Check every host (SSH, Python 3.9+, ConCoord or else the uploaded server bundle), "
            "copy the object over, start the bootstrap replica, the acceptors, the other "
            "replicas and the nameservers (each detached, each confirmed to have joined, a "
            "failed start retried on another port or host), then print the bootstrap string "
            "and write the client proxy beside FILE. If anything fails, the nodes this run "
            "started are stopped again."),
        epilog=CONFIG_EPILOG)
    _add_object_flags(parser, required=True)
    parser.add_argument("-r", "--replicas", type=_positive_int, default=3,
                        help="number of replicas (default 3)")
    parser.add_argument("-a", "--acceptors", type=_positive_int, default=3,
                        help="number of acceptors (default 3)")
    parser.add_argument("-n", "--nameservers", type=_positive_int, default=0,
                        help="number of DNS nameservers (default 0)")
    parser.add_argument("--hosts", metavar="FILE", help=HOST_FILE_HELP)
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--secret-file", metavar="FILE", help="the shared secret to give the "
                        "nodes (default: a new one, written to DOMAIN.secret here)")
    secret.add_argument("--no-secret", action="store_true", help="start the nodes without a "
                        "secret: anyone who reaches their ports can join or reconfigure them")
    _add_ssh_flags(parser)
    parser.set_defaults(run=run_initialize)


def _add_addnode(commands):
    parser = commands.add_parser(
        "addnode", help="add an acceptor, replica or nameserver on a remote host over SSH",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Start one node on HOST, detached, confirm that the instance lists it, and print "
            "the bootstrap string. -f/-c are needed for replicas (the object is copied over)."),
        epilog=CONFIG_EPILOG)
    parser.add_argument("-t", "--type", type=int, choices=(1, 2, 3), required=True,
                        help="1 acceptor, 2 replica, 3 nameserver")
    _add_object_flags(parser, required=False)
    parser.add_argument("-b", "--boot", required=True,
                        help="ip:port[,ip:port...] of running nodes, or the instance's domain")
    parser.add_argument("--host", required=True,
                        help="where to start it: host, user@host, host:port or user@host:port")
    parser.add_argument("--secret-file", metavar="FILE", help="the instance's shared secret "
                        "(default: $CONCOORD_SECRET or $CONCOORD_SECRET_FILE; none: the "
                        "instance has no secret)")
    _add_ssh_flags(parser)
    parser.set_defaults(run=run_addnode)


def _add_logdaemon(commands):
    from concoord.deploy.logdaemon import DEFAULT_PORT
    parser = commands.add_parser(
        "logdaemon", help="collect and print the logs nodes send with -l host:port",
        description="Listen for log lines from nodes started with -l HOST:PORT and print "
        "them, from every node, with timestamps, until interrupted.")
    parser.add_argument("-a", "--addr", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("-p", "--port", type=int, default=DEFAULT_PORT,
                        help=f"TCP port to listen on (default {DEFAULT_PORT})")
    parser.set_defaults(run=run_logdaemon)


def _add_bundle(commands):
    parser = commands.add_parser(
        "bundle", help="build concoord-server.pyz or concoord-client.pyz (make server/client)",
        description="Build a zipapp that runs with a plain python3: `python3 "
        "concoord-server.pyz replica -o counter.Counter ...`; a client adds "
        "concoord-client.pyz to sys.path. msgpack and dnspython are bundled.")
    parser.add_argument("kind", choices=("server", "client"),
                        help="server: runs nodes; client: the client library and proxies")
    parser.add_argument("-o", "--output", help="where to write it (default dist/concoord-KIND.pyz)")
    parser.add_argument("--object", dest="objects", action="append", default=[],
                        metavar="FILE", help="an object file to add (repeatable); .pyfixed and "
                        ".pyproxy files go in as counter.py and counterproxy.py")
    parser.set_defaults(run=run_bundle)


def add_commands(commands):
    """Add this package's subparsers to `commands` (argparse subparsers); each sets run=FUNC."""
    _add_initialize(commands)
    _add_addnode(commands)
    _add_logdaemon(commands)
    _add_bundle(commands)


def _settings(args, **extra):
    flags = {name: getattr(args, name) for name in SSH_FLAGS}
    return settings_module.resolve_settings(args.config, **flags, **extra)


def _roll_back_on_sigterm():
    """Make SIGTERM interrupt a deployment like Ctrl-C does, so that it stops the nodes it
    started instead of leaving them behind."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def _require_paramiko():
    try:
        import paramiko  # noqa: F401
    except ImportError:
        raise DeployError("deploying over SSH needs paramiko (pip install paramiko)") from None


def _deploying(run):
    """A run function for a deploying command: paramiko needed, SIGTERM rolls back, and a
    failed deployment (a host, the network) exits 1, not 2 as a usage error would."""
    def wrapper(args):
        try:
            _require_paramiko()
            _roll_back_on_sigterm()
            run(args)
        except DeployError as exc:
            print(f"concoord {args.command}: error: {exc}", file=sys.stderr)
            return 1
        return 0
    return wrapper


@_deploying
def run_initialize(args):
    from concoord.deploy.initialize import client_credential_path, initialize
    settings = _settings(args, hosts_file=args.hosts)
    counts = (args.replicas, args.acceptors, args.nameservers)
    secret = new_secret_file = None
    if args.secret_file:
        secret = _use_secret(args.secret_file)
    elif not args.no_secret:
        new_secret_file = _new_instance_secret(args.domain)
        secret = _use_secret(new_secret_file)
    if secret is not None:
        _write_client_credential(client_credential_path(args.domain), secret)
    initialize(settings, args.domain, args.objectfile, args.classname, counts, secret=secret,
               new_secret_file=new_secret_file)


@_deploying
def run_addnode(args):
    from concoord.deploy.addnode import addnode
    secret = _use_secret(args.secret_file)
    addnode(_settings(args), args.type, args.domain, args.objectfile, args.classname,
            args.boot, args.host, secret=secret)


def _new_instance_secret(domain):
    """A new node secret for a new instance, saved as DOMAIN.secret here; its path. An
    existing file is never overwritten: it may be the secret of a running instance (a failed
    initialize removes the one it made, and its client credential, see initialize())."""
    from concoord.security.secret import generate_secret
    path = f"{domain}.secret"
    _write_private(path, generate_secret(), f"pass --secret-file {path} to use it again, or "
                   "remove it")
    print(f"node secret: {os.path.abspath(path)} (for nodes and addnode only)", flush=True)
    return path


def _write_client_credential(path, secret):
    """Clients get the client credential, never the node secret: with it they can call the
    object but cannot act as a node (concoord.security.secret)."""
    from concoord.security.secret import client_credential
    credential = client_credential(secret).decode()
    if os.path.exists(path):
        with open(path) as f:
            if f.read().strip() == credential:
                return
    _write_private(path, credential, "remove it (it is not this instance's client credential)")
    print(f"client credential: {os.path.abspath(path)} (for clients: "
          f"CONCOORD_SECRET_FILE={os.path.abspath(path)})", flush=True)


def _write_private(path, text, if_exists):
    """Write ``text`` to a new file ``path`` readable by its owner only."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise DeployError(f"{path} exists: {if_exists}") from None
    with os.fdopen(descriptor, "w") as f:
        f.write(text + "\n")


def _use_secret(path):
    """Read the node secret (from ``path``, else the environment) and make this process use
    it."""
    from concoord import security
    from concoord.security.secret import read_secret_file
    settings = security.current() if path is None else security.Security(read_secret_file(path))
    if not settings.is_node_credential:
        raise DeployError(f"{path or 'the environment'} holds a client credential: nodes need "
                          "the node secret")
    security.configure(settings)
    return settings.secret


def run_logdaemon(args):
    from concoord.deploy.logdaemon import run_logdaemon as serve
    return serve(args.addr, args.port)


def run_bundle(args):
    from concoord.deploy.bundle import build_bundle
    output = args.output or f"dist/concoord-{args.kind}.pyz"
    print(f"wrote {build_bundle(args.kind, output, args.objects)}")
    return 0
