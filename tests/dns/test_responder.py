"""The answering rules of an authoritative server, on a zone built from a synthetic view."""

import random

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest

from concoord.dns.responder import respond
from concoord.dns.view import View
from concoord.dns.zone import build_zone, unready_zone

LEADER, FOLLOWER, V6 = "10.0.0.1:14000", "10.0.0.2:14001", "[2001:db8::7]:14002"
VIEW = View(replicas=(LEADER, FOLLOWER, V6), acceptors=("10.0.0.9:15000",),
            nameservers=("10.0.0.5:53",), leader=LEADER, serial=1234)
ZONE = build_zone(VIEW, "counterdomain", 7, own_nameserver="10.0.0.5:53")


def ask(name, rdtype="A", zone=ZONE, tcp=False, **query_options):
    query = dns.message.make_query(name, rdtype, **query_options)
    return dns.message.from_wire(respond(zone, query.to_wire(), over_tcp=tcp)), query


def answer_texts(response, rdtype):
    return [rdata.to_text() for rrset in response.answer if rrset.rdtype == rdtype
            for rdata in rrset]


def test_a_is_authoritative_and_leader_first_with_the_configured_ttl():
    response, query = ask("counterdomain.")
    assert response.id == query.id and response.flags & dns.flags.AA
    assert response.rcode() == dns.rcode.NOERROR
    assert answer_texts(response, dns.rdatatype.A) == ["10.0.0.1", "10.0.0.2"]
    assert response.answer[0].ttl == 7


def test_aaaa_lists_ipv6_replicas():
    response, _ = ask("counterdomain.", "AAAA")
    assert answer_texts(response, dns.rdatatype.AAAA) == ["2001:db8::7"]


def test_srv_targets_are_in_zone_names_with_glue_and_the_leader_preferred():
    response, _ = ask("_concoord._tcp.counterdomain.", "SRV")
    srv = [rdata for rrset in response.answer for rdata in rrset]
    assert [(r.priority, r.port) for r in srv] == [(0, 14000), (1, 14001), (1, 14002)]
    glue = {rrset.name: {r.address for r in rrset} for rrset in response.additional}
    for rdata in srv:
        assert rdata.target.is_subdomain(ZONE.origin)
        assert glue[rdata.target]
    assert glue[srv[0].target] == {"10.0.0.1"}


def test_ns_names_nameservers_never_raw_addresses_and_glues_them():
    response, _ = ask("counterdomain.", "NS")
    names = [rdata.target for rrset in response.answer for rdata in rrset]
    assert [n.to_text() for n in names] == ["ns-10-0-0-5.counterdomain."]
    assert [r.to_text() for rrset in response.additional for r in rrset] == ["10.0.0.5"]


def test_txt_lists_every_node_with_its_role():
    response, _ = ask("counterdomain.", "TXT")
    assert answer_texts(response, dns.rdatatype.TXT) == [
        f'"replica {LEADER}"', f'"replica {FOLLOWER}"', f'"replica {V6}"',
        '"acceptor 10.0.0.9:15000"', '"nameserver 10.0.0.5:53"']


def test_soa_carries_the_view_serial():
    response, _ = ask("counterdomain.", "SOA")
    soa = response.answer[0][0]
    assert soa.serial == 1234 and soa.mname.to_text() == "ns-10-0-0-5.counterdomain."
    assert soa.minimum == 7


def test_unknown_name_is_nxdomain_with_soa_and_missing_type_is_nodata_with_soa():
    response, _ = ask("nope.counterdomain.")
    assert response.rcode() == dns.rcode.NXDOMAIN and response.flags & dns.flags.AA
    assert response.authority[0].rdtype == dns.rdatatype.SOA and not response.answer
    for name, rdtype in (("counterdomain.", "MX"), ("_tcp.counterdomain.", "A"),
                         ("_concoord._tcp.counterdomain.", "A")):
        response, _ = ask(name, rdtype)
        assert response.rcode() == dns.rcode.NOERROR and not response.answer, name
        assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_outside_the_zone_is_refused_without_aa():
    for name in ("example.com.", "com.", "xcounterdomain."):
        response, _ = ask(name)
        assert response.rcode() == dns.rcode.REFUSED
        assert not response.flags & dns.flags.AA and not response.answer


def test_names_match_case_insensitively_and_echo_the_askers_spelling():
    response, _ = ask("CounterDomain.")
    assert response.answer[0].name.to_text() == "CounterDomain."
    assert answer_texts(response, dns.rdatatype.A)[0] == "10.0.0.1"


