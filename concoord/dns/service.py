"""A nameserver node: a DNS server fed by a view follower, and a member of the instance.

It joins the instance's configuration as a "nameserver" (so every nameserver lists the others
in NS) and leaves it when stopped. It takes no part in consensus: the join and the leave are
ordinary commands through the log, sent like any client's.
"""

import logging
import threading

from concoord import security
from concoord.client.proxy import ClientProxy
from concoord.dns.ratelimit import RATE, ResponseRateLimiter
from concoord.dns.server import DnsServer
from concoord.dns.view import POLL_INTERVAL, ViewFollower
from concoord.dns.zone import build_zone, origin_of, unready_zone
from concoord.errors import ConcoordError, ConnectionError
from concoord.wire.addresses import format_address

log = logging.getLogger("concoord.dns")

JOIN_TIMEOUT = 30.0
FIRST_VIEW_TIMEOUT = 5.0   # a bootstrap node that answers nothing in 5 s is a wrong address
LEAVE_TIMEOUT = 3.0
REJOIN_PAUSE = 1.0


class DnsService:
    """Serves DNS for ``domain`` on ``addr``:``port`` (0: any free port) from the view of the
    instance reached through ``bootstrap`` ("host:port" list). Sockets are bound here, so a
    port problem (DnsBindError) comes before anything starts."""

    def __init__(self, domain, bootstrap, addr, port, ttl, interval=POLL_INTERVAL,
                 rate_limit=RATE):
        self.domain = str(origin_of(domain))
        self.ttl = ttl
        self.server = DnsServer(addr, port, unready_zone(domain),
                                ResponseRateLimiter(rate_limit))
        self.node_id = format_address((addr, self.server.port))
        self.bootstrap = list(bootstrap)
        self.follower = ViewFollower(bootstrap, interval=interval, on_change=self._publish)
        self._stopping = threading.Event()
        self._joined = threading.Event()

    def _publish(self, view):
        self.server.set_zone(build_zone(view, self.domain, self.ttl, self.node_id))

    def start(self):
        self.server.start()
        self.follower.start()
        return self

    def wait_for_view(self, timeout):
        """The first view, or ConnectionError naming the bootstrap nodes that never answered."""
        view = self.follower.wait_for_view(timeout)
        if view is None:
            raise ConnectionError(f"no replica answered status through "
                                  f"{','.join(self.bootstrap)} within {timeout:g} s")
        return view

    def join(self, timeout=JOIN_TIMEOUT, first_view_timeout=FIRST_VIEW_TIMEOUT):
        """Add this nameserver to the instance's configuration (idempotent)."""
        view = self.wait_for_view(first_view_timeout)
        _membership_call(view.live_replicas(), "@join", ("nameserver", self.node_id), timeout)
        self._joined.set()

    def join_in_background(self):
        """Keep trying to join until it works or the service stops (for a replica serving DNS:
        its instance may not be able to decide anything yet, e.g. before its first acceptor)."""
        def keep_trying():
            while not self._stopping.is_set():
                try:
                    self.join()
                    log.info("nameserver %s joined the instance", self.node_id)
                    return
                except (ConcoordError, OSError) as exc:
                    log.info("nameserver %s not joined yet: %s", self.node_id, exc)
                    self._stopping.wait(REJOIN_PAUSE)
        threading.Thread(target=keep_trying, daemon=True, name="concoord-dns-join").start()

    def stop(self, leave=True):
        """Stop answering; with ``leave``, first take this nameserver out of the view (best
        effort: a dead instance must not keep the process from exiting)."""
        self._stopping.set()
        view = self.follower.view
        if leave and self._joined.is_set() and view is not None:
            try:
                _membership_call(view.live_replicas(), "@remove", (self.node_id,),
                                 LEAVE_TIMEOUT)
            except ConcoordError as exc:
                log.warning("could not leave the instance: %s", exc)
        self.follower.stop()
        self.server.stop()


def _membership_call(replicas, method, args, timeout):
    proxy = ClientProxy(list(replicas), timeout=timeout, role=security.NODE)
    try:
        return proxy._invoke(method, args, {})
    except RuntimeError as exc:   # the replicas rejected the command (it came back as itself)
        raise ConcoordError(f"the instance refused {method} {args}: {exc}") from None
    finally:
        proxy.close()
