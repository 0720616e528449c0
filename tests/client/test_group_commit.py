"""Client group commit: frames of a pipelining caller queued while a write is in progress go
out together in the next write (concoord.client.connection.ReplicaConnection)."""

import threading

from concoord.client.connection import ReplicaConnection
from tests.integration.harness import wait_until


class SlowSocket:
    """Its first write blocks until released; every write is recorded."""

    def __init__(self):
        self.writes = []
        self.writing = threading.Event()
        self.release = threading.Event()

    def sendall(self, data):
        self.writes.append(bytes(data))
        if len(self.writes) == 1:
            self.writing.set()
            assert self.release.wait(10)

    def shutdown(self, how):
        pass

    def close(self):
        pass


def test_frames_queued_behind_a_write_go_out_in_one_write():
    sock = SlowSocket()
    conn = ReplicaConnection("127.0.0.1:1", sock, lambda c, m: None, lambda c, r: None)
    try:
        assert conn.send(b"a", behind=True)
        assert sock.writing.wait(10)              # the writer thread is in its first write
        assert conn.send(b"b", behind=True) and conn.send(b"c", behind=True)
        sock.release.set()
        wait_until(lambda: len(sock.writes) >= 2, 10)
        assert sock.writes == [b"a", b"bc"]
        assert conn.send(b"d")                    # not behind anything: written at once
        assert sock.writes[-1] == b"d"
    finally:
        sock.release.set()
        conn.close()
    assert not conn.send(b"e", behind=True)      # closed: refused, not queued
