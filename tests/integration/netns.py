"""Pretend hosts for partition tests: network namespaces joined by a bridge, one veth each.

The test process stays in the root namespace and reaches every host through the bridge;
``isolate(i)`` takes host i's link down, which cuts it off from every other host and from
the test process, and ``heal(i)`` brings it back. Needs root and iproute2 (CI has both).
"""

import os
import subprocess

SUBNET = "10.231.{}.{}"


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def available():
    """None if namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "needs root"
    probe = f"ccprobe{os.getpid() % 10000}"
    try:
        _ip("netns", "add", probe)
        _ip("netns", "del", probe)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"`ip netns add` failed: {getattr(exc, 'stderr', None) or exc}"
    return None


class Network:
    def __init__(self, hosts=3):
        tag = os.getpid() % 10000
        self.bridge = f"ccb{tag}"
        self.namespaces = [f"ccn{tag}-{i}" for i in range(hosts)]
        self.links = [f"ccv{tag}-{i}" for i in range(hosts)]
        self.net = tag % 200 + 20
        self.ips = [SUBNET.format(self.net, i + 1) for i in range(hosts)]

    def __enter__(self):
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", SUBNET.format(self.net, 254) + "/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for namespace, link, ip in zip(self.namespaces, self.links, self.ips):
                _ip("netns", "add", namespace)
                _ip("link", "add", link, "type", "veth", "peer", "name", "eth0",
                    "netns", namespace)
                _ip("link", "set", link, "master", self.bridge, "up")
                inside = ["netns", "exec", namespace, "ip"]
                _ip(*inside, "addr", "add", ip + "/24", "dev", "eth0")
                _ip(*inside, "link", "set", "eth0", "up")
                _ip(*inside, "link", "set", "lo", "up")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info):
        for namespace in self.namespaces:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)

    def hosts(self):
        """[(ip, command prefix)] for LocalCluster."""
        return [(ip, ("ip", "netns", "exec", namespace))
                for ip, namespace in zip(self.ips, self.namespaces)]

    def index_of(self, address):
        return self.ips.index(address.rpartition(":")[0])

    def isolate(self, index):
        _ip("link", "set", self.links[index], "down")

    def heal(self, index):
        _ip("link", "set", self.links[index], "up")
