"""`concoord dashboard`: a live web page of an instance, served by this command alone.

A poller thread asks the instance for its status through the same protocol as `concoord
status` (concoord.client.instance_status: no other way into the nodes; with a secret it needs
the secret) about once a second. It keeps the last minutes of throughput and of the round trip
of one status request to the leader (how quickly the leader's node answers: it rises when the
leader is overloaded or being replaced; command latency itself is in the metrics), and
derives events (a new leader or ballot, members added or removed, nodes going down or coming
back) by comparing each poll with the one before. An HTTP server (stdlib, one thread per
request) serves the page (concoord/ops/dashboard_page.py: HTML and a small script, no build
step, no CDN) at / and the poller's latest state as JSON at /api/status; the page polls that.
"""

import collections
import json
import logging
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from concoord.client.instance_status import instance_status
from concoord.client.status import query_status
from concoord.errors import ConcoordError
from concoord.ops.dashboard_page import PAGE

log = logging.getLogger("concoord.dashboard")

POLL_INTERVAL = 1.0        # seconds between two status polls (each takes about half a second)
HISTORY_SECONDS = 600      # how much of the charts' history is kept
MAX_EVENTS = 50


class InstanceWatcher:
    """Polls the instance's status and keeps what the page shows."""

    def __init__(self, bootstrap, interval=POLL_INTERVAL, query=instance_status,
                 round_trip=None, clock=time.time):
        self.bootstrap = list(bootstrap)
        self.interval = interval
        self._query = query
        self._round_trip = round_trip or status_round_trip
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._view = None             # the latest status that was answered
        self._error = None            # why the latest poll failed, if it did
        self._polled_at = None
        self._throughput = collections.deque()    # (time, commands per second at the leader)
        self._latency = collections.deque()       # (time, status round trip to it in ms)
        self._events = collections.deque(maxlen=MAX_EVENTS)   # newest last

    def start(self):
        threading.Thread(target=self._run, daemon=True, name="concoord-dashboard-poll").start()
        return self

    def stop(self):
        self._stop.set()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:    # noqa: BLE001 - a page frozen on its last view is worse
                log.exception("dashboard poll failed")
            self._stop.wait(self.interval)

    def poll_once(self):
        # Every replica seen so far is asked too: the page must survive the death of the
        # bootstrap node it was started with.
        known = self._view["replicas"] if self._view else []
        bootstrap = self.bootstrap + [r for r in known if r not in self.bootstrap]
        now = self._clock()
        try:
            view = self._query(bootstrap)
        except (ConcoordError, OSError) as exc:
            with self._lock:
                self._error, self._polled_at = str(exc), now
            return
        seconds = self._round_trip(view["leader"]) if view.get("leader") else None
        with self._lock:
            self._record_changes(self._view, view, now)
            self._view, self._error, self._polled_at = view, None, now
            if view.get("commands_per_second") is not None:
                self._throughput.append((now, view["commands_per_second"]))
            if seconds is not None:
                self._latency.append((now, round(seconds * 1000, 2)))
            for series in (self._throughput, self._latency):
                while series and series[0][0] < now - HISTORY_SECONDS:
                    series.popleft()

    def _record_changes(self, old, new, now):
        def event(kind, text):
            self._events.append({"at": now, "kind": kind, "text": text})
        if old is None:
            event("start", f"watching; leader {new.get('leader')} {_ballot(new)}")
            return
        if new.get("leader") != old.get("leader"):
            event("election", f"leader {old.get('leader')} -> {new.get('leader')} "
                  f"({_ballot(new)})")
        elif new.get("ballot") != old.get("ballot"):
            event("election", f"leader {new.get('leader')} re-elected ({_ballot(new)})")
        for role in ("replicas", "acceptors", "nameservers"):
            before, after = set(old.get(role, ())), set(new.get(role, ()))
            for address in sorted(after - before):
                event("view", f"{role[:-1]} {address} joined the view")
            for address in sorted(before - after):
                event("view", f"{role[:-1]} {address} left the view")
        was_alive = {n["address"]: n["alive"] for n in old["nodes"]}
        for node in new["nodes"]:
            before = was_alive.get(node["address"])
            if before is True and node["alive"] is False:
                event("down", f"{node['role']} {node['address']} stopped answering")
            elif before is False and node["alive"] is True:
                event("up", f"{node['role']} {node['address']} answers again")

    def snapshot(self):
        """What /api/status returns (plain JSON values)."""
        with self._lock:
            return {"bootstrap": self.bootstrap, "polled_at": self._polled_at,
                    "error": self._error, "view": self._view,
                    "throughput": list(self._throughput), "latency": list(self._latency),
                    "events": list(self._events)}


def status_round_trip(address, timeout=2.0):
    """Seconds one status request to ``address`` took (connection included), or None."""
    started = time.monotonic()
    try:
        query_status(address, timeout)
    except (ConcoordError, OSError):
        return None
    return time.monotonic() - started


def _ballot(view):
    ballot = view.get("ballot") or [0]
    return f"ballot round {ballot[0]}"


def make_server(watcher, address, port):
    """The HTTP server of the page: / (the page), /api/status (JSON); nothing else."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/":
                self._send(200, "text/html; charset=utf-8", PAGE.encode())
            elif path == "/api/status":
                body = json.dumps(watcher.snapshot()).encode()
                self._send(200, "application/json", body)
            else:
                self.send_error(404)

        def _send(self, code, content_type, body):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass     # the page polls every second: not worth a log line each

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        daemon_threads = True

    return Server((address, port), Handler)


def serve_dashboard(bootstrap, address, port):
    """Run until Ctrl-C or SIGTERM."""
    watcher = InstanceWatcher(bootstrap).start()
    server = make_server(watcher, address, port)
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="concoord-dashboard-http").start()
    host, bound_port = server.server_address[:2]
    print(f"concoord dashboard at http://{host}:{bound_port}/", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.is_set():
            stop.wait(0.5)
    finally:
        watcher.stop()
        server.shutdown()
        server.server_close()
