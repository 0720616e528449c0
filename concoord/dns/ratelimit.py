"""Response rate limiting (RRL) for UDP answers, as BIND's rate-limit does, in brief.

A UDP query's source address is not verified: anyone can send queries "from" a victim and have
us send the answers to it. So answers over UDP to one source network (an IPv4 /24, an IPv6 /56)
are limited by a token bucket: RATE answers a second on average, bursts of BURST. Past it a
query is dropped, except every SLIP-th one, which gets a truncated answer (TC=1, no records):
no larger than the query, so it amplifies nothing, and a real client behind that network (a
resolver that shares it with an attacker's victims) retries over TCP, which is not limited
(a TCP client has proven its address). Other networks are unaffected.

The table of networks is bounded: when full, the networks that would have a full bucket again
are forgotten, else the one least recently seen.
"""

import functools
import ipaddress
import threading
import time
from collections import OrderedDict

RATE = 20.0          # answers per second to one source network
BURST = 40           # answers it may have at once
SLIP = 2             # every SLIP-th refused query gets a TC=1 answer (0: none)
MAX_NETWORKS = 16384
ANSWER, SLIP_ANSWER, DROP = "answer", "slip", "drop"


@functools.lru_cache(maxsize=4096)     # parsed once per address, not once per query
def network_of(host):
    """The source network that shares one bucket: /24 for IPv4, /56 for IPv6."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 56
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


class ResponseRateLimiter:
    """``verdict(host)``: ANSWER, SLIP_ANSWER (send it truncated) or DROP. ``rate`` 0 or None
    turns the limiting off."""

    def __init__(self, rate=RATE, burst=None, slip=SLIP, max_networks=MAX_NETWORKS,
                 clock=time.monotonic):
        self.rate = rate or 0
        self.burst = burst if burst is not None else max(1.0, 2 * self.rate)
        self.slip = slip
        self.max_networks = max_networks
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets = OrderedDict()     # network -> [tokens, when, refused since last slip]
        self.dropped = self.slipped = 0

    def verdict(self, host):
        if not self.rate:
            return ANSWER
        network = network_of(host)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(network)
            if bucket is None:
                self._make_room(now)
                bucket = self._buckets[network] = [self.burst, now, 0]
            else:
                self._buckets.move_to_end(network)
                bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
                bucket[1] = now
            if bucket[0] >= 1:
                bucket[0] -= 1
                return ANSWER
            bucket[2] += 1
            if self.slip and bucket[2] >= self.slip:
                bucket[2] = 0
                self.slipped += 1
                return SLIP_ANSWER
            self.dropped += 1
            return DROP

    def _make_room(self, now):
        if len(self._buckets) < self.max_networks:
            return
        refill = self.burst / self.rate
        full = [n for n, (tokens, when, _) in self._buckets.items()
                if tokens + (now - when) * self.rate >= self.burst or now - when >= refill]
        for network in full:
            del self._buckets[network]
        if len(self._buckets) >= self.max_networks:
            self._buckets.popitem(last=False)


def truncated(wire):
    """The slip for the query (or reply) ``wire``: its header and question, as a response with
    TC=1 and no records, built without parsing the rest (a slip must cost less than an answer:
    it is sent during floods). None if the question cannot be found; then nothing is sent."""
    if len(wire) < 12 or wire[4:6] != b"\x00\x01":
        return None
    end = 12
    while True:
        if end >= len(wire):
            return None
        length = wire[end]
        if length == 0:
            end += 1
            break
        if length & 0xC0:            # no compression in a query's first name
            return None
        end += 1 + length
    end += 4                         # type and class
    if end > len(wire):
        return None
    flags = int.from_bytes(wire[2:4], "big")
    flags = 0x8000 | (flags & 0x7900) | 0x0200     # QR, the opcode and RD echoed, TC
    return wire[:2] + flags.to_bytes(2, "big") + b"\x00\x01" + bytes(6) + wire[12:end]
