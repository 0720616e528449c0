"""One client connection per bench thread, the same shape for ConCoord and its baselines:
``call()`` does one operation and waits for it; ``call_async(done)`` sends one and calls
``done(exception or None)`` when it completes (W3); ``close()``.

The operations compared (a ``spec``'s "op"): "write" is ConCoord's --method (increment), an
etcd put of a counter key, or a ZooKeeper set_data of a counter znode; "read" is ConCoord's
--read-method (a lease read at the leader), an etcd linearizable range get, or a ZooKeeper
sync() followed by get_data (ZooKeeper's reads are otherwise served locally, possibly stale).
"""

KEY = "/concoord-bench/counter"


def connect(spec):
    return {"concoord": ConcoordSession, "etcd": EtcdSession,
            "zookeeper": ZooKeeperSession}[spec["system"]](spec)


class ConcoordSession:
    def __init__(self, spec):
        from concoord.client.proxy import ClientProxy
        self.proxy = ClientProxy(spec["bootstrap"], timeout=30)
        self.method = spec["method"] if spec["op"] == "write" else spec["read_method"]

    def call(self):
        self.proxy._invoke(self.method)

    def call_async(self, done):
        self.proxy.call_async(self.method).add_done_callback(lambda f: done(f.exception()))

    def close(self):
        self.proxy.close()


class EtcdSession:
    """etcd3 over gRPC; it has no pipelining API, so there is no call_async (and no W3)."""

    def __init__(self, spec):
        import etcd3
        host, port = spec["endpoint"].split(":")
        self.client = etcd3.client(host, int(port), timeout=30)
        self.count = 0
        self.call = self._put if spec["op"] == "write" else self._get
        if spec["op"] == "read":
            self.client.put(KEY, "0")

    def _put(self):
        self.count += 1
        self.client.put(KEY, str(self.count))

    def _get(self):
        self.client.get(KEY)     # serializable=False by default: linearizable, through Raft

    def close(self):
        self.client.close()


class ZooKeeperSession:
    def __init__(self, spec):
        from kazoo.client import KazooClient
        self.client = KazooClient(hosts=spec["endpoint"], timeout=30)
        self.client.start(timeout=30)
        self.client.ensure_path(KEY)
        self.count = 0
        self.call = self._set if spec["op"] == "write" else self._get

    def _set(self):
        self.count += 1
        self.client.set(KEY, b"%d" % self.count)

    def _get(self):
        self.client.sync(KEY)
        self.client.get(KEY)

    def call_async(self, done):
        # kazoo pipelines async requests on its one connection, as ConCoord's call_async does.
        self.count += 1
        self.client.set_async(KEY, b"%d" % self.count).rawlink(
            lambda result: done(result.exception))

    def close(self):
        self.client.stop()
        self.client.close()
