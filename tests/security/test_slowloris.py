"""Finding 4 of issue 19: connections that never finish the handshake cannot lock others out.

1,100 connections that send one byte a second used to hold a handshake thread each (the 5 s
timeout was per recv) until the node refused everyone ("already 1024 connections"). Now the
whole handshake has one deadline, and unauthenticated connections have a small cap of their
own, per address and in all, the oldest evicted first: a client that arrives during the attack
is served.
"""

import socket
import threading
import time

from tests.security.instance import CLIENT_CREDENTIAL, start_secured
from tests.security.latency import LatencyProbe
from concoord.runtime.ports import split_address

CONNECTIONS = 1100
SOURCES = [f"127.0.0.{i}" for i in range(2, 13)]    # 100 connections from each address
ATTACK = 20.0                                       # seconds


class Slowloris:
    """Keeps CONNECTIONS handshakes open by sending one byte a second on each, and replaces
    every connection the node closes."""

    def __init__(self, address):
        self.address = split_address(address)
        self.socks = []
        self.reopened = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, index):
        sock = socket.socket()
        sock.setblocking(False)
        sock.bind((SOURCES[index % len(SOURCES)], 0))
        sock.connect_ex(self.address)
        return sock

    def _run(self):
        self.socks = [self._open(i) for i in range(CONNECTIONS)]
        while not self.stop.wait(1.0):
            for i, sock in enumerate(self.socks):
                try:
                    sock.send(b"C")
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:           # closed by the node: come back
                    sock.close()
                    self.socks[i] = self._open(i)
                    self.reopened += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(30)
        for sock in self.socks:
            sock.close()


def test_slow_handshakes_do_not_lock_clients_out(counter_harness, tmp_path):
    h = counter_harness
    replica = start_secured(h, tmp_path, "-f", h.object_file, "-c", h.class_name)
    with Slowloris(replica.address) as attack:
        time.sleep(3)      # all connections open and trickling
        with LatencyProbe(replica.address, CLIENT_CREDENTIAL, "finding 4: slowloris, 1,100 "
                          "handshakes at 1 byte/s (new connection per call)",
                          fresh=True) as probe:
            time.sleep(ATTACK)
    probe.assert_served()
    assert attack.reopened > CONNECTIONS    # the node kept closing them
