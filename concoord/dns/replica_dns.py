"""DNS served by a replica process for its own instance (``concoord replica ... -n DOMAIN``).

The replica answers DNS exactly as a separate nameserver would: it follows the view by asking
its own status port (and the other replicas, to notice dead ones), and joins the configuration
as a nameserver under its DNS address so that the other nameservers list it in NS.
"""

from concoord.dns.ratelimit import RATE
from concoord.dns.service import DnsService
from concoord.dns.view import POLL_INTERVAL

DEFAULT_TTL = 5


def serve_dns_alongside(node_id, domain, dns_addr, dns_port, ttl=DEFAULT_TTL,
                        interval=POLL_INTERVAL, rate_limit=RATE):
    """Start answering DNS for ``domain`` on ``dns_addr``:``dns_port`` from the view of the
    replica ``node_id`` ("host:port" of this replica's own listener); returns the running
    DnsService (its ``stop()`` leaves the configuration and closes the sockets; its
    ``node_id`` is the nameserver's "addr:port").

    Raises DnsBindError (one line naming the fix) if the port cannot be bound, and ValueError
    for a domain DNS cannot carry. The join runs in the background: the instance may not be
    able to decide anything yet (a bootstrap replica before its first acceptor).
    """
    service = DnsService(domain, [node_id], dns_addr, dns_port, ttl, interval=interval,
                         rate_limit=rate_limit)
    service.start()
    service.join_in_background()
    return service
