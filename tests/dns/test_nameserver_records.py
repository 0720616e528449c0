"""A real `concoord nameserver` in front of a real cluster, asked with the real `dig`: every
record type of the README's section 3.2.3, the negative answers, and hostile traffic."""

import ipaddress
import random
import socket
import time

import dns.message
import dns.rcode

from tests.dns.conftest import DOMAIN
from tests.dns.dig import dig


def host_port(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def test_a_lists_the_ipv4_replicas_leader_first(deployed):
    answer = dig(deployed.port, DOMAIN, "A")
    assert answer.status == "NOERROR" and "aa" in answer.flags, answer
    assert answer.data() == ["127.0.0.1", "127.0.0.2"]       # the first replica leads
    assert {r.ttl for r in answer.records()} == {1}            # --ttl 1


def test_aaaa_lists_ipv6_replicas_or_says_nodata(deployed):
    answer = dig(deployed.port, DOMAIN, "AAAA")
    assert answer.status == "NOERROR" and "aa" in answer.flags, answer
    if len(deployed.replicas) == 3:
        assert answer.data() == ["::1"]
    else:
        assert answer.data() == [] and answer.records("AUTHORITY", "SOA")


def test_srv_gives_every_replica_its_port_and_targets_resolve_in_the_zone(deployed):
    answer = dig(deployed.port, f"_concoord._tcp.{DOMAIN}", "SRV")
    assert "aa" in answer.flags, answer
    srv = [data.split() for data in answer.data(rdtype="SRV")]
    glue = {r.name: r.data for r in answer.records("ADDITIONAL") if r.rdtype in ("A", "AAAA")}
    found = set()
    for priority, _weight, port, target in srv:
        assert target.endswith(f".{DOMAIN}.") and target in glue, (target, answer)
        found.add((glue[target], int(port)))
        if int(priority) == 0:
            assert (glue[target], int(port)) == host_port(deployed.replicas[0].address)
    assert found == {host_port(r.address) for r in deployed.replicas}
    for target in glue:            # the targets resolve on their own too
        assert dig(deployed.port, target, "A" if "." in glue[target] else "AAAA").data()


def test_txt_lists_every_node_with_its_role(deployed):
    answer = dig(deployed.port, DOMAIN, "TXT")
    assert "aa" in answer.flags
    expected = {f'"replica {r.address}"' for r in deployed.replicas}
    expected |= {f'"acceptor {a.address}"' for a in deployed.acceptors}
    expected.add(f'"nameserver 127.0.0.1:{deployed.port}"')
    assert set(answer.data()) == expected


def test_ns_names_the_nameserver_by_name_with_glue(deployed):
    answer = dig(deployed.port, DOMAIN, "NS")
    assert "aa" in answer.flags
    names = answer.data()
    assert names == [f"ns-127-0-0-1.{DOMAIN}."]
    for name in names:
        try:
            ipaddress.ip_address(name.rstrip("."))
            raise AssertionError(f"NS holds a raw address: {name}")
        except ValueError:
            pass
    assert [(r.name, r.data) for r in answer.records("ADDITIONAL", "A")] == [
        (names[0], "127.0.0.1")]


def test_soa_and_the_negative_answers(deployed):
    soa = dig(deployed.port, DOMAIN, "SOA")
    mname, rname, serial = soa.data()[0].split()[:3]
    assert "aa" in soa.flags and mname == f"ns-127-0-0-1.{DOMAIN}." and int(serial) > 0
    missing = dig(deployed.port, f"nothing.{DOMAIN}", "A")
    assert missing.status == "NXDOMAIN" and "aa" in missing.flags
    assert missing.records("AUTHORITY", "SOA")
    nodata = dig(deployed.port, DOMAIN, "MX")
    assert nodata.status == "NOERROR" and not nodata.data() and "aa" in nodata.flags
    assert nodata.records("AUTHORITY", "SOA")
    other = dig(deployed.port, "example.com", "A")
    assert other.status == "REFUSED" and "aa" not in other.flags


def test_tcp_gives_the_same_answers(deployed):
    udp = dig(deployed.port, f"_concoord._tcp.{DOMAIN}", "SRV")
    tcp = dig(deployed.port, f"_concoord._tcp.{DOMAIN}", "SRV", "+tcp")
    assert tcp.data() == udp.data() and "aa" in tcp.flags


def test_malformed_packets_other_zones_and_a_flood_leave_it_serving(deployed):
    rng = random.Random(53)
    target = ("127.0.0.1", deployed.port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        for _ in range(500):      # random bytes
            sock.sendto(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))), target)
        # From another /24 (the junk used up 127.0.0.1's answers: concoord.dns.ratelimit).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.bind(("127.0.1.1", 0))
            other.settimeout(2.0)
            header_only = b"\x12\x34\x01\x00\x00\x01" + bytes(6)   # a question promised, none
            other.sendto(header_only, target)
            reply = _reply_with_id(other, b"\x12\x34")
            assert reply[3] & 0xF == dns.rcode.FORMERR
        assert _flood(sock, target, 2000) > 0
    assert dig(deployed.port, "example.org", "A").status == "REFUSED"
    answer = dig(deployed.port, DOMAIN, "A")
    assert answer.status == "NOERROR" and answer.data()[0] == "127.0.0.1"
    assert deployed.nameserver.alive


def _reply_with_id(sock, wanted):
    """Replies to earlier junk may still be queued (corrupted real queries get answers)."""
    while True:
        reply = sock.recv(65535)
        if reply[:2] == wanted:
            return reply


def _flood(sock, target, count):
    """Send ``count`` queries as fast as possible (for other zones too); the replies that came."""
    names = [f"{DOMAIN}.", f"_concoord._tcp.{DOMAIN}.", f"x{DOMAIN}.", "example.com."]
    for i in range(count):
        query = dns.message.make_query(names[i % len(names)], "A" if i % 3 else "SRV")
        sock.sendto(query.to_wire(), target)
    received, deadline = 0, time.monotonic() + 3.0
    sock.settimeout(0.3)
    while time.monotonic() < deadline:
        try:
            sock.recv(65535)
            received += 1
        except socket.timeout:
            break
    return received
