"""`concoord replica --with-acceptor`: a replica and an acceptor in one process.

The two are the same members they would be as two processes (each joins the instance, each
listens on its own port, other nodes reach each over TCP); between themselves they talk through
local_link.py, so the commonest deployment (one host, both roles) saves a process and, on the
leader, one TCP round trip per slot. The acceptor keeps its promises in ACCEPTOR_DIR under the
replica's --data-dir, fsync'd before it answers, exactly as `concoord acceptor --data-dir`.
"""

import os

from concoord.protocol.timing import Timing
from concoord.runtime.launch import Limits, start_acceptor, start_replica
from concoord.runtime.local_link import link_in_process

ACCEPTOR_DIR = "acceptor"


def acceptor_data_dir(data_dir):
    return os.path.join(data_dir, ACCEPTOR_DIR) if data_dir else None


def start_colocated(object_class, addr, port, acceptor_port, bootstrap, data_dir=None,
                    timing=Timing(), limits=Limits()):
    """(replica runner, acceptor runner), both started and members of the instance. The
    replica starts (and joins) first: a fresh acceptor joins through it, or through
    ``bootstrap``; restarted from ``data_dir`` neither joins again."""
    replica = start_replica(object_class, addr, port, bootstrap, data_dir, timing, limits)
    acceptor = start_acceptor(addr, acceptor_port, bootstrap or [replica.node_id],
                              acceptor_data_dir(data_dir), limits,
                              before_start=lambda runner: link_in_process(replica, runner))
    return replica, acceptor
