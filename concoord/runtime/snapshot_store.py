"""A replica's snapshots on disk (with --data-dir): what lets acceptors forget old slots.

Every SNAPSHOT_EVERY commands (or SNAPSHOT_SECONDS, whichever comes first, if anything changed) the
replica's whole state is written to a new file, fsync'd and renamed over the previous one; the
replica then reports that slot as durable and the leader may let acceptors forget below it.
A restarted replica installs the snapshot and replays only what came after it.
"""

import os
import time

from concoord.runtime.durable_file import fsync_directory, write_durably

FILE_NAME = "snapshot"
# Acceptors keep every command since the last snapshot of the slowest replica in memory and on
# disk: counted in commands (a slot may hold a thousand), that bounds their memory.
SNAPSHOT_EVERY = 20000
SNAPSHOT_SECONDS = 2.0


class SnapshotStore:
    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.path = os.path.join(directory, FILE_NAME)
        self.written_at = time.monotonic()
        self.commands_at = 0       # replica.commands_applied when the last snapshot was taken
        self.view_at = None        # the latest configuration when the last snapshot was taken

    def restore(self, node):
        """Install the snapshot on disk, if any, into a fresh HostedReplica."""
        node.durable = True
        if os.path.exists(self.path):
            with open(self.path, "rb") as f:
                data = f.read()
                # Killed between the rename and the directory's fsync, the last run left a
                # snapshot a power loss could still take back: durable before it counts.
                os.fsync(f.fileno())
            fsync_directory(self.directory)
            node.install_snapshot(data)
            node.durable_slot = node.learner.slot_out
        self.view_at = node.configs.latest

    def maybe_persist(self, node):
        """Called on the protocol thread after each batch of messages."""
        advanced = node.learner.slot_out - node.durable_slot
        commands = node.learner.commands_applied - self.commands_at
        # A new view is written at once: restarted, a replica trusts (and catches up from) only
        # the replicas of the view it has, so it must not come back with an older one.
        view = node.configs.latest
        due = commands >= SNAPSHOT_EVERY or (advanced > 0 and (
            view != self.view_at or time.monotonic() - self.written_at >= SNAPSHOT_SECONDS))
        if not due:
            return
        snapshot = node.take_snapshot()
        self.written_at = time.monotonic()
        self.commands_at = node.learner.commands_applied
        self.view_at = view
        if snapshot is None:
            return      # the object cannot be snapshotted: acceptors keep everything
        write_durably(self.path, snapshot)   # acceptors forget what it holds: on disk first
        node.durable_slot = node.learner.slot_out
