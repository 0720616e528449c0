"""A local instance for `concoord bench`: replicas and acceptors as real processes in a temp dir."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from concoord.client.status import query_status
from concoord.wire.status import ReplicaView
from concoord.errors import ConcoordError, ConnectionError
from concoord.runtime.ports import PORT_RANGE

START_TIMEOUT = 30.0
LAYOUTS = ("separate", "colocated")


class LocalCluster:
    """``replicas`` replicas and ``acceptors`` acceptors of ``dotted`` (package.module.Class),
    durable (--data-dir) unless ``in_memory``; ``node_args`` go to every node (security).

    ``hosts``: [(ip, command prefix)] to spread the nodes over, replica i and acceptor i on
    host i modulo their number (tests use network namespaces: ("10.0.0.1", ["ip", "netns",
    "exec", "ns1"])); by default every node runs here on 127.0.0.1.

    ``layout``: "separate" runs every node in a process of its own; "colocated" runs replica i
    and acceptor i in one process (`concoord replica --with-acceptor`), so signalling either
    address signals both.
    """

    def __init__(self, dotted, replicas=3, acceptors=3, in_memory=False, node_args=(),
                 base_port=None, hosts=(("127.0.0.1", ()),), layout="separate"):
        if layout not in LAYOUTS:
            raise ConcoordError(f"unknown layout {layout!r}: one of {', '.join(LAYOUTS)}")
        if layout == "colocated" and replicas != acceptors:
            raise ConcoordError("a colocated layout has one acceptor per replica")
        self.layout = layout
        self.dotted, self.in_memory, self.node_args = dotted, in_memory, list(node_args)
        self.workdir = tempfile.mkdtemp(prefix="concoord-bench-")
        base = base_port or _free_base_port(replicas + acceptors)
        self.hosts = list(hosts)
        self.replicas = [self._place(i, base + i) for i in range(replicas)]
        self.acceptors = [self._place(i, base + replicas + i) for i in range(acceptors)]
        self.procs = {}           # address -> Popen

    def _place(self, index, port):
        return f"{self.hosts[index % len(self.hosts)][0]}:{port}"

    def host_of(self, address):
        """The (ip, command prefix) a node runs on."""
        ip = address.rpartition(":")[0]
        return next(host for host in self.hosts if host[0] == ip)

    def start(self):
        first = self.replicas[0]
        self._spawn("replica", [], first)
        self._wait(lambda: query_status(first), f"replica {first} to answer")
        if self.layout == "separate":
            for address in self.acceptors:
                self._spawn("acceptor", ["-b", first], address)
        for address in self.replicas[1:]:
            self._spawn("replica", ["-b", first], address)
        self.wait_converged()
        return self

    def process_of(self, address):
        """The address whose process runs the node at ``address`` (colocated: its replica)."""
        if self.layout == "colocated" and address in self.acceptors:
            return self.replicas[self.acceptors.index(address)]
        return address

    def wait_converged(self):
        """Until every replica's view lists every node, all replicas name the same leader, and
        each has applied at least what the most advanced one had applied when this was called
        (under load they are never all at the same slot at one instant)."""
        want_r, want_a = sorted(self.replicas), sorted(self.acceptors)
        target = []

        def converged():
            views = [ReplicaView.from_wire(query_status(r)) for r in self.replicas]
            if not target:
                target.append(max(v.slot_out for v in views))
            leaders = {v.leader for v in views}
            return None not in leaders and len(leaders) == 1 and all(
                sorted(v.replicas) == want_r and sorted(v.acceptors) == want_a
                and v.slot_out >= target[0] for v in views)
        self._wait(converged, "the instance to converge")

    def leader(self, exclude=()):
        """The leader according to the first replica (not in ``exclude``) that answers."""
        errors = []
        for replica in self.replicas:
            if replica not in exclude:
                try:
                    return ReplicaView.from_wire(query_status(replica, timeout=1.0)).leader
                except ConnectionError as exc:
                    errors.append(str(exc))
        raise ConnectionError("; ".join(errors) or "no replica to ask")

    def signal(self, address, signum):
        self.procs[self.process_of(address)].send_signal(signum)

    def restart(self, address):
        """Start a killed node again from its data directory (a durable instance)."""
        address = self.process_of(address)
        self.procs[address].wait()
        role, args = self._role_of(address)
        self._spawn(role, args, address)
        self.wait_converged()

    def kill_all(self):
        for proc in self.procs.values():
            proc.kill()
        for proc in self.procs.values():
            proc.wait()

    def restart_all(self):
        """Every node again from its data directory (after kill_all)."""
        for address in list(self.procs):
            self._spawn(*self._role_of(address), address)
        self.wait_converged()

    def _role_of(self, address):
        """(role, args) to start ``address`` again from its data dir (an in-memory acceptor
        must join again, through -b)."""
        if address in self.replicas:
            return "replica", []
        return "acceptor", ["-b", self.replicas[0]] if self.in_memory else []

    def stop(self, keep_logs=False):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
        for proc in self.procs.values():
            proc.wait()
        if not keep_logs:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _spawn(self, role, args, address):
        ip, port = address.rpartition(":")[0], address.rpartition(":")[2]
        name = f"{role}-{port}"
        argv = [*self.host_of(address)[1], sys.executable, "-m", "concoord", role, "-a", ip,
                "-p", port, *args, *self.node_args]
        if role == "replica":
            argv += ["-o", self.dotted]
            if self.layout == "colocated":
                acceptor = self.acceptors[self.replicas.index(address)]
                argv += ["--with-acceptor", "--acceptor-port", acceptor.rpartition(":")[2]]
        if not self.in_memory:
            argv += ["--data-dir", os.path.join(self.workdir, name)]
        with open(os.path.join(self.workdir, name + ".log"), "ab") as log:
            self.procs[address] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL)

    def _wait(self, predicate, what):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            dead = [a for a, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise ConcoordError(f"bench: node {dead[0]} exited while waiting for {what} "
                                    f"(log in {self.workdir})")
            try:
                if predicate():
                    return
            except ConnectionError:
                pass
            time.sleep(0.1)
        raise ConcoordError(f"bench: timed out waiting for {what} (logs in {self.workdir})")


def _free_base_port(count):
    """The first of ``count`` consecutive ports that are free now, from ConCoord's range."""
    import random
    import socket
    low, high = PORT_RANGE
    for _ in range(200):
        base = random.randint(low, high - count)
        try:
            sockets = []
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise ConcoordError("bench: no free ports for the local instance")
