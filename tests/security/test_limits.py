"""Per-node limits: connections at once and unanswered requests per client connection. The
client over the limit is disconnected; the others are served as before."""

import socket

from concoord.client.proxy import ClientProxy
from concoord.runtime.ports import split_address
from concoord.security.client_ids import client_id_of
from concoord.wire.codec import encode_frame
from concoord.wire.messages import ClientRequest
from concoord.wire.types import Command
from concoord.wire.values import encode_call_arguments
from tests.integration.harness import wait_until


def _closed_within(sock, seconds):
    """True if the node closes ``sock`` within ``seconds`` (anything it sends is skipped)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return False
    except OSError:
        return True
    return True


def test_a_client_with_too_many_calls_in_flight_is_disconnected(harness):
    harness.object_file, harness.class_name = None, None
    harness.node_args = ["--max-in-flight", "5"]
    replica = harness._start("replica", ["-o", "concoord.objects.event.Event"], None, True)
    harness.start_acceptor(replica)
    flood_id = client_id_of("flood")
    waits = b"".join(encode_frame(ClientRequest("flood", Command(
        flood_id, number, "wait", encode_call_arguments([], {})))) for number in range(1, 21))
    with socket.create_connection(split_address(replica.address)) as flood:
        flood.sendall(waits)         # 20 waits on an Event nobody sets: all stay unanswered
        assert _closed_within(flood, 10)
    with ClientProxy(replica.address, timeout=10) as proxy:
        assert proxy._invoke("is_set") is False
        proxy._invoke("set")
        assert proxy._invoke("is_set") is True


def test_connections_over_the_limit_are_closed_at_once(counter_harness):
    h = counter_harness
    h.node_args = ["--max-connections", "6"]
    replica = h.start_replica()
    h.start_acceptor(replica)
    held, refused = [], None
    try:
        for _ in range(12):
            sock = socket.create_connection(split_address(replica.address))
            held.append(sock)
            if _closed_within(sock, 0.5):
                refused = len(held)
                break
        assert refused is not None and refused <= 7, f"connection {refused} closed"
    finally:
        for sock in held:
            sock.close()
    # Once the idle connections are gone the node accepts clients again.
    def served():
        with ClientProxy(replica.address, timeout=5) as proxy:
            proxy._invoke("increment")
            return proxy._invoke("getvalue") >= 1
    wait_until(served, 20, message="the replica to serve again")
