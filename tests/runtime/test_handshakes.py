"""PendingHandshakes: one deadline per handshake, caps in all and per address, oldest of the
busiest address out."""

from types import SimpleNamespace

from concoord.runtime.handshakes import PendingHandshakes


class Conn(SimpleNamespace):
    __hash__ = object.__hash__
    __eq__ = object.__eq__


def conn(host, port):
    return Conn(peer=f"{host}:{port}")


def test_the_oldest_of_an_address_goes_when_it_has_too_many():
    pending = PendingHandshakes(limit=10, per_address=2, clock=lambda: 0.0)
    a1, a2, a3, b1 = conn("10.0.0.1", 1), conn("10.0.0.1", 2), conn("10.0.0.1", 3), conn("::1", 4)
    assert pending.add(a1) == [] and pending.add(b1) == [] and pending.add(a2) == []
    assert pending.add(a3) == [a1]
    assert len(pending) == 3


def test_the_oldest_of_all_goes_over_the_total_cap():
    pending = PendingHandshakes(limit=3, per_address=3, clock=lambda: 0.0)
    conns = [conn(f"10.0.0.{i}", i) for i in range(5)]
    evicted = [pending.add(c) for c in conns]
    assert evicted == [[], [], [], [conns[0]], [conns[1]]]


def test_over_the_total_cap_a_lone_client_outlives_a_flood_from_many_addresses():
    """The CI failure of the slowloris test: 1,100 attacking connections from 11 addresses
    displaced, oldest first in all, a real client whose handshake the load had slowed."""
    pending = PendingHandshakes(limit=8, per_address=4, clock=lambda: 0.0)
    client = conn("127.0.0.1", 1)
    pending.add(client)
    flood = [conn(f"10.0.0.{i % 3}", i) for i in range(100)]
    evicted = [c for attacker in flood for c in pending.add(attacker)]
    assert client not in evicted and len(pending) == 8
    assert len(evicted) == len(flood) - 7


def test_one_deadline_for_the_whole_handshake_and_done_forgets():
    now = [0.0]
    pending = PendingHandshakes(deadline=5.0, clock=lambda: now[0])
    old, finished, young = conn("h", 1), conn("h", 2), conn("h", 3)
    pending.add(old)
    pending.add(finished)
    now[0] = 3.0
    pending.add(young)
    pending.done(finished)
    now[0] = 5.5
    assert pending.expired() == [old]
    assert pending.expired() == []
    now[0] = 9.0
    assert pending.expired() == [young] and len(pending) == 0
