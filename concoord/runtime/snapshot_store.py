"""A replica's snapshots on disk (with --data-dir): what lets acceptors forget old slots.

Every SNAPSHOT_EVERY slots (or SNAPSHOT_SECONDS, whichever comes first, if anything changed) the
replica's whole state is written to a new file, fsync'd and renamed over the previous one; the
replica then reports that slot as durable and the leader may let acceptors forget below it.
A restarted replica installs the snapshot and replays only what came after it.
"""

import os
import time

from concoord.protocol.snapshot import install_snapshot, take_snapshot

FILE_NAME = "snapshot"
SNAPSHOT_EVERY = 5000
SNAPSHOT_SECONDS = 5.0


class SnapshotStore:
    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, FILE_NAME)
        self.written_at = time.monotonic()

    def restore(self, node):
        """Install the snapshot on disk, if any, into a fresh ReplicaNode."""
        node.durable = True
        if os.path.exists(self.path):
            with open(self.path, "rb") as f:
                node.durable_slot = install_snapshot(node.replica, f.read())

    def maybe_persist(self, node):
        """Called on the protocol thread after each batch of messages."""
        advanced = node.replica.slot_out - node.durable_slot
        due = advanced >= SNAPSHOT_EVERY or (
            advanced > 0 and time.monotonic() - self.written_at >= SNAPSHOT_SECONDS)
        if not due:
            return
        snapshot = take_snapshot(node.replica)
        self.written_at = time.monotonic()
        if snapshot is None:
            return      # the object cannot be snapshotted: acceptors keep everything
        temporary = self.path + ".new"
        with open(temporary, "wb") as f:
            f.write(snapshot)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.path)
        node.durable_slot = node.replica.slot_out
