"""Real `concoord` processes for the DNS tests: replicas and acceptors on 127.0.0.x (different
addresses, so that the A records really change), a `concoord nameserver`, client scripts.

Everything lives in one temporary directory and is stopped at the end (SIGTERM, then SIGKILL);
children also die with the test process if it is killed before its teardown.
"""

import ctypes
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import textwrap
import time

from concoord.client.status import query_status

REPO = pathlib.Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
COUNTER = '''\
class Counter():
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1

    def getvalue(self):
        return self.value
'''

_handed_out = set()


def _die_with_parent():
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port(host="127.0.0.1", low=20000, high=32000, udp=False):
    """A port nothing listens on (TCP, and UDP too with ``udp``), never handed out before.
    Below 32768 so that no outgoing connection's source port can take it."""
    for _ in range(1000):
        port = random.randint(low, high)
        if port in _handed_out:
            continue
        kinds = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if udp else (socket.SOCK_STREAM,)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            for kind in kinds:
                with socket.socket(family, kind) as sock:
                    sock.bind((host, port))
        except OSError:
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port")


def dns_port():
    """A DNS port for a test nameserver: 5353 plus a random offset."""
    return free_port(low=5400, high=9999, udp=True)


def wait_until(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - not ready yet
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}"
                                 + (f" (last error: {last!r})" if last else ""))
        time.sleep(interval)


class Proc:
    def __init__(self, role, address, popen, log_path):
        self.role, self.address, self.popen, self.log_path = role, address, popen, log_path

    def __repr__(self):
        return f"<{self.role} {self.address} pid {self.popen.pid}>"

    @property
    def alive(self):
        return self.popen.poll() is None

    def status(self):
        return query_status(self.address, timeout=1.0)

    def kill(self):
        if self.alive:
            self.popen.kill()
        self.popen.wait(STOP_TIMEOUT)

    def stop(self):
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Cluster:
    def __init__(self, workdir):
        self.workdir = pathlib.Path(workdir)
        self.procs = []
        self._seq = 0

    def env(self, **extra):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.workdir), str(REPO)])
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("CONCOORD_NAMESERVER", None)
        env.update(extra)
        return env

    def concoord(self, *args, timeout=60):
        return subprocess.run([sys.executable, "-m", "concoord", *map(str, args)],
                              cwd=self.workdir, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)

    def write_counter(self):
        """counter.py (server side) and counterproxy.py, as the README's step 3.1 leaves them."""
        (self.workdir / "counter.py").write_text(COUNTER)
        result = self.concoord("object", "-f", "counter.py", "-c", "Counter")
        assert result.returncode == 0, result.stderr
        (self.workdir / "counter.pyfixed").rename(self.workdir / "counter.py")
        (self.workdir / "counter.pyproxy").rename(self.workdir / "counterproxy.py")

    def spawn(self, role, args, address):
        self._seq += 1
        log_path = self.workdir / f"{self._seq:02d}-{role}.log"
        with open(log_path, "wb") as log:
            popen = subprocess.Popen([sys.executable, "-m", "concoord", role, *map(str, args)],
                                     cwd=self.workdir, env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        proc = Proc(role, address, popen, log_path)
        self.procs.append(proc)
        return proc

    def _node(self, role, addr, boot, extra=()):
        port = free_port(addr)
        args = ["-a", addr, "-p", port, *extra] + (["-b", _boot(boot)] if boot else [])
        proc = self.spawn(role, args, f"{addr}:{port}")
        wait_until(lambda: self._answers(proc), START_TIMEOUT, f"{proc} to answer status")
        return proc

    def _answers(self, proc):
        if not proc.alive:
            raise AssertionError(f"{proc} exited:\n{proc.log()}")
        return proc.status()

    def start_replica(self, addr="127.0.0.1", boot=None):
        replica = self._node("replica", addr, boot, ["-f", "counter.py", "-c", "Counter"])
        if boot:
            self.wait_listed(replica, "replicas", boot)
        return replica

    def start_acceptor(self, boot, addr="127.0.0.1"):
        acceptor = self._node("acceptor", addr, boot)
        self.wait_listed(acceptor, "acceptors", boot)
        return acceptor

    def wait_listed(self, node, key, through):
        through = through[0] if isinstance(through, list) else through
        wait_until(lambda: node.address in through.status()[key], START_TIMEOUT,
                   f"{node} to be listed in {key}")

    def start_nameserver(self, domain, boot, port, addr="127.0.0.1", extra=()):
        """`concoord nameserver`, returned once it has joined (it prints its address then)."""
        args = ["-n", domain, "-f", "counter.py", "-c", "Counter", "-b", _boot(boot),
                "-a", addr, "--ttl", 1, *extra]
        if port is not None:   # None: the default, 53
            args += ["--dns-port", port]
        proc = self.spawn("nameserver", args, f"{addr}:{port or 53}")
        wait_until(lambda: self._serving(proc), START_TIMEOUT, f"{proc} to serve")
        return proc

    def _serving(self, proc):
        if not proc.alive:
            raise AssertionError(f"{proc} exited:\n{proc.log()}")
        return "serving" in proc.log()

    def start_client(self, code):
        self._seq += 1
        script = self.workdir / f"{self._seq:02d}-client.py"
        script.write_text(textwrap.dedent(code))
        popen = subprocess.Popen([sys.executable, str(script)], cwd=self.workdir,
                                 env=self.env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True,
                                 preexec_fn=_die_with_parent)
        self.procs.append(Proc("client", "-", popen, script))
        return popen

    def close(self):
        # Clients and nameservers first: a nameserver leaves the view on its way out, which
        # needs the replicas still running.
        first = [p for p in self.procs if p.role in ("client", "nameserver")]
        for group in (first, [p for p in self.procs if p not in first]):
            for proc in group:
                if proc.alive:
                    proc.popen.send_signal(signal.SIGTERM)
            for proc in group:
                try:
                    proc.popen.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()

    def logs(self):
        return "\n".join(f"===== {p!r} =====\n{p.log()}" for p in self.procs
                         if p.role != "client")


def _boot(boot):
    if isinstance(boot, str):
        return boot
    nodes = boot if isinstance(boot, list) else [boot]
    return ",".join(n.address for n in nodes)
