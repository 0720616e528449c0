"""A small harness for integration tests that run real `concoord` processes on 127.0.0.1.

Everything a test starts lives in one temporary directory (the object files, one log file per
node, the client scripts) and is stopped when the test ends: SIGTERM, then SIGKILL.

    def test_something(harness):
        harness.write_object(COUNTER_SOURCE, "counter.py", "Counter")
        replicas, acceptors = harness.start_cluster(3, 3)
        out = harness.run_client("from counterproxy import Counter\n"
                                 "print(Counter(BOOTSTRAP).getvalue())", bootstrap=replicas)
        assert out.stdout.strip() == "0"

Readiness is always decided by polling `status` (wait_until), never by sleeping a fixed time.
"""

import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

try:  # Linux: children die with the test process even if it is killed before its teardown
    import ctypes
    _libc = ctypes.CDLL(None, use_errno=True)
    _PR_SET_PDEATHSIG = 1

    def _die_with_parent():
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
except (OSError, AttributeError):  # not Linux
    _die_with_parent = None

from concoord.client.status import query_status

REPO = pathlib.Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0

# Ports for nodes are chosen below the kernel's ephemeral range (32768+), so that the source
# port of some outgoing connection cannot take them, and outside concoord's default 14000-15000,
# so that nodes started without -p elsewhere on this host cannot take them either.
_PORT_RANGE = (20000, 32000)
_ports_handed_out = set()
_ports_lock = threading.Lock()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now and that we never handed out before."""
    with _ports_lock:
        for _ in range(1000):
            port = random.randint(*_PORT_RANGE)
            if port in _ports_handed_out:
                continue
            with socket.socket() as sock:
                try:
                    sock.bind((HOST, port))
                except OSError:
                    continue
            _ports_handed_out.add(port)
            return port
    raise RuntimeError("no free port found")


def wait_until(predicate, timeout, interval=0.05, message=None):
    """Call ``predicate`` until it returns something truthy (returned); AssertionError on timeout.

    Exceptions from ``predicate`` count as "not yet"; the last one is named in the error.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - "not ready yet", whatever the reason
            last_error = exc
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", "condition")
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(interval)


class Node:
    """One running `concoord replica` or `concoord acceptor` process."""

    def __init__(self, role, address, proc, log_path):
        self.role = role
        self.address = address
        self.proc = proc
        self.log_path = log_path

    def __repr__(self):
        state = "running" if self.alive else f"exited {self.proc.returncode}"
        return f"<{self.role} {self.address} pid {self.proc.pid} {state}>"

    @property
    def alive(self):
        return self.proc.poll() is None

    def status(self, timeout=2.0):
        """The node's status dict (``concoord status --json``); ConnectionError if it cannot say."""
        return query_status(self.address, timeout=timeout)

    def kill(self):
        """SIGKILL (kill -9) and reap."""
        if self.alive:
            self.proc.kill()
        self.proc.wait(STOP_TIMEOUT)

    def stop(self):
        """SIGTERM; SIGKILL if it has not exited within STOP_TIMEOUT."""
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"<cannot read {self.log_path}: {exc}>"


