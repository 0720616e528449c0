"""The nameserver follows the live view: a killed leader, a new replica, a removed node and a
second nameserver show up in A, SRV, TXT, NS and the SOA serial within a couple of seconds."""

import time

from concoord.client.proxy import ClientProxy
from tests.dns.cluster import dns_port, wait_until
from tests.dns.conftest import DOMAIN
from tests.dns.dig import dig

CHANGE_WITHIN = 2.0


def snapshot(port):
    srv = dig(port, f"_concoord._tcp.{DOMAIN}", "SRV").data()
    return {"A": dig(port, DOMAIN, "A").data(),
            "SRV": sorted((int(s.split()[0]), int(s.split()[2])) for s in srv),
            "TXT": set(dig(port, DOMAIN, "TXT").data()),
            "serial": int(dig(port, DOMAIN, "SOA").data()[0].split()[2])}


def changes_to(port, check, what):
    """Wait (at most CHANGE_WITHIN seconds) until ``check(snapshot)`` holds."""
    started = time.monotonic()
    seen = wait_until(lambda: (lambda s: s if check(s) else None)(snapshot(port)),
                      CHANGE_WITHIN, what, interval=0.05)
    return seen, time.monotonic() - started


def port_of(node):
    return int(node.address.rpartition(":")[2])


def test_killed_leader_and_new_replica_change_a_srv_txt_and_serial(cluster):
    r1 = cluster.start_replica("127.0.0.1")
    acceptor = cluster.start_acceptor(r1)
    r2 = cluster.start_replica("127.0.0.2", r1)
    port = dns_port()
    cluster.start_nameserver(DOMAIN, r1, port)
    before = snapshot(port)
    assert before["A"] == ["127.0.0.1", "127.0.0.2"]
    assert before["SRV"] == [(0, port_of(r1)), (1, port_of(r2))]

    r1.kill()                       # the leader, and the nameserver's bootstrap node
    after_kill, _ = changes_to(port, lambda s: s["A"] == ["127.0.0.2"]
                               and s["SRV"] == [(0, port_of(r2))], "the dead leader to go")
    assert after_kill["serial"] > before["serial"]

    r3 = cluster.start_replica("127.0.0.3", r2)
    after_add, _ = changes_to(port, lambda s: "127.0.0.3" in s["A"]
                              and (1, port_of(r3)) in s["SRV"]
                              and f'"replica {r3.address}"' in s["TXT"], "the new replica")
    assert after_add["A"] == ["127.0.0.2", "127.0.0.3"]
    assert after_add["serial"] > after_kill["serial"]

    # A dead node stays in the configuration until someone removes it; then TXT drops it.
    with ClientProxy([r2.address], timeout=20) as proxy:
        proxy._invoke("@remove", (r1.address,), {})
    after_remove, _ = changes_to(port, lambda s: f'"replica {r1.address}"' not in s["TXT"],
                                 "the removed replica to leave TXT")
    assert f'"acceptor {acceptor.address}"' in after_remove["TXT"]
    assert after_remove["serial"] > after_add["serial"]


def test_nameservers_list_each_other_and_leave_on_sigterm(cluster):
    r1 = cluster.start_replica("127.0.0.1")
    cluster.start_acceptor(r1)
    first_port, second_port = dns_port(), dns_port()
    cluster.start_nameserver(DOMAIN, r1, first_port)
    second = cluster.start_nameserver(DOMAIN, r1, second_port, addr="127.0.0.2")
    both = [f"ns-127-0-0-1.{DOMAIN}.", f"ns-127-0-0-2.{DOMAIN}."]
    for port, server in ((first_port, "127.0.0.1"), (second_port, "127.0.0.2")):
        answer = wait_until(lambda: (lambda a: a if sorted(a.data()) == both else None)(
            dig(port, DOMAIN, "NS", server=server)), CHANGE_WITHIN, "both nameservers in NS")
        assert sorted(r.data for r in answer.records("ADDITIONAL", "A")) == [
            "127.0.0.1", "127.0.0.2"]
    second.stop()
    assert second.popen.returncode == 0, second.log()
    wait_until(lambda: dig(first_port, DOMAIN, "NS").data() == both[:1], CHANGE_WITHIN,
               "the stopped nameserver to leave NS")
    assert f"127.0.0.2:{second_port}" not in r1.status()["nameservers"]
