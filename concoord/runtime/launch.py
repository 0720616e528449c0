"""Starting `concoord replica` and `concoord acceptor` processes: bind, build the protocol node,
join the running instance through its log, and serve until SIGINT/SIGTERM."""

import logging
import signal
import threading
import time

from concoord.client.proxy import ClientProxy
from concoord.client.status import query_status
from concoord.errors import ConcoordError, ConnectionError
from concoord.protocol.acceptor_node import AcceptorNode
from concoord.protocol.replica_node import ReplicaNode
from concoord.protocol.timing import Timing
from concoord.runtime.node import NodeRunner
from concoord.runtime.object_host import ObjectHost
from concoord.runtime.ports import bind_listener
from concoord.runtime.transport import Transport
from concoord.wire.types import Configuration

log = logging.getLogger("concoord.launch")
JOIN_TIMEOUT = 30.0


def _listen(addr, port):
    listener = bind_listener(addr, port)
    node_id = f"{addr}:{listener.getsockname()[1]}"
    return listener, node_id


def _transport_factory(listener):
    return lambda on_message, on_disconnect: Transport(listener, on_message, on_disconnect)


def _bootstrap_status(bootstrap):
    """The status of the first bootstrap node that answers, and who answered."""
    errors = []
    for address in bootstrap:
        try:
            return address, query_status(address)
        except ConnectionError as exc:
            errors.append(str(exc))
    raise ConnectionError("no bootstrap node answered: " + "; ".join(errors))


def _join(node_id, role, bootstrap):
    """Ask the instance to add this node; returns the configuration it answered with."""
    replicas = _bootstrap_replicas(bootstrap)
    proxy = ClientProxy(replicas, timeout=JOIN_TIMEOUT)
    try:
        return proxy._invoke("@join", (role, node_id), {})
    finally:
        proxy.close()


def _bootstrap_replicas(bootstrap):
    """Joins go to replicas; an acceptor given as bootstrap tells us who the replicas are."""
    address, status = _bootstrap_status(bootstrap)
    if status.get("role") == "replica":
        return [address] + [r for r in status.get("replicas", []) if r != address]
    raise ConcoordError(f"bootstrap {address} is a {status.get('role')}, not a replica")


def start_replica(object_class, addr, port, bootstrap, timing=Timing()):
    listener, node_id = _listen(addr, port)
    if bootstrap:
        _, status = _bootstrap_status(bootstrap)
        genesis = Configuration(*(tuple(group) for group in status["genesis"]))
    else:
        genesis = Configuration((node_id,), ())
    node = ReplicaNode(node_id, genesis, ObjectHost(object_class), time.monotonic(), timing,
                       incarnation=time.time_ns())
    runner = NodeRunner(node_id, node, _transport_factory(listener))
    runner.start()
    print(f"concoord replica {node_id} serving {object_class.__name__}", flush=True)
    if bootstrap:
        _join(node_id, "replica", bootstrap)
        log.info("joined the instance as a replica")
    return runner


def start_acceptor(addr, port, bootstrap):
    listener, node_id = _listen(addr, port)
    runner = NodeRunner(node_id, AcceptorNode(node_id), _transport_factory(listener))
    runner.start()
    print(f"concoord acceptor {node_id}", flush=True)
    _join(node_id, "acceptor", bootstrap)
    log.info("joined the instance as an acceptor")
    return runner


def serve_until_signalled(runner):
    """Block until SIGINT or SIGTERM, then stop the node cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set() and not runner.stopping.is_set():
        stop.wait(0.5)
    runner.stop()
