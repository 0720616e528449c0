"""resolve_srv against a real DNS server in this process, and the client's host list looking a
name up again when every address it knew has failed."""

import time

import pytest

from concoord.client import connection
from concoord.client.connection import HostList
from concoord.dns.resolve import ResolveError, resolve_srv
from concoord.dns.server import DnsServer
from concoord.dns.view import View
from concoord.dns.zone import build_zone

LEADER, OTHER, V6 = "10.0.0.2:14001", "10.0.0.1:14000", "[2001:db8::5]:14002"


@pytest.fixture
def nameserver():
    view = View(replicas=(LEADER, OTHER, V6), leader=LEADER, serial=1)
    server = DnsServer("127.0.0.1", 0, build_zone(view, "counterdomain", 1)).start()
    yield f"127.0.0.1:{server.port}"
    server.stop()


def test_replicas_come_leader_first_with_their_ports(nameserver):
    assert resolve_srv("counterdomain", nameserver) == [LEADER, OTHER, V6]
    assert resolve_srv("counterdomain.", nameserver) == [LEADER, OTHER, V6]


def test_unknown_names_and_silent_nameservers_are_resolve_errors(nameserver):
    with pytest.raises(ResolveError, match="no such name"):
        resolve_srv("sub.counterdomain", nameserver)
    with pytest.raises(ResolveError, match="refused"):
        resolve_srv("otherdomain", nameserver)
    started = time.monotonic()
    with pytest.raises(OSError, match="timed out"):
        resolve_srv("counterdomain", "127.0.0.1:9", timeout=0.5)   # nothing answers there
    # The timeout is honoured: dnspython's own default (5 s) would exceed this, even with
    # slack for a loaded machine.
    assert time.monotonic() - started < 4.0


class Resolver:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, name):
        self.calls += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def fail_all(hosts):
    for _ in range(len(hosts)):
        hosts.note(hosts.current(), "refused")
        hosts.advance()


def test_a_name_is_looked_up_again_once_every_known_address_failed(monkeypatch):
    monkeypatch.setattr(connection, "RESOLVE_AGAIN_INTERVAL", 0.0)
    resolver = Resolver(["h:1", "h:2"], ["h:3", "h:2"])
    hosts = HostList(["counterdomain"], resolver)
    assert hosts.current() == "h:1" and resolver.calls == 1
    hosts.note("h:1", "refused")
    hosts.advance()
    assert hosts.current() == "h:2" and resolver.calls == 1    # one failure: no lookup yet
    hosts.note("h:2", "refused")
    hosts.advance()
    assert hosts.current() == "h:3" and resolver.calls == 2    # all failed: DNS knows h:3
    assert len(hosts) == 3                                      # h:1 kept as a last resort


def test_lookups_again_are_rate_limited_and_survive_dns_failures(monkeypatch):
    resolver = Resolver(["h:1"], OSError("nameserver down"))
    hosts = HostList(["counterdomain", "h:9"], resolver)
    assert hosts.current() == "h:1"
    fail_all(hosts)
    assert resolver.calls == 1       # within RESOLVE_AGAIN_INTERVAL of the first lookup
    monkeypatch.setattr(connection, "RESOLVE_AGAIN_INTERVAL", 0.0)
    fail_all(hosts)
    assert resolver.calls == 2
    assert hosts.current() in ("h:1", "h:9")        # DNS down: carry on with what it knew


def test_working_connections_reset_the_failure_count(monkeypatch):
    monkeypatch.setattr(connection, "RESOLVE_AGAIN_INTERVAL", 0.0)
    resolver = Resolver(["h:1", "h:2"])
    hosts = HostList(["counterdomain"], resolver)
    hosts.current()
    hosts.note("h:1", "refused")
    hosts.advance()
    hosts.note("h:2", None)         # connected
    hosts.note("h:2", "redirected")
    hosts.current()
    assert resolver.calls == 1
