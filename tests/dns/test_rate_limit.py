"""Response rate limiting (concoord.dns.ratelimit): a real `concoord nameserver` flooded with
UDP queries from one address answers that network at most --rate-limit times a second (plus
truncated "slips", which send nothing larger than the query), while `dig` from another network
is answered at once, and `dig` from the flooded one still gets its answer over TCP."""

import socket
import statistics
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

from concoord.dns.ratelimit import (ANSWER, DROP, SLIP_ANSWER, ResponseRateLimiter, network_of,
                                    truncated)
from tests.dns.cluster import dns_port, wait_until
from tests.dns.conftest import DOMAIN
from tests.dns.dig import dig

FLOODER = "127.0.0.1"      # the address whose queries flood (a spoofed victim's, in real life)
OTHER = "127.0.1.1"        # another /24 on the loopback interface: a legitimate resolver


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_bucket_per_network_with_slips():
    clock = Clock()
    limiter = ResponseRateLimiter(rate=10, burst=5, slip=2, clock=clock)
    assert [limiter.verdict("10.0.0.7") for _ in range(5)] == [ANSWER] * 5
    assert [limiter.verdict("10.0.0.8") for _ in range(4)] == [DROP, SLIP_ANSWER] * 2
    assert limiter.verdict("10.0.1.1") == ANSWER           # another /24: its own bucket
    clock.now = 0.2                                        # 2 answers' worth later
    assert [limiter.verdict("10.0.0.9") for _ in range(3)] == [ANSWER, ANSWER, DROP]
    assert ResponseRateLimiter(rate=0).verdict("10.0.0.1") == ANSWER    # 0: off
    assert network_of("2001:db8::1") == network_of("2001:db8:0:ff::2") == "2001:db8::/56"
    assert network_of("::ffff:10.0.0.3") == "10.0.0.0/24"


def test_the_table_of_networks_is_bounded():
    clock = Clock()
    limiter = ResponseRateLimiter(rate=10, burst=5, max_networks=100, clock=clock)
    for i in range(1000):
        limiter.verdict(f"10.{i // 256}.{i % 256}.1")
        clock.now += 0.001
    assert len(limiter._buckets) <= 100


def test_a_slip_is_the_header_and_question_with_tc():
    query = dns.message.make_query(f"_concoord._tcp.{DOMAIN}.", "SRV", want_dnssec=True)
    slip = truncated(query.to_wire())
    assert len(slip) <= len(query.to_wire())
    parsed = dns.message.from_wire(slip)
    assert parsed.flags & dns.flags.QR and parsed.flags & dns.flags.TC
    assert parsed.flags & dns.flags.RD and parsed.id == query.id
    assert parsed.question == query.question and not parsed.answer and not parsed.additional
    assert parsed.rcode() == dns.rcode.NOERROR
    assert truncated(b"\x00" * 5) is None
    assert truncated(query.to_wire()[:20]) is None          # the question is cut short


