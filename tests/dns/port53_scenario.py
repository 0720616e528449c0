"""The README's nameserver on its real port, 53: run as root, or inside `unshare -rn` (a new
network namespace where we are root and nothing else listens).

    python -m tests.dns.port53_scenario WORKDIR [--bring-up-lo]

Starts a replica, an acceptor and `concoord nameserver` without --dns-port, then asks `dig`
without -p and a client that knows only the domain and the nameserver's address (no port).
Prints one JSON line with what it saw; exits 0 if everything answered as it should.
"""

import json
import subprocess
import sys

from tests.dns.cluster import Cluster
from tests.dns.dig import DIG, parse

DOMAIN = "counterdomain"
CLIENT = ("from counterproxy import Counter\n"
          "c = Counter('counterdomain', nameserver='127.0.0.1', timeout=10)\n"
          "c.increment(); c.increment(); print(c.getvalue())\n")


def dig53(*args):
    out = subprocess.run([DIG, "@127.0.0.1", *args, "+time=2", "+tries=2", "+nocmd",
                          "+nostats"], capture_output=True, text=True, timeout=20)
    return parse(out.stdout + out.stderr)


def run(workdir):
    cluster = Cluster(workdir)
    try:
        cluster.write_counter()
        replica = cluster.start_replica("127.0.0.1")
        cluster.start_acceptor(replica)
        cluster.start_nameserver(DOMAIN, replica, None)
        a = dig53(DOMAIN, "A")
        srv = dig53(f"_concoord._tcp.{DOMAIN}", "SRV", "+tcp")
        client = subprocess.run([sys.executable, "-c", CLIENT], cwd=workdir, env=cluster.env(),
                                capture_output=True, text=True, timeout=30)
        seen = {"a": a.data(), "a_flags": sorted(a.flags), "srv": srv.data(),
                "client": client.stdout.strip(), "client_error": client.stderr[-500:]}
        port = replica.address.rpartition(":")[2]
        ok = (seen["a"] == ["127.0.0.1"] and "aa" in a.flags
              and seen["srv"] == [f"0 1 {port} r-127-0-0-1.{DOMAIN}."] and seen["client"] == "2")
        if not ok:
            seen["logs"] = cluster.logs()
        return ok, seen
    finally:
        cluster.close()


def main(argv):
    if "--bring-up-lo" in argv:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    ok, seen = run(argv[1])
    print(json.dumps(seen))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
