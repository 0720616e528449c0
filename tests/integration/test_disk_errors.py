"""A node whose disk fails stops at once with a clear reason and a non-zero exit status, and the
instance carries on without losing an acknowledged write.

The fault is real: an acceptor keeps its promises (--data-dir) on a 256 KiB tmpfs that fills
up, so a write or fsync of its log fails with ENOSPC. Before the fix the error was logged and
ignored, and the acceptor went on answering from promises it had never made durable.
"""

import os
import subprocess

import pytest

from tests.integration.harness import wait_until

BLOB = '''\
class Blob():
    def __init__(self):
        self.sizes = []

    def put(self, data):
        self.sizes.append(len(data))

    def count(self):
        return len(self.sizes)
'''

WRITES = 40


@pytest.fixture
def tiny_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a tmpfs: run it as root (CI does)")
    mount = tmp_path / "tiny-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_an_acceptor_whose_disk_fills_up_stops_and_nothing_acknowledged_is_lost(
        harness, tiny_disk):
    harness.write_object(BLOB, "blob.py", "Blob")
    replica = harness.start_replica()
    failing = harness._start("acceptor", ["-b", replica.address, "--data-dir", str(tiny_disk)],
                             replica, True)
    others = [harness.start_acceptor(replica) for _ in range(2)]
    harness.wait_converged([replica], [failing] + others)

    result = harness.run_client(f'''
        from blobproxy import Blob
        blob = Blob(BOOTSTRAP)
        acknowledged = 0
        for i in range({WRITES}):
            blob.put("x" * 32768)
            acknowledged += 1
        print(acknowledged, blob.count())
    ''', bootstrap=replica, timeout=120)
    acknowledged, count = map(int, result.stdout.split())
    assert acknowledged == WRITES and count == WRITES

    wait_until(lambda: not failing.alive, 30, message="the acceptor with a full disk to stop")
    assert failing.proc.returncode == 1
    log = failing.log()
    assert "cannot write its promises to disk" in log and "No space left" in log, log
    assert replica.alive and all(a.alive for a in others)
