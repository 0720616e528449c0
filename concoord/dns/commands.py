"""The `concoord nameserver` subcommand (wired into cli.py by add_commands)."""

import argparse
import logging

from concoord.dns.ratelimit import RATE, SLIP
from concoord.errors import ConcoordError
from concoord.ops.flags import add_metrics_flags
from concoord.security.flags import add_security_flags

DEFAULT_DNS_PORT = 53
DEFAULT_TTL = 5

DESCRIPTION = (
    "Answer DNS queries for DOMAIN from the instance's live view: A/AAAA DOMAIN (the replicas, "
    "leader first), SRV _concoord._tcp.DOMAIN (replicas with ports), TXT DOMAIN (every node), "
    "NS DOMAIN (the nameservers) and SOA. The nameserver joins the instance (it takes no part "
    "in consensus) and leaves it on Ctrl-C or SIGTERM. Port 53 needs root; use --dns-port 5353 "
    "otherwise. With --route53 it publishes the same records to an Amazon Route53 hosted zone "
    "instead (needs boto3; credentials from the standard AWS environment or config).")


def add_rate_limit_flag(parser):
    """--rate-limit, for `concoord nameserver` and for `concoord replica -n`."""
    parser.add_argument("--rate-limit", type=_rate, default=RATE, metavar="N",
                        help=f"UDP answers per second to one source network (IPv4 /24, IPv6 "
                        f"/56), bursts of 2N; past it queries are dropped and every {SLIP}nd "
                        f"gets a truncated answer (retry over TCP), so the nameserver cannot "
                        f"amplify a flood; 0 turns it off (default {RATE:g})")


def _rate(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of answers per second "
                                         "(0 turns the limit off)")
    return value


def add_commands(commands):
    """Add this package's subparsers to `commands` (argparse subparsers); each sets run=FUNC."""
    parser = commands.add_parser("nameserver", help="serve the instance's view in DNS",
                                 description=DESCRIPTION)
    parser.add_argument("-n", "--domain", required=True,
                        help="the domain to answer for, e.g. counterdomain")
    parser.add_argument("-b", "--boot", type=_bootstrap, required=True,
                        help="ip:port[,ip:port...] of running nodes, or a domain whose SRV "
                        "record lists them (resolved through $CONCOORD_NAMESERVER if set)")
    parser.add_argument("-f", "--objectfile", help="the object's file (accepted for "
                        "compatibility; DNS does not need the object, but the file must exist)")
    parser.add_argument("-c", "--classname", help="the object's class (accepted for "
                        "compatibility)")
    parser.add_argument("-a", "--addr", default="127.0.0.1",
                        help="address to answer DNS on and to advertise in NS (default "
                        "127.0.0.1)")
    parser.add_argument("--dns-port", type=_port, default=DEFAULT_DNS_PORT, metavar="PORT",
                        help="UDP and TCP port to answer on (default 53, which needs root)")
    parser.add_argument("--ttl", type=_ttl, default=DEFAULT_TTL, metavar="SECONDS",
                        help=f"TTL of every record, in seconds (default {DEFAULT_TTL})")
    add_rate_limit_flag(parser)
    parser.add_argument("--route53", action="store_true",
                        help="publish to an Amazon Route53 hosted zone instead of answering DNS")
    parser.add_argument("--zone-id", metavar="ID",
                        help="the Route53 hosted zone id (with --route53)")
    parser.add_argument("-d", "--debug", action="store_true", help="log every view change")
    parser.add_argument("-l", "--logger", metavar="HOST:PORT",
                        help="also send this node's log lines to a `concoord logdaemon`")
    add_security_flags(parser)      # it reads the view from the replicas
    add_metrics_flags(parser)
    parser.set_defaults(run=run_nameserver)


def _port(text):
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number in 1-65535")
    return int(text)


def _ttl(text):
    if not text.isdigit() or not 0 <= int(text) <= 2147483647:
        raise argparse.ArgumentTypeError(f"'{text}' is not a TTL in seconds")
    return int(text)


def _bootstrap(text):
    hosts = [h.strip() for h in text.split(",") if h.strip()]
    if not hosts:
        raise argparse.ArgumentTypeError("no bootstrap node given")
    return hosts


def _validate(args):
    from concoord.codegen.loader import find_object_file
    from concoord.dns.zone import origin_of
    try:
        origin_of(args.domain)
    except ValueError as exc:
        raise ConcoordError(str(exc)) from None
    if args.objectfile:
        find_object_file(args.objectfile)   # ObjectLoadError names where it looked
    if args.addr in ("0.0.0.0", "::"):
        raise ConcoordError(f"-a {args.addr} cannot be advertised in NS records; give this "
                            f"host's reachable address")
    if args.route53 and not args.zone_id:
        raise ConcoordError("--route53 needs --zone-id HOSTED_ZONE_ID")
    if args.zone_id and not args.route53:
        raise ConcoordError("--zone-id is only used with --route53")


def _serve_metrics(args, service):
    if args.metrics_port is not None:
        from concoord.ops.metrics import serve_nameserver_metrics
        serve_nameserver_metrics(args, service)


def run_nameserver(args):
    from concoord.dns import nameserver
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _validate(args)
    if args.logger:
        from concoord.deploy.netlog import attach_network_handler
        attach_network_handler(args.logger, f"{args.addr}:{args.dns_port}", "nameserver")
    bootstrap = nameserver.expand_bootstrap(args.boot)
    if args.route53:
        nameserver.run_route53(args.domain, bootstrap, args.zone_id, args.ttl)
    else:
        nameserver.run_dns(args.domain, bootstrap, args.addr, args.dns_port, args.ttl,
                           on_start=lambda service: _serve_metrics(args, service),
                           rate_limit=args.rate_limit)
    return 0