def _flood(port, stop, counts):
    """Queries from FLOODER as fast as one thread sends them (bounded by ``stop`` and a count),
    counting full and truncated replies."""
    queries = [dns.message.make_query(f"_concoord._tcp.{DOMAIN}.", "SRV", id=i).to_wire()
               for i in range(256)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((FLOODER, 0))
        sock.setblocking(False)
        sent = 0
        while not stop.is_set() and sent < 200_000:
            try:
                sock.sendto(queries[sent % 256], ("127.0.0.1", port))
                sent += 1
            except BlockingIOError:
                pass
            if sent % 10 == 0:
                _drain(sock, counts)
                time.sleep(0.001)        # 10,000 queries a second at most
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            _drain(sock, counts)
            time.sleep(0.01)
    counts["sent"] = sent


def _drain(sock, counts):
    while True:
        try:
            reply = sock.recv(65535)
        except BlockingIOError:
            return
        tc = int.from_bytes(reply[2:4], "big") & 0x0200
        counts["slipped" if tc else "answered"] += 1
        counts["bytes"] += len(reply)


def test_a_flood_from_one_address_is_limited_while_others_are_answered(cluster):
    first = cluster.start_replica("127.0.0.1")
    cluster.start_acceptor(first)
    port = dns_port()
    nameserver = cluster.start_nameserver(DOMAIN, first, port, extra=["--rate-limit", "20"])
    wait_until(lambda: dig(port, DOMAIN, "A", "-b", OTHER).data() == ["127.0.0.1"], 10,
               "the nameserver to answer")
    quiet = []
    for _ in range(5):                  # the same dig before the flood, for comparison
        began = time.monotonic()
        assert dig(port, DOMAIN, "A", "-b", OTHER).data() == ["127.0.0.1"]
        quiet.append(time.monotonic() - began)
    time.sleep(3)                   # both buckets full again
    stop, counts = threading.Event(), {"answered": 0, "slipped": 0, "bytes": 0}
    flood = threading.Thread(target=_flood, args=(port, stop, counts), daemon=True)
    started = time.monotonic()
    flood.start()
    latencies, others, flooded = [], [], []
    try:
        time.sleep(0.5)
        for _ in range(10):            # a legitimate resolver elsewhere: answered at once
            began = time.monotonic()
            answer = dig(port, DOMAIN, "A", "-b", OTHER, "+tries=1")
            latencies.append(time.monotonic() - began)
            others.append(answer)
        # From the flooded network: a query is dropped or slipped (then dig asks again over
        # TCP, which is not limited), so one of a few tries is answered.
        flooded.append(dig(port, DOMAIN, "A", "-b", FLOODER, "+time=1", "+tries=8",
                           timeout=30))
        flooded.append(dig(port, DOMAIN, "A", "-b", FLOODER, "+tcp"))
    finally:
        stop.set()
        flood.join(30)
    elapsed = time.monotonic() - started
    answered, slipped, sent = counts["answered"], counts["slipped"], counts["sent"]
    ms = sorted(1000 * s for s in latencies)
    print(f"DNS flood from {FLOODER}: {sent} queries in {elapsed:.1f} s, {answered} answered, "
          f"{slipped} slipped (TC=1), {counts['bytes']} bytes back; dig from {OTHER}: median "
          f"{statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms (without the flood: median "
          f"{1000 * statistics.median(quiet):.0f} ms; a dig process's start included)")
    for answer in others:
        assert answer.status == "NOERROR" and answer.data() == ["127.0.0.1"], answer
    for answer in flooded:
        assert answer.status == "NOERROR" and answer.data() == ["127.0.0.1"], answer
    assert sent > 1000
    # At most the burst (40) plus 20 a second, and the refused ones get TC half the time.
    assert answered <= 40 + 20 * (elapsed + 1) + 3    # + dig's own queries from FLOODER
    assert slipped <= (sent - answered) / 2 + 1
    assert counts["bytes"] < sent * 80 / 2 + 200 * answered     # no amplification
    assert nameserver.alive


@pytest.mark.parametrize("rate, most_answered", [("0", 200), ("5", 20)])
def test_a_replica_serving_dns_takes_the_same_rate_limit(cluster, rate, most_answered):
    """`concoord replica -n` answers DNS as a nameserver does, so it takes --rate-limit too:
    0 answers a burst of 200 queries from one address in full, 5 at most its burst of 10
    (and the tokens refilled meanwhile)."""
    port = dns_port()
    replica = cluster._node("replica", "127.0.0.1", None,
                            ["-f", "counter.py", "-c", "Counter", "-n", DOMAIN,
                             "--dns-port", str(port), "--rate-limit", rate])
    wait_until(lambda: dig(port, DOMAIN, "A", "-b", OTHER).data() == ["127.0.0.1"], 10,
               "the replica to answer DNS")
    query = dns.message.make_query(f"{DOMAIN}.", "A").to_wire()
    counts = {"answered": 0, "slipped": 0, "bytes": 0}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((FLOODER, 0))
        for _ in range(200):
            sock.sendto(query, ("127.0.0.1", port))
        sock.setblocking(False)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and counts["answered"] + counts["slipped"] < 200:
            _drain(sock, counts)
            time.sleep(0.01)
    if rate == "0":
        assert counts["answered"] == 200 and counts["slipped"] == 0, counts
    else:
        assert 0 < counts["answered"] <= most_answered and counts["slipped"] > 0, counts
    assert replica.alive
