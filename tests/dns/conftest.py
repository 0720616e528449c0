"""Fixtures for the DNS tests: real clusters and nameservers (their logs attached to the report
of a failed test), and a check that `dig` is installed."""

import socket
from dataclasses import dataclass

import pytest

from tests.dns.cluster import Cluster, dns_port, wait_until
from tests.dns.dig import DIG, dig

DOMAIN = "counterdomain"


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture(scope="session", autouse=True)
def need_dig():
    if DIG is None:
        pytest.fail("dig is not installed: apt-get install dnsutils", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        for value in getattr(item, "funcargs", {}).values():
            cluster = value if isinstance(value, Cluster) else getattr(value, "cluster", None)
            if isinstance(cluster, Cluster):
                report.sections.append(("concoord logs", cluster.logs()))
                break


@pytest.fixture
def cluster(tmp_path):
    made = Cluster(tmp_path)
    made.write_counter()
    yield made
    made.close()


@dataclass
class Deployed:
    cluster: Cluster
    replicas: list
    acceptors: list
    nameserver: object
    port: int


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """3 replicas (127.0.0.1, 127.0.0.2 and ::1 when IPv6 is there), 1 acceptor and a
    nameserver for counterdomain, shared by the tests that only read."""
    made = Cluster(tmp_path_factory.mktemp("dns"))
    try:
        made.write_counter()
        first = made.start_replica("127.0.0.1")
        acceptor = made.start_acceptor(first)
        replicas = [first, made.start_replica("127.0.0.2", first)]
        if ipv6_loopback():
            replicas.append(made.start_replica("::1", first))
        port = dns_port()
        nameserver = made.start_nameserver(DOMAIN, first, port)
        # Its join takes effect a few slots after it is decided, then the next poll of the
        # view publishes it: wait for that before the read-only tests look.
        own = f'"nameserver 127.0.0.1:{port}"'
        wait_until(lambda: own in dig(port, DOMAIN, "TXT").data(), 10,
                   "the nameserver to list itself")
        yield Deployed(made, replicas, [acceptor], nameserver, port)
    finally:
        made.close()
