"""The DNS server's sockets, in this process with a synthetic view, asked by the real `dig`:
UDP truncation and dig's retry over TCP, zone swaps, idle TCP connections, port errors."""

import socket
import subprocess
import sys

import pytest

from concoord.dns.server import MAX_TCP_CONNECTIONS, DnsBindError, DnsServer
from concoord.dns.view import View
from concoord.dns.zone import build_zone
from tests.dns.cluster import REPO
from tests.dns.dig import dig


def many_replicas(count, serial=1):
    replicas = tuple(f"10.0.{i // 200}.{i % 200 + 1}:14000" for i in range(count))
    return View(replicas=replicas, leader=replicas[0], serial=serial)


@pytest.fixture
def server():
    made = DnsServer("127.0.0.1", 0, build_zone(many_replicas(3), "counterdomain", 3))
    made.start()
    yield made
    made.stop()


def test_oversize_udp_answer_sets_tc_and_dig_retries_over_tcp(server):
    server.set_zone(build_zone(many_replicas(80), "counterdomain", 3))
    truncated = dig(server.port, "counterdomain", "TXT", "+noedns", "+ignore")
    assert "tc" in truncated.flags and "aa" in truncated.flags and not truncated.data()
    retried = dig(server.port, "counterdomain", "TXT", "+noedns")
    assert "Truncated, retrying in TCP mode" in retried.raw
    assert len(retried.data(rdtype="TXT")) == 80 and "tc" not in retried.flags


def test_a_new_zone_is_served_at_once(server):
    assert dig(server.port, "counterdomain", "SOA").data()[0].split()[2] == "1"
    server.set_zone(build_zone(many_replicas(2, serial=2), "counterdomain", 3))
    assert dig(server.port, "counterdomain", "SOA").data()[0].split()[2] == "2"
    assert dig(server.port, "counterdomain", "A", "+tcp").data() == ["10.0.0.1", "10.0.0.2"]


def test_idle_tcp_connections_cannot_lock_others_out(server):
    idle = [socket.create_connection(("127.0.0.1", server.port))
            for _ in range(MAX_TCP_CONNECTIONS + 20)]
    try:
        answer = dig(server.port, "counterdomain", "A", "+tcp")
        assert answer.status == "NOERROR" and answer.data()[0] == "10.0.0.1"
    finally:
        for sock in idle:
            sock.close()


def test_tcp_garbage_and_pipelined_queries(server):
    import dns.message
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        queries = [dns.message.make_query("counterdomain.", t).to_wire() for t in ("A", "SOA")]
        sock.sendall(b"".join(len(q).to_bytes(2, "big") + q for q in queries))
        for query in queries:
            size = int.from_bytes(_read(sock, 2), "big")
            assert dns.message.from_wire(_read(sock, size)).id == dns.message.from_wire(query).id
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"\x00\x05junk!" + b"\x00\x40" + bytes(10))   # garbage, then cut short
    assert dig(server.port, "counterdomain", "A", "+tcp").status == "NOERROR"


def _read(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "connection closed early"
        data += chunk
    return data


def test_a_taken_port_is_one_clear_error(server):
    with pytest.raises(DnsBindError, match="in use"):
        DnsServer("127.0.0.1", server.port, server.zone)


def test_permission_denied_on_port_53_names_the_fix(tmp_path):
    """As root the kernel lets us bind 53, so the refusal is simulated at bind() itself; the
    rest is the real command line."""
    code = ("import errno, socket, sys\n"
            "def refuse(self, address):  # what the kernel says to non-root\n"
            "    raise PermissionError(errno.EACCES, 'Permission denied')\n"
            "socket.socket.bind = refuse\n"
            "from concoord.cli import main\n"
            "sys.exit(main(['nameserver', '-n', 'counterdomain', '-b', '127.0.0.1:1']))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, env={"PYTHONPATH": str(REPO)}, timeout=30)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "port 53" in lines[0], lines
    assert "run as root or use --dns-port 5353" in lines[0]
