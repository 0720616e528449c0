"""One run of ``initialize`` or ``addnode``: its SSH sessions, the hosts it prepared and the
nodes it started. If the run fails (or is interrupted) it stops every node it started: a
half-started instance is worse than none, and the user would have to hunt for the processes."""

import contextlib
import pathlib
import signal
import sys
import tempfile
import threading

from concoord.deploy.bundle import build_bundle
from concoord.deploy.errors import DeployError
from concoord.deploy.join import NodeFailed, wait_joined
from concoord.deploy.nodes import SECRET_FILE, pick_port, start_node, stop_node
from concoord.deploy.remote import prepare_host
from concoord.deploy.ssh import SshSession

MAX_ATTEMPTS = 3


def say(line):
    print(line, flush=True)


@contextlib.contextmanager
def interrupts_held():
    """Hold Ctrl-C and SIGTERM until the block ends, then raise KeyboardInterrupt. Around a
    node's launch: an interrupt between the remote fork and our record of its PID would leave
    a node running that the rollback does not know about."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    signums = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda s, f: held.append(s)) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            raise KeyboardInterrupt


class Deployment:
    def __init__(self, settings, instance, object_data, out=say, secret=None):
        """``secret`` (bytes) is uploaded to every host when ``instance.secret`` is set."""
        self.settings = settings
        self.secret = secret
        self.instance = instance
        self.object_data = object_data
        self.out = out
        self.sessions = []
        self.started = []
        self.left_running = []    # nodes a rollback could not stop
        self._bundle = None
        self._bundle_lock = threading.Lock()  # hosts are prepared in parallel

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                self.rollback()
        finally:
            self.close()
        return False

    def prepare(self, host):
        """Connect to ``host``, check it and upload the object (and the bundle if needed)."""
        session = SshSession(host, self.settings).connect()
        self.sessions.append(session)
        prepared = prepare_host(session, self.settings,
                                self.settings.work_dir(self.instance.domain),
                                self.instance.object_name, self.object_data, self.server_bundle)
        if self.instance.secret:
            session.upload(self.secret + b"\n", f"{prepared.work_dir}/{SECRET_FILE}", mode=0o600)
        self.out(f"host {host}: {prepared.description}; work directory {prepared.work_dir}")
        return prepared

    def server_bundle(self):
        """The server bundle's bytes, built once per run and only if some host needs it."""
        with self._bundle_lock:
            if self._bundle is None:
                with tempfile.TemporaryDirectory(prefix="concoord-deploy-") as tmp:
                    path = build_bundle("server", pathlib.Path(tmp) / "concoord-server.pyz")
                    self._bundle = path.read_bytes()
            return self._bundle

    def launch(self, role, candidates, boot, label):
        """Start a ``role`` node on the first of ``candidates`` (prepared hosts, one per
        attempt) where it joins the instance through ``boot``; the RemoteNode.

        ``boot`` None starts the bootstrap replica of a new instance."""
        failures = []
        for attempt, prepared in enumerate(candidates[:MAX_ATTEMPTS], 1):
            with interrupts_held():
                node = start_node(prepared, self.instance, role, pick_port(), boot)
                self.started.append(node)
                self.out(f"{label}: starting {node} on {prepared} (pid {node.pid})")
            try:
                wait_joined(node, boot or [node.address], self.settings.join_timeout)
            except NodeFailed as exc:
                tail = stop_node(node, forget_data=True)
                self.started.remove(node)
                reason = f"{exc} (its log: {tail or 'empty'})"
                failures.append(f"{node} on {prepared}: {reason}")
                more = "; trying again" if attempt < min(MAX_ATTEMPTS, len(candidates)) else ""
                self.out(f"{label}: {node} on {prepared} failed: {reason}{more}")
                continue
            self.out(f"{label}: {node} joined")
            return node
        raise DeployError(f"could not start {label}: " + "; ".join(failures))

    def rollback(self):
        """Stop every node this run started, newest first, and remove their data; report (and
        keep in ``left_running``) what could not be stopped."""
        for node in reversed(self.started):
            try:
                stop_node(node, forget_data=True)
                self.out(f"stopped {node} on {node.host}: rolling back this run")
            except DeployError as exc:
                self.left_running.append(node)
                print(f"could not stop {node} (pid {node.pid}): {exc}", file=sys.stderr)
        self.started.clear()

    def close(self):
        for session in self.sessions:
            session.close()
        self.sessions.clear()
