"""Starting `concoord replica` and `concoord acceptor` processes: bind, build the protocol node,
join the running instance through its log, and serve until SIGINT/SIGTERM."""

import logging
import signal
import threading
import time
from typing import NamedTuple

from concoord import security
from concoord.security.secret import SecretError
from concoord.client.proxy import ClientProxy
from concoord.client.status import replica_status
from concoord.errors import ConcoordError, ConnectionError
from concoord.protocol.acceptor_node import AcceptorNode
from concoord.protocol.learner import AMNESIAC_ACCEPTOR
from concoord.host.hosted_replica import HostedReplica
from concoord.host.object_host import ObjectHost
from concoord.protocol.timing import Timing
from concoord.runtime.disk_log import DiskLog
from concoord.runtime.node import NodeRunner
from concoord.runtime.node_files import (GenesisFile, remember_genesis, remember_identity,
                                         remembered_genesis, remembered_port)
from concoord.runtime.ports import bind_listener
from concoord.runtime.snapshot_store import SnapshotStore
from concoord.runtime.node import MAX_IN_FLIGHT
from concoord.runtime.transport import MAX_CONNECTIONS, Transport
from concoord.wire.types import Configuration

log = logging.getLogger("concoord.launch")
JOIN_TIMEOUT = 30.0


class Limits(NamedTuple):
    """What one node accepts: connections at once, and unanswered requests per connection."""
    max_connections: int = MAX_CONNECTIONS
    max_in_flight: int = MAX_IN_FLIGHT


def _listen(addr, port):
    if not security.current().is_node_credential:
        raise SecretError("this is a client credential: a node needs the instance's node "
                          "secret (`concoord secret -o FILE`; the client credential is derived "
                          "from it with `concoord secret --client-from FILE`)")
    listener = bind_listener(addr, port)
    node_id = f"{addr}:{listener.getsockname()[1]}"
    certificate = security.current().node_cert
    if certificate is not None and node_id not in certificate.node_ids:
        listener.close()
        raise SecretError(f"--node-cert is for {', '.join(sorted(certificate.node_ids))}, not "
                          f"for this node ({node_id}): give -a and -p of the certificate, or "
                          "make one for this address")
    return listener, node_id


def _runner(node_id, node, listener, limits, **stores):
    def transport(on_message, on_disconnect, on_read):
        return Transport(listener, on_message, on_disconnect, on_read,
                         max_connections=limits.max_connections, node_id=node_id)
    return NodeRunner(node_id, node, transport, max_in_flight=limits.max_in_flight, **stores)


def _bootstrap_status(bootstrap):
    """(address, ReplicaView) of the first bootstrap replica that answers."""
    return replica_status(bootstrap, timeout=2.0)


def _final_genesis_status(bootstrap):
    """A bootstrap status whose initial configuration is complete (has an acceptor): a replica
    replays the log from it, so it must be the one every other replica starts from."""
    deadline = time.monotonic() + JOIN_TIMEOUT
    while True:
        _, view = _bootstrap_status(bootstrap)
        if view.genesis.acceptors:
            return view
        if time.monotonic() > deadline:
            raise ConnectionError("the instance has no acceptor yet: start one with "
                                  "`concoord acceptor -b BOOTSTRAP` first")
        time.sleep(0.1)


def _join(node_id, role, bootstrap, replicas=None):
    """Ask the instance to add this node (through ``replicas`` if already known); returns the
    configuration it answered with."""
    replicas = replicas or _bootstrap_replicas(bootstrap)
    proxy = ClientProxy(replicas, timeout=JOIN_TIMEOUT, role=security.NODE)
    try:
        return proxy._invoke("@join", (role, node_id), {})
    except (RuntimeError, PermissionError) as exc:    # the instance refused the join
        raise ConcoordError(f"cannot join as {role} {node_id}: {exc}") from None
    finally:
        proxy.close()


def _bootstrap_replicas(bootstrap):
    """Joins go to replicas: the bootstrap replica and every replica it knows of."""
    return _replicas_of(*_bootstrap_status(bootstrap))


def _replicas_of(address, view):
    return [address] + [r for r in view.replicas if r != address]