def test_any_gets_one_rrset_and_zone_transfers_are_refused():
    """RFC 8482: no amplification through ANY. (It used to return every type, 12.6 times the
    size of the query, growing with the instance.)"""
    response, _ = ask("counterdomain.", "ANY")
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.A]
    assert not response.additional
    assert len(response.to_wire()) == len(ask("counterdomain.", "A")[0].to_wire())
    response, _ = ask("counterdomain.", "AXFR", tcp=True)
    assert response.rcode() == dns.rcode.REFUSED


def test_malformed_queries_get_formerr_and_junk_gets_nothing():
    query = dns.message.make_query("counterdomain.", "A").to_wire()
    no_question = query[:4] + b"\x00\x01" + bytes(6)             # says 1 question, has none
    reply = respond(ZONE, no_question)
    assert reply[:2] == query[:2] and reply[3] & 0xF == dns.rcode.FORMERR and reply[2] & 0x80
    assert respond(ZONE, query[:11]) is None                      # not even a header
    response_bit = query[:2] + bytes([query[2] | 0x80]) + query[3:]
    assert respond(ZONE, response_bit) is None                   # never answer an answer
    two = dns.message.make_query("counterdomain.", "A")
    two.question.append(dns.message.make_query("x.counterdomain.", "A").question[0])
    assert dns.message.from_wire(respond(ZONE, two.to_wire())).rcode() == dns.rcode.FORMERR


def test_random_bytes_never_raise():
    rng = random.Random(6)
    query = dns.message.make_query("_concoord._tcp.counterdomain.", "SRV").to_wire()
    for _ in range(3000):
        if rng.random() < 0.5:
            wire = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        else:   # a real query with a few bytes flipped: reaches deeper into the parser
            wire = bytearray(query)
            for _ in range(rng.randrange(1, 4)):
                wire[rng.randrange(len(wire))] = rng.randrange(256)
            wire = bytes(wire)
        reply = respond(ZONE, wire)
        assert reply is None or reply[:2] == wire[:2]


def test_other_opcodes_and_edns_versions_are_declined():
    query = dns.message.make_query("counterdomain.", "A")
    query.set_opcode(dns.opcode.NOTIFY)
    assert dns.message.from_wire(respond(ZONE, query.to_wire())).rcode() == dns.rcode.NOTIMP
    response, _ = ask("counterdomain.", use_edns=1)
    assert response.rcode() == dns.rcode.BADVERS


def test_oversize_udp_answers_are_truncated_but_tcp_gets_everything():
    many = View(replicas=tuple(f"10.0.1.{i}:14000" for i in range(1, 60)), leader="10.0.1.1:14000",
                serial=5)
    zone = build_zone(many, "counterdomain", 7, own_nameserver="10.0.0.5:53")
    response, _ = ask("counterdomain.", "TXT", zone=zone)                  # 512 bytes, no EDNS
    assert response.flags & dns.flags.TC and not response.answer
    response, _ = ask("counterdomain.", "TXT", zone=zone, use_edns=0, payload=4096)
    assert response.flags & dns.flags.TC                                    # capped at 1232
    response, _ = ask("counterdomain.", "TXT", zone=zone, tcp=True)
    assert not response.flags & dns.flags.TC
    assert len(answer_texts(response, dns.rdatatype.TXT)) == 59


def test_glue_is_dropped_before_the_answer_is_truncated():
    some = View(replicas=tuple(f"10.0.1.{i}:14000" for i in range(1, 10)), serial=5)
    zone = build_zone(some, "counterdomain", 7)
    response, _ = ask("_concoord._tcp.counterdomain.", "SRV", zone=zone)
    assert not response.flags & dns.flags.TC and len(response.answer[0]) == 9
    assert not response.additional


@pytest.mark.parametrize("rdtype", ["A", "SRV"])
def test_a_zone_without_a_view_yet_says_servfail(rdtype):
    response, _ = ask("counterdomain.", rdtype, zone=unready_zone("counterdomain"))
    assert response.rcode() == dns.rcode.SERVFAIL
    response, _ = ask("example.com.", rdtype, zone=unready_zone("counterdomain"))
    assert response.rcode() == dns.rcode.REFUSED


def test_node_ids_dns_cannot_express_are_left_out_not_fatal():
    odd = View(replicas=("10.0.0.1:14000", "no-port", 'we"ird:1'), acceptors=("x y:1",),
               nameservers=("bad",), leader="10.0.0.1:14000", serial=3)
    zone = build_zone(odd, "counterdomain", 7)
    response, _ = ask("counterdomain.", "A", zone=zone)
    assert answer_texts(response, dns.rdatatype.A) == ["10.0.0.1"]
    response, _ = ask("counterdomain.", "TXT", zone=zone)
    assert '"replica we\\"ird:1"' in answer_texts(response, dns.rdatatype.TXT)
