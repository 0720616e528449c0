"""The DNS records that describe a view, as plain text: one source for the nameserver's zone
and for Route53, so both publish exactly the same thing.

Host names inside the zone are derived from the address itself (``r-10-0-0-5``,
``ns-10-0-0-7``) rather than numbered: a name then always means the same address, so an SRV
record and an A record cached at different moments can never pair one replica's port with
another replica's address, and several nameservers derive identical names independently.
"""

import ipaddress
from collections import OrderedDict

from concoord.wire.addresses import split_address

SRV_SERVICE = "_concoord._tcp"
LEADER_PRIORITY, FOLLOWER_PRIORITY = 0, 1   # RFC 2782: clients try the lowest priority first
SRV_WEIGHT = 1
ROLE_WORDS = (("replicas", "replica"), ("acceptors", "acceptor"), ("nameservers", "nameserver"))


def parse_ip(host):
    """The ipaddress object for an IP literal, or None for a host name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def host_label(prefix, ip):
    """``r-127-0-0-1``; IPv6 is written out in full so the label never holds ``--``."""
    if ip.version == 4:
        return f"{prefix}-{str(ip).replace('.', '-')}"
    return f"{prefix}-{ip.exploded.replace(':', '-')}"


def _address_type(ip):
    return "A" if ip.version == 4 else "AAAA"


class _Records:
    """An ordered map (owner name, type) -> list of rdata texts; order is answer order."""

    def __init__(self, origin):
        self.origin = origin
        self.sets = OrderedDict()

    def add(self, owner, rdtype, text):
        values = self.sets.setdefault((owner, rdtype), [])
        if text not in values:
            values.append(text)

    def host(self, prefix, host):
        """The in-zone name of ``host`` (adding its address record), or ``host.`` itself when it
        is a host name rather than an IP literal: that name resolves wherever it is defined."""
        ip = parse_ip(host)
        if ip is None:
            return host.rstrip(".") + "."
        owner = f"{host_label(prefix, ip)}.{self.origin}"
        self.add(owner, _address_type(ip), str(ip))
        return owner


def view_records(view, domain, own_nameserver=None, ttl=5):
    """(owner, type) -> [rdata text] for ``view`` (a View) in zone ``domain``.

    ``own_nameserver`` ("host:port") is the nameserver building the zone: it is listed in NS
    even before its join has reached the view, so NS and the SOA never go empty.
    """
    origin = domain.rstrip(".") + "."
    records = _Records(origin)
    nameservers = sorted(set(view.nameservers) | ({own_nameserver} if own_nameserver else set()))
    ns_names = [records.host("ns", address[0]) for address in map(_split, nameservers)
                if address is not None]
    primary = ns_names[0] if ns_names else f"ns.{origin}"
    # refresh, retry and expire matter only to secondaries; the minimum is the negative TTL.
    records.add(origin, "SOA", f"{primary} hostmaster.{origin} {view.serial} "
                               f"60 30 3600 {ttl}")
    for name in ns_names:
        records.add(origin, "NS", name)
    _add_replicas(records, view)
    for group, word in ROLE_WORDS:
        for node in getattr(view, group):
            records.add(origin, "TXT", _quoted(f"{word} {node}"))
    return _apex_first(records.sets, origin)


def _split(node):
    """(host, port) of a node id; None for one that is not host:port (it comes from the
    network: one bad entry must not keep the rest of the view out of DNS)."""
    try:
        return split_address(node)
    except ValueError:
        return None


def _quoted(text):
    """A TXT character-string in zone-file syntax (node ids come from the network)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _add_replicas(records, view):
    origin = records.origin
    for replica in view.live_replicas():
        address = _split(replica)
        if address is None:
            continue
        host, port = address
        ip = parse_ip(host)
        if ip is not None:
            records.add(origin, _address_type(ip), str(ip))
        target = records.host("r", host)
        priority = LEADER_PRIORITY if replica == view.leader else FOLLOWER_PRIORITY
        records.add(f"{SRV_SERVICE}.{origin}", "SRV", f"{priority} {SRV_WEIGHT} {port} {target}")


def _apex_first(sets, origin):
    """Apex records first (SOA leading), the rest in insertion order: readable zone dumps."""
    ordered = OrderedDict((k, v) for k, v in sets.items() if k[0] == origin)
    ordered.update((k, v) for k, v in sets.items() if k[0] != origin)
    return ordered
