"""Following an instance's view from outside the consensus: which replicas, acceptors and
nameservers it has, which replica leads, and which replicas have stopped answering.

A nameserver is a non-voting learner: it never takes part in Paxos, it only asks the replicas for
their status (the same request `concoord status` sends) a few times a second. The configuration
it publishes is the one of the most advanced replica that answered (highest ``slot_out``), so a
lagging or partitioned replica cannot roll the published view back.
"""

import concurrent.futures
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import FrozenSet, Optional, Tuple

from concoord.client.status import query_status
from concoord.wire.status import ReplicaView
from concoord.errors import ConnectionError

log = logging.getLogger("concoord.dns.view")

POLL_INTERVAL = 0.2
STATUS_TIMEOUT = 0.5      # a SIGSTOP'd replica accepts TCP but never answers: bound the wait
MISSES_UNREACHABLE = 2    # one slow answer must not drop a replica from DNS; two in a row do
STALE_LIMIT = 10.0        # how long only replicas behind the published view may be ignored


@dataclass(frozen=True)
class View:
    """What the instance looks like from outside, as DNS publishes it.

    ``replicas`` lists every replica of the configuration with the leader first; ``unreachable``
    those that did not answer the last polls. ``serial`` increases on every change of the rest.
    """

    replicas: Tuple[str, ...] = ()
    acceptors: Tuple[str, ...] = ()
    nameservers: Tuple[str, ...] = ()
    leader: Optional[str] = None
    unreachable: FrozenSet[str] = field(default_factory=frozenset)
    serial: int = 0

    def live_replicas(self):
        """The replicas to hand out, leader first; all of them if none answers (a view that
        names no replica at all would only make clients give up sooner)."""
        live = tuple(r for r in self.replicas if r not in self.unreachable)
        return live or self.replicas

    def content(self):
        """Everything but the serial: two views with equal content publish the same records."""
        return (self.replicas, self.acceptors, self.nameservers, self.leader, self.unreachable)


def _leader_first(replicas, leader):
    ordered = sorted(replicas)
    if leader in ordered:
        ordered.remove(leader)
        ordered.insert(0, leader)
    return tuple(ordered)


def _replica_view(status):
    """The ReplicaView in a status, or None: only replicas know the configuration (an
    acceptor's status does not list it), and a malformed answer counts as none."""
    try:
        return ReplicaView.from_wire(status)
    except ValueError:
        return None


def _freshest(views):
    """The replica view to believe: the most advanced log, an active leader breaking ties."""
    if not views:
        return None
    return max(views, key=lambda v: (v.slot_out, v.state == "active"))


def _active(views):
    """The replica that says it is the active leader (the most advanced, if several do)."""
    active = [v for v in views if v.state == "active"]
    return max(active, key=lambda v: v.slot_out).node if active else None


def _leader(best, views):
    """A replica that says it is active leads; otherwise trust the freshest replica's word."""
    return _active(views) or best.leader


