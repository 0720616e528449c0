"""Finding an instance's replicas by name: the SRV record ``_concoord._tcp.DOMAIN``.

Clients (``Counter('counterdomain')``) and nodes (``-b counterdomain``) use this. The addresses
come back in the order a client should try them: SRV priority first (the nameserver gives the
leader the lowest), the server's order within a priority.
"""

import socket

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from concoord.wire.addresses import format_address, split_address

SRV_PREFIX = "_concoord._tcp."
ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


class ResolveError(OSError):
    """The name could not be turned into replica addresses (an OSError, like a failed connect,
    so that callers treat it as one more unreachable bootstrap entry)."""

    def __str__(self):
        return self.args[0] if self.args else "cannot resolve"


def make_resolver(nameserver=None, timeout=2.0):
    """A dnspython Resolver: the system's (resolv.conf), or one that asks only ``nameserver``
    ("host:port", a port-less "host" means 53)."""
    if nameserver is None:
        resolver = dns.resolver.Resolver()
    else:
        host, port = _split_nameserver(nameserver)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [_ip_of(host)]
        resolver.port = port
    resolver.lifetime = timeout
    resolver.timeout = timeout / 2   # one lost datagram costs half the budget, not all of it
    return resolver


def _split_nameserver(nameserver):
    try:
        return split_address(nameserver)
    except ValueError:
        return nameserver.strip("[]"), 53


def _ip_of(host):
    """dnspython wants an IP address for its nameserver; a host name is looked up once."""
    try:
        return socket.getaddrinfo(host, 53, proto=socket.IPPROTO_UDP)[0][4][0]
    except (socket.gaierror, IndexError) as exc:
        raise ResolveError(f"cannot find nameserver {host!r}: {exc}") from None


def resolve_srv(domain, nameserver=None, timeout=2.0):
    """The replicas of the instance named ``domain``, as ["host:port", ...] in the order to
    try them. ``nameserver`` is "host:port" (None: the system resolver). ResolveError (an
    OSError) when the name does not resolve or names no replica."""
    where = f" at {nameserver}" if nameserver else ""
    qname = dns.name.from_text(SRV_PREFIX + domain.rstrip(".") + ".")
    try:
        resolver = make_resolver(nameserver, timeout)
        answer = resolver.resolve(qname, dns.rdatatype.SRV, search=False)
    except dns.exception.DNSException as exc:
        raise ResolveError(f"cannot resolve {qname}{where}: {_reason(exc)}") from None
    records = sorted(answer, key=lambda rdata: rdata.priority)   # stable: server order kept
    glue = _glue(answer.response)
    addresses = []
    for rdata in records:
        for ip in glue.get(rdata.target) or _lookup(resolver, rdata.target):
            address = format_address((ip, rdata.port))
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise ResolveError(f"{qname}{where} names no reachable replica")
    return addresses


def _glue(response):
    """Target name -> addresses from the ADDITIONAL section (saves one query per target)."""
    glue = {}
    for rrset in response.additional:
        if rrset.rdtype in ADDRESS_TYPES:
            glue.setdefault(rrset.name, []).extend(rdata.address for rdata in rrset)
    return glue


def _lookup(resolver, target):
    """A and AAAA of a target the server sent no glue for; [] if it has neither."""
    found = []
    for rdtype in ADDRESS_TYPES:
        try:
            found += [rdata.address for rdata in resolver.resolve(target, rdtype, search=False)]
        except dns.exception.DNSException:
            continue
    return found


def _reason(exc):
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "no such name"
    if isinstance(exc, dns.resolver.NoAnswer):
        return "no SRV record"
    if isinstance(exc, dns.exception.Timeout):
        return "no answer (timed out)"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "every nameserver failed or refused"
    return str(exc) or type(exc).__name__
