"""Baselines for `concoord bench --baseline`: a 3-member etcd or a 3-server ZooKeeper ensemble,
started on this host on 127.0.0.1 with their default durability (both fsync every write), in a
temp dir that is removed afterwards. One small class per system: start, wait until healthy
(one leader), the leader's client address, stop.

Clients are pointed at the leader, like ConCoord's proxies, so that no system pays an extra
forwarding hop that the others do not.
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

from concoord.errors import ConcoordError

START_TIMEOUT = 60.0
MEMBERS = 3
ZOOKEEPER_JARS = "/usr/share/java"       # where Debian's `zookeeper` package puts its jars


def require(system):
    """Fail at once, in one line, when the binary or the Python client of ``system`` is
    missing (before our own instance is started and measured for nothing)."""
    if system == "etcd":
        if shutil.which("etcd") is None:
            raise ConcoordError("--baseline etcd needs the etcd binary on PATH: "
                                "apt-get install etcd-server")
        _require_module("etcd3", "etcd3 'protobuf<4'")
    else:
        if shutil.which("java") is None or not os.path.exists(_zookeeper_jar()):
            raise ConcoordError("--baseline zookeeper needs java on PATH and "
                                f"{_zookeeper_jar()}: apt-get install zookeeper")
        _require_module("kazoo", "kazoo")


def _require_module(name, packages):
    try:
        __import__(name)
    except Exception as exc:    # noqa: BLE001 - etcd3 with protobuf>=4 fails with a TypeError
        raise ConcoordError(f"--baseline needs the Python client {name} ({type(exc).__name__}"
                            f"): pip install {packages} (or 'concoord[baseline]')") from None


def create(system):
    return {"etcd": Etcd, "zookeeper": ZooKeeper}[system]()


class _Members:
    """What both systems share: a temp dir, one process per member, and stopping them all."""

    name = ""

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix=f"concoord-bench-{self.name}-")
        self.procs = []

    def _spawn(self, index, argv):
        with open(os.path.join(self.workdir, f"{self.name}-{index}.log"), "ab") as log:
            self.procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, cwd=self.workdir))

    def _wait(self, predicate, what):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if any(proc.poll() is not None for proc in self.procs):
                raise ConcoordError(f"bench: a {self.name} member exited while waiting for "
                                    f"{what} (logs in {self.workdir})")
            try:
                result = predicate()
                if result:
                    return result
            except Exception:   # noqa: BLE001 - not up yet: connection refused, no leader
                pass
            time.sleep(0.2)
        raise ConcoordError(f"bench: timed out waiting for {what} (logs in {self.workdir})")

    def stop(self, keep_logs=False):
        # SIGKILL, not SIGTERM: their data is thrown away, and a terminated etcd leader first
        # hands its leadership over, which takes seconds.
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            proc.wait()
        if not keep_logs:
            shutil.rmtree(self.workdir, ignore_errors=True)


class Etcd(_Members):
    """3 etcd members; etcd fsyncs its WAL before acknowledging (--unsafe-no-fsync is off)."""

    name = "etcd"

    def version(self):
        out = subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout
        return out.split("\n")[0].rpartition(" ")[2]

    def start(self):
        ports = free_ports(2 * MEMBERS)
        self.clients = [f"127.0.0.1:{port}" for port in ports[:MEMBERS]]
        peers = [f"http://127.0.0.1:{port}" for port in ports[MEMBERS:]]
        cluster = ",".join(f"m{i}={peer}" for i, peer in enumerate(peers))
        for i in range(MEMBERS):
            self._spawn(i, [
                "etcd", "--name", f"m{i}", "--data-dir", os.path.join(self.workdir, f"m{i}"),
                "--listen-client-urls", f"http://{self.clients[i]}",
                "--advertise-client-urls", f"http://{self.clients[i]}",
                "--listen-peer-urls", peers[i], "--initial-advertise-peer-urls", peers[i],
                "--initial-cluster", cluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", os.path.basename(self.workdir)])
        self.leader = self._wait(self._leader, "etcd to elect a leader")
        return self

    def _leader(self):
        """The leader's client address once every member names the same one."""
        import etcd3
        leaders = set()
        for address in self.clients:
            host, port = address.split(":")
            client = etcd3.client(host, int(port), timeout=2)
            try:
                leader = client.status().leader
                leaders.add(leader.client_urls[0].split("//")[1] if leader else None)
            finally:
                client.close()
        return leaders.pop() if len(leaders) == 1 and None not in leaders else None


class ZooKeeper(_Members):
    """3 ZooKeeper servers (QuorumPeerMain, one zoo.cfg each); forceSync=yes by default, so
    the transaction log is fsync'd before a write is acknowledged."""

    name = "zookeeper"

    def version(self):
        # Debian ships zookeeper-3.8.0.jar next to the unversioned zookeeper.jar.
        jars = glob.glob(os.path.join(ZOOKEEPER_JARS, "zookeeper-[0-9]*.jar"))
        return os.path.basename(jars[0])[len("zookeeper-"):-len(".jar")] if jars else "?"

    def start(self):
        ports = free_ports(3 * MEMBERS)
        self.clients = [f"127.0.0.1:{port}" for port in ports[:MEMBERS]]
        servers = [f"server.{i + 1}=127.0.0.1:{ports[MEMBERS + i]}:{ports[2 * MEMBERS + i]}"
                   for i in range(MEMBERS)]
        classpath = [_zookeeper_jar()]
        simple_log = os.path.join(ZOOKEEPER_JARS, "slf4j-simple.jar")
        if os.path.exists(simple_log):      # its log goes to the member's log file
            classpath.append(simple_log)
        for i in range(MEMBERS):
            data = os.path.join(self.workdir, f"zk{i}")
            os.makedirs(data)
            with open(os.path.join(data, "myid"), "w") as f:
                f.write(f"{i + 1}\n")
            config = os.path.join(self.workdir, f"zoo{i}.cfg")
            with open(config, "w") as f:
                # The admin HTTP server would take port 8080; srvr tells who leads.
                f.write("\n".join([
                    "tickTime=2000", "initLimit=10", "syncLimit=5", f"dataDir={data}",
                    f"clientPort={self.clients[i].split(':')[1]}",
                    "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                    "4lw.commands.whitelist=srvr", *servers, ""]))
            self._spawn(i, ["java", "-Xmx256m", "-cp", ":".join(classpath),
                            "org.apache.zookeeper.server.quorum.QuorumPeerMain", config])
        self.leader = self._wait(self._leader, "ZooKeeper to elect a leader")
        return self

    def _leader(self):
        """The leader's client address once one server leads and the others follow."""
        modes = {address: _four_letters(address, b"srvr") for address in self.clients}
        leaders = [a for a, out in modes.items() if "Mode: leader" in out]
        followers = [a for a, out in modes.items() if "Mode: follower" in out]
        return leaders[0] if len(leaders) == 1 and len(followers) == MEMBERS - 1 else None


def _four_letters(address, word):
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(word)
        chunks = []
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return b"".join(chunks).decode(errors="replace")
            chunks.append(chunk)


def _zookeeper_jar():
    return os.path.join(ZOOKEEPER_JARS, "zookeeper.jar")


def free_ports(count):
    """``count`` distinct ports free now on 127.0.0.1 (the kernel picks them)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