class ViewFollower:
    """Polls the replicas' status every ``interval`` seconds in a background thread.

    ``bootstrap`` is a list of "host:port" nodes to start from (a replica, or any node that
    answers status). ``on_change(view)`` is called from the polling thread after each change.
    ``clock`` gives seconds since the epoch: serials are time based, so that a restarted
    nameserver still publishes a higher serial than it did before.
    """

    def __init__(self, bootstrap, interval=POLL_INTERVAL, status_timeout=STATUS_TIMEOUT,
                 on_change=None, query=query_status, clock=time.time):
        self._bootstrap = list(bootstrap)
        self._interval = interval
        self._status_timeout = status_timeout
        self._on_change = on_change
        self._query = query
        self._clock = clock
        self._misses = {}
        self._view = None
        self._answered_last_round = False
        self._slot_out = -1           # log position of the status the view was built from
        self._fresh_at = float("-inf")
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=16,
                                                           thread_name_prefix="concoord-view")
        self._thread = threading.Thread(target=self._run, daemon=True, name="concoord-view")

    @property
    def view(self):
        """The current View, or None before any replica has answered."""
        return self._view

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        self._pool.shutdown(wait=False)

    def wait_for_view(self, timeout, predicate=lambda view: True):
        """The current view as soon as ``predicate`` holds for it; None on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._view is None or not predicate(self._view):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return None
                self._changed.wait(min(left, 0.1))
            return self._view

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.poll_once()
            except Exception:  # a bug here must not silently freeze the published view
                log.exception("polling the view failed")
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - started)))

    def poll_once(self):
        """Ask every replica once; publish and return the new view (or the old one)."""
        targets = self._targets()
        views = {address: _replica_view(status) for address, status in self._ask(targets).items()}
        answers = [view for view in views.values() if view is not None]
        answered = {address for address, view in views.items() if view is not None}
        self._answered_last_round = bool(answered)
        config = self._configuration(answers)
        if config is None:
            return None
        replicas, acceptors, nameservers, leader = config
        unreachable = self._count_misses(replicas, answered, targets)
        self._publish(View(_leader_first(replicas, leader), acceptors, nameservers,
                           leader if leader in replicas else None, unreachable))
        return self._view

    def _configuration(self, answers):
        """(replicas, acceptors, nameservers, leader) to publish; None before any answer.

        A replica behind the log position the current view came from (one still catching up
        after it joined) reports an old configuration: believing it would roll DNS back, so
        the current one is kept unless nothing fresher has been heard for STALE_LIMIT seconds
        (the whole instance was restarted without its disks).
        """
        best = _freshest(answers)
        old, now = self._view, time.monotonic()
        if best is not None and (old is None or best.slot_out >= self._slot_out
                                 or now - self._fresh_at > STALE_LIMIT):
            self._slot_out, self._fresh_at = best.slot_out, now
            return (tuple(sorted(best.replicas)), tuple(sorted(best.acceptors)),
                    tuple(sorted(best.nameservers)), _leader(best, answers))
        if old is None:
            return None
        return old.replicas, old.acceptors, old.nameservers, _active(answers) or old.leader

    def _targets(self):
        """Every replica of the current configuration; the bootstrap nodes too until one of
        those answers (the first poll, or after the whole configuration went silent)."""
        targets = list(self._view.replicas) if self._view is not None else []
        if not self._answered_last_round:
            targets += [b for b in self._bootstrap if b not in targets]
        return targets

    def _ask(self, targets):
        def ask(address):
            try:
                return self._query(address, self._status_timeout)
            except (ConnectionError, OSError):
                return None
        futures = {address: self._pool.submit(ask, address) for address in targets}
        return {address: future.result() for address, future in futures.items()}

    def _count_misses(self, replicas, answered, asked):
        misses = {}
        for replica in replicas:
            if replica in answered or replica not in asked:
                misses[replica] = 0   # a replica not yet asked is new: give it the benefit
            else:
                misses[replica] = self._misses.get(replica, 0) + 1
        self._misses = misses
        return frozenset(r for r, n in misses.items() if n >= MISSES_UNREACHABLE)

    def _publish(self, candidate):
        old = self._view
        if old is not None and old.content() == candidate.content():
            return
        serial = max(int(self._clock()), (old.serial + 1) if old is not None else 0)
        view = View(candidate.replicas, candidate.acceptors, candidate.nameservers,
                    candidate.leader, candidate.unreachable, serial & 0xFFFFFFFF)
        with self._changed:
            self._view = view
            self._changed.notify_all()
        log.info("view %d: replicas %s (unreachable %s), acceptors %s, nameservers %s",
                 view.serial, ",".join(view.replicas), ",".join(sorted(view.unreachable)) or "-",
                 ",".join(view.acceptors), ",".join(view.nameservers))
        if self._on_change is not None:
            self._on_change(view)
