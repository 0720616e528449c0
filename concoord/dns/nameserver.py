"""Running `concoord nameserver`: serve DNS (or push to Route53) until SIGINT or SIGTERM."""

import logging
import os
import signal
import threading

from concoord.client.connection import has_port
from concoord.dns.ratelimit import RATE
from concoord.dns.resolve import resolve_srv
from concoord.dns.route53 import Route53Publisher
from concoord.dns.service import FIRST_VIEW_TIMEOUT, JOIN_TIMEOUT, DnsService
from concoord.dns.view import ViewFollower
from concoord.errors import ConcoordError

log = logging.getLogger("concoord.dns")

ROUTE53_RETRY = 5.0     # after a failed push (throttling, network), try again this much later


def expand_bootstrap(entries):
    """"host:port" entries as they are; a domain name becomes the replicas its SRV record lists
    (through $CONCOORD_NAMESERVER if set, else the system resolver)."""
    nameserver = os.environ.get("CONCOORD_NAMESERVER") or None
    hosts = []
    for entry in entries:
        found = [entry] if has_port(entry) else resolve_srv(entry, nameserver)
        hosts += [h for h in found if h not in hosts]
    return hosts


def stop_on_signal():
    """An Event that SIGINT or SIGTERM sets (the process then stops cleanly: a nameserver
    leaves the configuration on its way out)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def wait_for_signal():
    stop = stop_on_signal()
    while not stop.is_set():
        stop.wait(0.5)


def run_dns(domain, bootstrap, addr, dns_port, ttl, on_start=None, rate_limit=RATE):
    """Bind first (the clearest failure), then follow the view, join, and serve.
    ``on_start(service)`` runs once the service has started (e.g. to serve its metrics);
    ``rate_limit``: UDP answers per second per source network (0: unlimited)."""
    service = DnsService(domain, bootstrap, addr, dns_port, ttl, rate_limit=rate_limit)
    service.start()
    if on_start is not None:
        on_start(service)
    try:
        service.join(JOIN_TIMEOUT)
        print(f"concoord nameserver {service.node_id} serving {service.domain}", flush=True)
        wait_for_signal()
    finally:
        service.stop()


def run_route53(domain, bootstrap, zone_id, ttl):
    """Follow the view and push every change into Route53 hosted zone ``zone_id``."""
    publisher = Route53Publisher(zone_id, domain, ttl)   # fails now if boto3 is missing
    follower = ViewFollower(bootstrap).start()
    try:
        if follower.wait_for_view(FIRST_VIEW_TIMEOUT) is None:
            raise ConcoordError(f"no replica answered status through {','.join(bootstrap)} "
                                f"within {FIRST_VIEW_TIMEOUT:g} s")
        print(f"concoord nameserver publishing {domain} to Route53 zone {zone_id}", flush=True)
        _push_until_signalled(follower, publisher)
    finally:
        follower.stop()


def _push_until_signalled(follower, publisher):
    stop = stop_on_signal()
    while not stop.is_set():
        view = follower.view
        if view is not None and view.serial != publisher.pushed_serial:
            try:
                publisher.publish(view)
            except Exception as exc:  # noqa: BLE001 - boto3/botocore errors: log, retry later
                log.warning("Route53 push failed (retrying in %g s): %s", ROUTE53_RETRY, exc)
                stop.wait(ROUTE53_RETRY)
                continue
        stop.wait(0.2)
