"""Ask one node for its view of the instance (``concoord status``, joining nodes, tests)."""

import secrets
import socket

from concoord import security
from concoord.errors import AuthenticationError, ConnectionError, WireError
from concoord.security.handshake import first_bytes, is_challenge
from concoord.wire.addresses import split_address
from concoord.wire.codec import FrameReader, encode_frame
from concoord.wire.messages import StatusReply, StatusRequest
from concoord.wire.status import ReplicaView


def query_status(address, timeout=2.0):
    """The node's status dict; ConnectionError (one line, naming the node) if it cannot say."""
    try:
        host, port = split_address(address)
    except ValueError as exc:
        raise ConnectionError(f"{address!r} is not host:port ({exc})") from None
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            sock = security.current().connected(raw, security.CLIENT)
            sock.settimeout(timeout)
            sock.sendall(encode_frame(StatusRequest("status-" + secrets.token_hex(4))))
            return _read_status(sock)
    except AuthenticationError as exc:
        raise AuthenticationError(f"no status from {address}: {exc}") from None
    except (OSError, WireError) as exc:
        raise ConnectionError(f"no status from {address}: {exc}") from None


def replica_status(addresses, timeout=2.0):
    """(address, ReplicaView) of the first of ``addresses`` that answers as a replica: only
    replicas know the instance's view (acceptors and nameservers are skipped). ConnectionError
    naming what each one said if none does."""
    errors = []
    for address in addresses:
        try:
            return address, ReplicaView.from_wire(query_status(address, timeout))
        except ConnectionError as exc:
            errors.append(str(exc))
        except ValueError as exc:
            errors.append(f"{address}: {exc}")
    raise ConnectionError("no replica answered: " + ("; ".join(errors) or "no address given"))


def _read_status(sock):
    reader = FrameReader()
    first = True
    while True:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("the node closed the connection without answering")
        if first:
            data = first_bytes(sock, data)
        if first and is_challenge(data):
            raise AuthenticationError("authentication failed: the node requires the instance's "
                                      "secret (--secret-file or CONCOORD_SECRET)")
        first = False
        for msg in reader.feed(data):
            if isinstance(msg, StatusReply):
                return msg.info