def start_replica(object_class, addr, port, bootstrap, data_dir=None, timing=Timing(),
                  limits=Limits(), before_start=None):
    """With ``data_dir`` a restarted replica resumes as the same member: it rebuilds the object
    by replaying the log from the instance's initial configuration (peers or acceptors)."""
    remembered = remembered_genesis(data_dir) if data_dir else None
    if remembered is not None and port is None:
        port = remembered_port(data_dir)
    listener, node_id = _listen(addr, port)
    peers = set()
    if remembered is not None:
        genesis = remembered
    elif bootstrap:
        view = _final_genesis_status(bootstrap)
        genesis, peers = view.genesis, set(view.replicas)
    else:
        genesis = Configuration((node_id,), ())
    node = HostedReplica(node_id, genesis, ObjectHost(object_class), time.monotonic(), timing,
                         incarnation=time.time_ns())
    node.known_peers = peers        # catch up from live replicas, not only the genesis ones
    node.leader.clock_offset = time.time() - time.monotonic()   # batches carry wall-clock time
    snapshots = storage = None
    if data_dir:
        snapshots = SnapshotStore(data_dir)
        snapshots.restore(node)
        if remembered is None and not bootstrap:    # it will fix the initial configuration
            storage = GenesisFile(data_dir, node_id)
    runner = _runner(node_id, node, listener, limits, snapshots=snapshots, storage=storage)
    if before_start is not None:
        before_start(runner)
    runner.start()
    print(f"concoord replica {node_id} serving {object_class.__name__}", flush=True)
    if remembered is not None:
        log.info("resuming as a member of the instance recorded in %s", data_dir)
    elif bootstrap:
        _join(node_id, "replica", bootstrap)
        _expect_membership(runner)
        if data_dir:
            remember_genesis(data_dir, node_id, genesis)
        log.info("joined the instance as a replica")
    threading.Thread(target=_rejoin_when_removed, args=(runner,), daemon=True,
                     name="concoord-rejoin").start()
    return runner


def _expect_membership(runner):
    """The instance accepted our join: until this replica has applied it, it may still have to
    recover the log itself if every other replica dies (see Leader._rank)."""
    runner.call(lambda node: setattr(node.leader.election, "expected_member", True))


def _rejoin_when_removed(runner, interval=2.0):
    """The leader removes a replica that stayed silent (crashed, paused, cut off); when it is
    back it finds itself out of the view and asks to join again."""
    def view(node):
        config = node.configs.latest
        return bool(config.acceptors), runner.node_id in config.replicas, \
            sorted(set(config.replicas) | node.known_peers)
    while not runner.stopping.wait(interval):
        complete, member, peers = runner.call(view)
        peers = [p for p in peers if p != runner.node_id]
        if complete and not member and peers:
            try:
                _join(runner.node_id, "replica", peers)
                _expect_membership(runner)
                log.info("rejoined the instance after being removed from its view")
            except (ConcoordError, OSError) as exc:
                log.warning("could not rejoin the instance yet: %s", exc)


def start_acceptor(addr, port, bootstrap, data_dir=None, limits=Limits(), before_start=None):
    """With ``data_dir`` the acceptor keeps its promises on disk and, restarted with the same
    directory (and address), resumes as the same member without joining again."""
    storage = records = None
    if data_dir:
        storage = DiskLog(data_dir)
        records = storage.load()
    if not records and not bootstrap:
        raise ConcoordError("an acceptor joins a running instance: give -b BOOT (only a "
                            "restart from a --data-dir that holds its promises may omit it)")
    if port is None and records:
        port = remembered_port(data_dir)
    listener, node_id = _listen(addr, port)
    node = AcceptorNode(node_id, records or ())
    if storage is not None:
        storage.live_records = node.live_records
        remember_identity(data_dir, node_id)
    runner = _runner(node_id, node, listener, limits, storage=storage)
    replicas = None if records else _refuse_if_member(node_id, bootstrap)
    if before_start is not None:
        before_start(runner)
    runner.start()
    print(f"concoord acceptor {node_id}", flush=True)
    if records:
        log.info("recovered %d records from %s; rejoining as the same acceptor", len(records),
                 data_dir)
    else:
        _join(node_id, "acceptor", bootstrap, replicas)
        log.info("joined the instance as an acceptor")
    return runner


def _refuse_if_member(node_id, bootstrap):
    """An acceptor with no records on a member's address has lost that member's promises:
    stop before serving anything. (The instance refuses its join too, but until that answer
    it would answer Prepares as that member with none of them, and a leader campaigning then
    could count it in a quorum.) Returns the replicas to send the join to."""
    address, view = _bootstrap_status(bootstrap)
    if node_id in view.acceptors:
        raise ConcoordError(AMNESIAC_ACCEPTOR.format(node_id))
    return _replicas_of(address, view)


def serve_until_signalled(*runners):
    """Block until SIGINT or SIGTERM, then stop the node(s) cleanly. Returns why a node
    stopped itself (a disk or internal error), or None after a signal. The nodes of one
    process stop together: a replica must not go on without its colocated acceptor's disk."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set() and not any(runner.stopping.is_set() for runner in runners):
        stop.wait(0.1)
    for runner in runners:
        runner.stop()
    return next((runner.failure for runner in runners if runner.failure), None)
