"""The small files a node keeps in its data directory beside its log or snapshot.

- node-id: the address the others know this node by (a restarted node must come back there);
- genesis.json (replicas): the instance's initial configuration, from which a restarted replica
  replays the log.

The initial configuration must be on disk before anyone is told of it. The bootstrap replica
fixes it when its first acceptor asks to join, and the protocol hands it over as a persist
record (like an acceptor's promise): GenesisFile is that replica's storage, so the answer to the
join leaves only once the file is durable. Otherwise a crash right after the answer brings the
replica back with no acceptor, while the acceptor it admitted, and what was decided through it,
go on without it.
"""

import json
import os

from concoord.protocol.replica_node import GENESIS_RECORD
from concoord.runtime.durable_file import write_durably
from concoord.wire.types import Configuration

IDENTITY_FILE = "node-id"
GENESIS_FILE = "genesis.json"


def remember_identity(data_dir, node_id):
    write_durably(os.path.join(data_dir, IDENTITY_FILE), node_id + "\n")


def remembered_port(data_dir):
    """The port of the address recorded in ``data_dir``, or None."""
    try:
        with open(os.path.join(data_dir, IDENTITY_FILE)) as f:
            return int(f.read().strip().rpartition(":")[2])
    except (OSError, ValueError):
        return None


def remember_genesis(data_dir, node_id, genesis):
    """Record this replica's identity and the instance's initial configuration, durably."""
    os.makedirs(data_dir, exist_ok=True)
    remember_identity(data_dir, node_id)
    write_durably(os.path.join(data_dir, GENESIS_FILE),
                  json.dumps([list(group) for group in genesis]))


def remembered_genesis(data_dir):
    """The initial configuration recorded in ``data_dir``, or None."""
    try:
        with open(os.path.join(data_dir, GENESIS_FILE)) as f:
            groups = json.load(f)
        return Configuration(*(tuple(group) for group in groups))
    except (TypeError, OSError, ValueError):
        return None


class GenesisFile:
    """The bootstrap replica's storage: the NodeRunner hands it the protocol's persist records
    before anything leaves, and the only one a replica makes is its initial configuration."""

    def __init__(self, data_dir, node_id):
        self.data_dir, self.node_id = data_dir, node_id

    def append(self, records):
        for kind, genesis in records:
            assert kind == GENESIS_RECORD, f"a replica persists no {kind!r} records"
            remember_genesis(self.data_dir, self.node_id, genesis)

    def close(self):
        pass