class Harness:
    """Processes of one test: nodes, client scripts and `concoord` commands, all in ``workdir``."""

    def __init__(self, workdir):
        self.workdir = pathlib.Path(workdir)
        self.nodes = []
        self.clients = []           # Popen objects of clients started in the background
        self.object_file = None
        self.class_name = None
        self.node_args = []         # added to every node's command line (e.g. --secret-file)
        self.extra_env = {}         # added to every child's environment
        self._log_seq = 0

    # ---- environment and commands ------------------------------------------------------------

    def env(self):
        """The environment of every child: the object files (workdir) and concoord importable."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.workdir), str(REPO)])
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def concoord(self, *args, timeout=60.0):
        """Run `python -m concoord ARGS` to completion; the CompletedProcess (text output)."""
        return subprocess.run([sys.executable, "-m", "concoord", *map(str, args)],
                              cwd=self.workdir, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)

    def write_object(self, source, filename, class_name):
        """The README's steps 3.1: save the class, `concoord object`, rename the two outputs.

        Afterwards FILE.py is the server-side copy and FILEproxy.py the client proxy.
        """
        path = self.workdir / filename
        path.write_text(source)
        result = self.concoord("object", "-f", filename, "-c", class_name)
        assert result.returncode == 0, f"concoord object failed: {result.stderr}"
        stem = path.stem
        (self.workdir / f"{filename}fixed").rename(path)
        (self.workdir / f"{filename}proxy").rename(self.workdir / f"{stem}proxy.py")
        self.object_file, self.class_name = filename, class_name
        return path

    # ---- nodes ----------------------------------------------------------------------------------

    def _spawn(self, role, args):
        port = free_port()
        self._log_seq += 1
        log_path = self.workdir / f"{self._log_seq:02d}-{role}-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "concoord", role, "-p", str(port), *args,
                 *self.node_args],
                cwd=self.workdir, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)
        node = Node(role, f"{HOST}:{port}", proc, log_path)
        self.nodes.append(node)
        return node

    def _wait_answers(self, node):
        def answers():
            if not node.alive:
                raise AssertionError(f"{node} exited:\n{node.log()}")
            return node.status(timeout=1.0)
        try:
            wait_until(answers, START_TIMEOUT, message=f"{node} to answer status")
        except AssertionError:
            if not node.alive:  # give the real reason (e.g. the port was taken)
                raise AssertionError(f"{node} exited:\n{node.log()}") from None
            raise

    def _wait_joined(self, node, through):
        """A joining node is in when the replica it joined through lists it in its view."""
        key = "replicas" if node.role == "replica" else "acceptors"

        def listed():
            if not node.alive:
                raise AssertionError(f"{node} exited:\n{node.log()}")
            return node.address in through.status(timeout=1.0)[key]
        wait_until(listed, START_TIMEOUT, message=f"{node} to join through {through.address}")

    def start_replica(self, bootstrap=None, wait=True):
        """A replica of the current object; without ``bootstrap`` it starts a new instance.

        ``bootstrap`` is a Node, a list of Nodes, or an "ip:port[,ip:port]" string.
        """
        args = ["-f", self.object_file, "-c", self.class_name]
        if bootstrap is not None:
            args += ["-b", _addresses(bootstrap)]
        return self._start("replica", args, bootstrap, wait)

    def start_acceptor(self, bootstrap, wait=True):
        return self._start("acceptor", ["-b", _addresses(bootstrap)], bootstrap, wait)

    def _start(self, role, args, bootstrap, wait, attempts=3):
        for attempt in range(attempts):
            node = self._spawn(role, args)
            if not wait:
                return node
            try:
                self._wait_answers(node)
            except AssertionError:
                # Someone else took the port between free_port() and the node's bind: again.
                if attempt + 1 < attempts and not node.alive and " is in use" in node.log():
                    continue
                raise
            if bootstrap is not None:
                self._wait_joined(node, _first_replica(bootstrap, self.nodes))
            return node

    def start_cluster(self, n_replicas, n_acceptors, object_file=None, class_name=None):
        """A new instance of ``n_replicas`` replicas and ``n_acceptors`` acceptors, all joined
        through the first replica, and converged (see wait_converged). (replicas, acceptors)."""
        if object_file is not None:
            self.object_file, self.class_name = object_file, class_name
        first = self.start_replica()
        acceptors = [self.start_acceptor(first)]
        replicas = [first]
        # The rest join one at a time, as an operator typing the README's commands would.
        for _ in range(n_replicas - 1):
            replicas.append(self.start_replica(first))
        for _ in range(n_acceptors - 1):
            acceptors.append(self.start_acceptor(first))
        self.wait_converged(replicas, acceptors)
        return replicas, acceptors

    def wait_converged(self, replicas, acceptors, timeout=START_TIMEOUT):
        """Until every replica's view lists exactly these nodes, all replicas are at the same
        slot_out, and every acceptor answers status. Returns the replicas' status dicts."""
        want_r = sorted(n.address for n in replicas)
        want_a = sorted(n.address for n in acceptors)

        def converged():
            statuses = [r.status(timeout=1.0) for r in replicas]
            for s in statuses:
                if sorted(s["replicas"]) != want_r or sorted(s["acceptors"]) != want_a:
                    return None
            if len({s["slot_out"] for s in statuses}) != 1:
                return None
            if sum(s["state"] == "active" for s in statuses) != 1:
                return None
            for a in acceptors:
                a.status(timeout=1.0)
            return statuses
        return wait_until(converged, timeout, message="the cluster to converge")

    def leader(self, replicas):
        """The replica every live replica names as leader."""
        def agreed():
            named = {r.status(timeout=1.0)["leader"] for r in replicas if r.alive}
            return named.pop() if len(named) == 1 and None not in named else None
        address = wait_until(agreed, START_TIMEOUT, message="the replicas to agree on a leader")
        return next(r for r in replicas if r.address == address)

    # ---- clients --------------------------------------------------------------------------------

    def _client_command(self, code, bootstrap):
        self._log_seq += 1
        script = self.workdir / f"{self._log_seq:02d}-client.py"
        header = f"BOOTSTRAP = {bootstrap!r}\n" if bootstrap is not None else ""
        script.write_text(header + textwrap.dedent(code))
        return [sys.executable, str(script)]

    def run_client(self, code, bootstrap=None, timeout=60.0, check=True):
        """Run ``code`` as a separate Python process (cwd and PYTHONPATH: the workdir); with
        ``bootstrap`` (Nodes or a string) the script starts with ``BOOTSTRAP = "ip:port,..."``.
        Returns the CompletedProcess; ``check`` asserts it exited 0."""
        boot = None if bootstrap is None else _addresses(bootstrap)
        result = subprocess.run(self._client_command(code, boot), cwd=self.workdir,
                                env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, (
                f"client exited {result.returncode}\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}")
        return result

    def start_client(self, code, bootstrap=None):
        """Like run_client, but in the background: the Popen (stdout/stderr pipes, text)."""
        boot = None if bootstrap is None else _addresses(bootstrap)
        proc = subprocess.Popen(self._client_command(code, boot), cwd=self.workdir,
                                env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True, preexec_fn=_die_with_parent)
        self.clients.append(proc)
        return proc

    # ---- teardown and debugging ---------------------------------------------------------------

    def close(self):
        """Stop every process this harness started (clients first, then nodes)."""
        for proc in self.clients:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.communicate(timeout=STOP_TIMEOUT)
            except (subprocess.TimeoutExpired, ValueError, OSError):
                pass
        for node in self.nodes:
            if node.alive:
                node.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for node in self.nodes:
            try:
                node.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait(STOP_TIMEOUT)

    def logs(self):
        """Every node's log, for the report of a failed test."""
        parts = []
        for node in self.nodes:
            parts.append(f"===== {node!r}: {node.log_path.name} =====\n{node.log()}")
        return "\n".join(parts) if parts else "(no nodes were started)"


def _addresses(nodes):
    if isinstance(nodes, str):
        return nodes
    if isinstance(nodes, Node):
        nodes = [nodes]
    return ",".join(n.address for n in nodes)


def _first_replica(bootstrap, known_nodes):
    """The replica Node a join through ``bootstrap`` is decided by (to watch the view on)."""
    addresses = _addresses(bootstrap).split(",")
    for node in known_nodes:
        if node.role == "replica" and node.address in addresses:
            return node
    raise ValueError(f"no replica started by this harness in bootstrap {addresses}")

