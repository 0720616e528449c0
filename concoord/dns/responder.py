"""Answering one DNS query from a Zone: wire bytes in, wire bytes (or nothing) out.

No sockets here, so every rule of an authoritative server can be tested directly:
AA on every answer from the zone; NXDOMAIN with the SOA for names the zone does not have;
NOERROR with the SOA and no answer for a name without the asked type; REFUSED outside the zone
(we are nobody's recursive resolver); FORMERR for what does not parse; TC when a UDP answer does
not fit the client's buffer, so that it asks again over TCP; and for ANY, one RRset only
(RFC 8482): a full answer would make a small spoofed query a large reflected reply.
"""

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

HEADER_SIZE = 12
PLAIN_UDP_LIMIT = 512      # RFC 1035, for clients without EDNS
MAX_UDP_PAYLOAD = 1232     # DNS flag day 2020: large enough, and never IP-fragmented
TCP_LIMIT = 65535
QR, OPCODE_MASK, RD = 0x8000, 0x7800, 0x0100
TRANSFER_TYPES = {dns.rdatatype.AXFR, dns.rdatatype.IXFR}
PSEUDO_TYPES = {dns.rdatatype.OPT, dns.rdatatype.TSIG, dns.rdatatype.TKEY}


def respond(zone, wire, over_tcp=False):
    """The reply to the query ``wire``, or None when it deserves none (too short to hold a
    header, or itself a response: answering answers lets spoofed packets start loops)."""
    if len(wire) < HEADER_SIZE or int.from_bytes(wire[2:4], "big") & QR:
        return None
    try:
        query = dns.message.from_wire(wire)
    except dns.message.UnknownTSIGKey:
        return header_only(wire, dns.rcode.NOTAUTH)   # we hold no keys
    except Exception:  # noqa: BLE001 - dnspython raises many types; any of them means malformed
        return header_only(wire, dns.rcode.FORMERR)
    response = _answer(zone, query)
    return _render(response, query, over_tcp)


def header_only(wire, rcode):
    """A bare response echoing the query's id, opcode and RD bit, for queries we cannot parse
    well enough to build a full answer."""
    flags = int.from_bytes(wire[2:4], "big")
    flags = QR | (flags & (OPCODE_MASK | RD)) | (rcode & 0xF)
    return wire[:2] + flags.to_bytes(2, "big") + bytes(8)


def _answer(zone, query):
    """The response message for a query that parsed."""
    response = dns.message.make_response(query, our_payload=MAX_UDP_PAYLOAD)
    if query.opcode() != dns.opcode.QUERY:
        return _failed(response, dns.rcode.NOTIMP)
    if query.edns > 0:
        return _failed(response, dns.rcode.BADVERS)   # RFC 6891: we speak EDNS version 0
    if len(query.question) != 1:
        return _failed(response, dns.rcode.FORMERR)
    question = query.question[0]
    if question.rdtype in PSEUDO_TYPES:
        return _failed(response, dns.rcode.FORMERR)
    if not question.name.is_subdomain(zone.origin):
        return _failed(response, dns.rcode.REFUSED)
    if question.rdclass not in (dns.rdataclass.IN, dns.rdataclass.ANY):
        return _failed(response, dns.rcode.REFUSED)
    if question.rdtype in TRANSFER_TYPES:
        return _failed(response, dns.rcode.REFUSED)    # no zone transfers: secondaries follow
    if not zone.ready:
        return _failed(response, dns.rcode.SERVFAIL)   # no view yet: let the client try elsewhere
    response.flags |= dns.flags.AA
    _fill(zone, question, response)
    return response


def _failed(response, rcode):
    response.set_rcode(rcode)
    return response


def _fill(zone, question, response):
    node = zone.find(question.name)
    if node is None:
        response.set_rcode(dns.rcode.NXDOMAIN)
        _add_soa(zone, response)
        return
    if question.rdtype == dns.rdatatype.ANY:
        found = _minimal_any(node)
    else:
        found = [node[question.rdtype]] if question.rdtype in node else []
    if not found:
        _add_soa(zone, response)      # NODATA: the SOA tells caches how long to remember it
        return
    for rrset in found:
        response.answer.append(_owned_by(rrset, question.name))
        _add_glue(zone, rrset, response)


def _minimal_any(node):
    """RFC 8482: answer ANY with one RRset of the name, the A records if it has them (what
    ANY is mostly used for), else its smallest."""
    if dns.rdatatype.A in node:
        return [node[dns.rdatatype.A]]
    rrsets = sorted(node.values(), key=lambda rrset: (len(rrset), rrset.rdtype))
    return rrsets[:1]


def _owned_by(rrset, qname):
    """The rrset under the exact spelling the client asked for (DNS names are case
    insensitive, but some clients compare the echo byte for byte)."""
    copy = rrset.copy()
    copy.name = qname
    return copy


def _add_soa(zone, response):
    soa = zone.soa()
    if soa is not None:
        response.authority.append(soa)


def _add_glue(zone, rrset, response):
    if rrset.rdtype == dns.rdatatype.SRV:
        targets = [rdata.target for rdata in rrset]
    elif rrset.rdtype == dns.rdatatype.NS:
        targets = [rdata.target for rdata in rrset]
    else:
        return
    for target in targets:
        for glue in zone.glue(target):
            if glue not in response.additional:
                response.additional.append(glue)


def _wire(response, limit):
    # dnspython shuffles records by default; ours are in a meaningful order (leader first).
    return response.to_wire(max_size=limit, want_shuffle=False)


def _render(response, query, over_tcp):
    """Wire form within the size the client can take: without the (optional) glue if that is
    what it takes, else an empty answer with TC set so it retries over TCP."""
    if over_tcp:
        limit = TCP_LIMIT
    elif query.edns >= 0:
        limit = max(PLAIN_UDP_LIMIT, min(query.payload, MAX_UDP_PAYLOAD))
    else:
        limit = PLAIN_UDP_LIMIT
    try:
        return _wire(response, limit)
    except dns.exception.TooBig:
        pass
    if response.additional:
        response.additional = []
        try:
            return _wire(response, limit)
        except dns.exception.TooBig:
            pass
    response.answer, response.authority = [], []
    response.flags |= dns.flags.TC
    return _wire(response, limit)
