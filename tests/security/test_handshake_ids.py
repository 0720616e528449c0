"""The node id in the handshake (CCAUTH3), over a socket pair: it arrives under the proof, only
the node role may give one, and what is not a name is refused."""

import json
import socket
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from concoord.errors import AuthenticationError
from concoord.security import handshake, node_certs

NODE, CLIENT = b"n" * 32, b"client:" + b"c" * 32
KEYS = {"node": NODE, "client": CLIENT}


def _run(respond, ca_public=None):
    """challenge() on one end, ``respond(sock)`` on the other: (server result or error,
    client error or None)."""
    server, client = socket.socketpair()
    outcome = {}

    def serve():
        try:
            outcome["server"] = handshake.challenge(server, KEYS, ca_public)
        except AuthenticationError as exc:
            outcome["server"] = exc
    thread = threading.Thread(target=serve)
    thread.start()
    try:
        respond(client)
    except AuthenticationError as exc:
        outcome["client"] = exc
    finally:
        client.close()
    thread.join(10)
    server.close()
    return outcome["server"], outcome.get("client")


def test_a_node_names_the_node_it_speaks_for():
    assert _run(lambda s: handshake.respond(s, NODE, "node", "10.0.0.1:14000")) == \
        (("node", "10.0.0.1:14000", None), None)
    assert _run(lambda s: handshake.respond(s, NODE, "node")) == (("node", None, None), None)
    assert _run(lambda s: handshake.respond(s, CLIENT, "client")) == \
        (("client", None, None), None)


def test_a_client_cannot_name_a_node():
    server, client = _run(lambda s: handshake.respond(s, CLIENT, "client", "10.0.0.1:14000"))
    assert "malformed node id" in str(server) and "refused" in str(client)


def test_the_name_is_under_the_proof():
    """A proof made for one name does not pass with another (what a man in the middle who
    rewrote the name would send)."""
    def rewritten(sock):
        greeting = sock.recv(len(handshake.MAGIC) + handshake.NONCE)
        nonce = bytes(32)
        proof = handshake._proof(NODE, b"concoord-auth-1 client", b"N",
                                 greeting[len(handshake.MAGIC):], nonce, b"10.0.0.1:1")
        sock.sendall(b"N" + nonce + bytes([10]) + b"10.0.0.2:1" + proof)
        assert sock.recv(1) == handshake.REFUSED
    server, _ = _run(rewritten)
    assert "wrong node credential" in str(server)


def test_names_that_are_not_names_are_refused():
    def undecodable(sock):
        greeting = sock.recv(len(handshake.MAGIC) + handshake.NONCE)
        nonce, name = bytes(32), b"\xff\xfe"
        proof = handshake._proof(NODE, b"concoord-auth-1 client", b"N",
                                 greeting[len(handshake.MAGIC):], nonce, name)
        sock.sendall(b"N" + nonce + bytes([len(name)]) + name + proof)
        assert sock.recv(1) == handshake.REFUSED
    server, _ = _run(undecodable)
    assert "malformed node id" in str(server)
    with pytest.raises(AuthenticationError, match="over 255 bytes"):
        handshake.respond(None, NODE, "node", "h" * 250 + ":65535")


def test_with_a_ca_a_node_proves_the_ids_of_its_certificate():
    ca = Ed25519PrivateKey.generate()
    fields = json.loads(node_certs.issue(ca, ["10.0.0.1:1"]))
    cert = node_certs.NodeCertificate(
        fields["nodes"], Ed25519PrivateKey.from_private_bytes(bytes.fromhex(fields["key"])),
        bytes.fromhex(fields["ca"]), bytes.fromhex(fields["signature"]))

    def run(respond):
        return _run(respond, cert.ca_public)[0]
    assert run(lambda s: handshake.respond(s, NODE, "node", "10.0.0.1:1", cert)) == \
        ("node", "10.0.0.1:1", frozenset({"10.0.0.1:1"}))
    assert run(lambda s: handshake.respond(s, NODE, "node", None, cert)) == \
        ("node", None, frozenset({"10.0.0.1:1"}))
    assert "not for 10.0.0.2:1" in str(
        run(lambda s: handshake.respond(s, NODE, "node", "10.0.0.2:1", cert)))
    assert "need a node certificate" in str(
        run(lambda s: handshake.respond(s, NODE, "node", "10.0.0.1:1")))
    assert run(lambda s: handshake.respond(s, CLIENT, "client")) == ("client", None, None)
