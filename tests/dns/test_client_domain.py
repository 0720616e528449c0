"""Clients that know only the domain name and the nameserver: `Counter('counterdomain',
nameserver=...)` and $CONCOORD_NAMESERVER, through the failure of the replica they first used
and of every replica they ever heard of."""

import subprocess
import sys
import time

from concoord.client.proxy import ClientProxy
from tests.dns.cluster import dns_port, wait_until
from tests.dns.conftest import DOMAIN

CLIENT = """\
import sys
from counterproxy import Counter
counter = Counter({domain!r}, nameserver={nameserver!r}, timeout=20)
for i in range(1, 100000):
    counter.increment()
    if i == 1:
        print("first", counter._engine._hosts.tried and next(iter(counter._engine._hosts.tried)),
              flush=True)
    print("value", counter.getvalue(), flush=True)
    if sys.stdin.readline().strip() == "stop":
        break
"""


class Client:
    """A client process that increments once per line the test sends it."""

    def __init__(self, cluster, nameserver):
        script = cluster.workdir / "domain_client.py"
        script.write_text(CLIENT.format(domain=DOMAIN, nameserver=nameserver))
        self.popen = subprocess.Popen([sys.executable, str(script)], cwd=cluster.workdir,
                                      env=cluster.env(), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.first = self.popen.stdout.readline().split()[1]

    def step(self, stop=False):
        line = self.popen.stdout.readline()
        assert line.startswith("value "), line + self.popen.stderr.read()
        self.popen.stdin.write("stop\n" if stop else "go\n")
        self.popen.stdin.flush()
        return int(line.split()[1])

    def close(self):
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.communicate(timeout=5)


def test_client_by_domain_survives_its_replica_and_all_it_knew(cluster):
    r1 = cluster.start_replica("127.0.0.1")
    cluster.start_acceptor(r1)
    r2 = cluster.start_replica("127.0.0.2", r1)
    port = dns_port()
    cluster.start_nameserver(DOMAIN, r1, port)
    client = Client(cluster, f"127.0.0.1:{port}")
    try:
        assert client.first == r1.address          # SRV lists the leader first
        values = [client.step() for _ in range(3)]
        r3 = cluster.start_replica("127.0.0.3", r1)   # the client has not heard of it
        r1.kill()                                   # the replica it first used
        values += [client.step() for _ in range(3)]
        # Now every replica the client knows goes: only DNS can tell it about r3.
        with ClientProxy([r2.address, r3.address], timeout=20) as proxy:
            proxy._invoke("@remove", (r1.address,), {})
            proxy._invoke("@remove", (r2.address,), {})
        # A liveness wait, not a speed check: under a loaded machine (load 11) the removals'
        # WINDOW of no-ops and r3's election once took over 10 s.
        wait_until(lambda: (lambda s: s["replicas"] == [r3.address] and s["state"] == "active")(
            r3.status()), 30, "r3 to lead alone")
        r2.kill()
        values += [client.step() for _ in range(3)]
        values.append(client.step(stop=True))
        assert values == list(range(1, len(values) + 1))
        assert client.popen.wait(20) == 0, client.popen.stderr.read()
    finally:
        client.close()


def test_environment_nameserver_and_a_missing_domain(cluster):
    r1 = cluster.start_replica("127.0.0.1")
    cluster.start_acceptor(r1)
    port = dns_port()
    cluster.start_nameserver(DOMAIN, r1, port)
    code = ("from counterproxy import Counter\n"
            f"c = Counter({DOMAIN!r}, timeout=5)\n"
            "c.increment(); print(c.getvalue())\n"
            "from concoord import ConnectionError\n"
            "try:\n"
            "    Counter('otherdomain', timeout=1).getvalue()\n"
            "except ConnectionError as exc:\n"
            "    print('refused:', exc)\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], cwd=cluster.workdir, timeout=30,
                            env=cluster.env(CONCOORD_NAMESERVER=f"127.0.0.1:{port}"),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    value, refused = result.stdout.strip().splitlines()
    assert value == "1"
    assert "otherdomain" in refused and "every nameserver failed or refused" in refused
    assert time.monotonic() - started < 20
