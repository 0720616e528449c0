"""serve_dns_alongside: DNS served next to a replica, following that replica's own status, joining
as a nameserver once the instance can decide anything (here: after its first acceptor)."""

from concoord.dns.replica_dns import serve_dns_alongside
from tests.dns.cluster import wait_until
from tests.dns.conftest import DOMAIN
from tests.dns.dig import dig


def test_serves_the_replicas_view_and_joins_once_the_instance_can_decide(cluster):
    replica = cluster.start_replica("127.0.0.2")        # alone: nothing can be decided yet
    service = serve_dns_alongside(replica.address, DOMAIN, "127.0.0.1", 0, ttl=1)
    try:
        wait_until(lambda: dig(service.server.port, DOMAIN, "A").data() == ["127.0.0.2"], 5,
                   "the replica in A")
        port = replica.address.rpartition(":")[2]
        srv = dig(service.server.port, f"_concoord._tcp.{DOMAIN}", "SRV").data()
        assert srv == [f"1 1 {port} r-127-0-0-2.{DOMAIN}."]     # no leader yet
        cluster.start_acceptor(replica)
        wait_until(lambda: dig(service.server.port, f"_concoord._tcp.{DOMAIN}", "SRV").data()
                   == [f"0 1 {port} r-127-0-0-2.{DOMAIN}."], 5, "the replica to lead")
        wait_until(lambda: service.node_id in replica.status()["nameservers"], 10,
                   "the DNS service to join as a nameserver")
        txt = wait_until(lambda: (lambda d: d if f'"nameserver {service.node_id}"' in d else None)(
            dig(service.server.port, DOMAIN, "TXT").data()), 5, "the nameserver in TXT")
        assert f'"replica {replica.address}"' in txt
    finally:
        service.stop()
    assert service.node_id not in replica.status()["nameservers"]
