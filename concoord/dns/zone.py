"""An immutable, queryable snapshot of the zone for one view.

The server swaps in a new Zone on every view change; a query reads one reference, so it always
sees one consistent snapshot without locks.
"""

import logging

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from concoord.dns.records import view_records

log = logging.getLogger("concoord.dns.zone")

GLUE_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


class Zone:
    """Records by owner name and type. ``ready`` is False until the first view arrives: the
    server then answers SERVFAIL rather than pretending the instance has no replicas."""

    def __init__(self, origin, rrsets=(), serial=0, ready=True):
        self.origin = origin
        self.serial = serial
        self.ready = ready
        self._nodes = {}
        for rrset in rrsets:
            self._nodes.setdefault(rrset.name, {})[rrset.rdtype] = rrset
        # Names that exist only because something exists below them (``_tcp.DOMAIN``): RFC 8020
        # says they are there, with no data, so NXDOMAIN would be wrong for them.
        self._empty = set()
        for name in self._nodes:
            parent = name
            while parent != origin and len(parent) > len(origin):
                parent = parent.parent()
                if parent not in self._nodes:
                    self._empty.add(parent)

    def find(self, name):
        """{rdtype: rrset} at ``name``; {} for a name that exists without data; None if none."""
        node = self._nodes.get(name)
        if node is not None:
            return node
        return {} if name in self._empty else None

    def soa(self):
        return self._nodes.get(self.origin, {}).get(dns.rdatatype.SOA)

    def glue(self, target):
        """The address records of an in-zone ``target`` (for the ADDITIONAL section)."""
        node = self._nodes.get(target, {})
        return [node[t] for t in GLUE_TYPES if t in node]

    def rrsets(self):
        return [rrset for node in self._nodes.values() for rrset in node.values()]


def origin_of(domain):
    """``counterdomain`` -> the absolute dns.name.Name; ValueError for a name DNS cannot carry."""
    try:
        origin = dns.name.from_text(domain.rstrip(".") + ".")
    except dns.exception.DNSException as exc:
        raise ValueError(f"{domain!r} is not a valid domain name: {exc}") from None
    if origin == dns.name.root:
        raise ValueError("the domain cannot be the DNS root")
    return origin


def unready_zone(domain):
    return Zone(origin_of(domain), ready=False)


def build_zone(view, domain, ttl, own_nameserver=None):
    """The Zone that publishes ``view`` under ``domain`` with every record's TTL ``ttl``."""
    origin = origin_of(domain)
    rrsets = []
    for (owner, type_text), texts in view_records(view, domain, own_nameserver, ttl).items():
        rrset = _parse(owner, type_text, texts, ttl)
        if rrset is not None:
            rrsets.append(rrset)
    return Zone(origin, rrsets, serial=view.serial)


def _parse(owner, type_text, texts, ttl):
    """One rrset; a record that will not parse (a node id DNS cannot express) is left out
    rather than taking the whole zone down."""
    rdtype = dns.rdatatype.from_text(type_text)
    rrset = dns.rrset.RRset(dns.name.from_text(owner), dns.rdataclass.IN, rdtype)
    for text in texts:
        try:
            rrset.add(dns.rdata.from_text(dns.rdataclass.IN, rdtype, text), ttl)
        except (dns.exception.DNSException, ValueError) as exc:
            log.warning("leaving out %s %s %s: %s", owner, type_text, text, exc)
    return rrset if len(rrset) else None
