"""Challenge-response on a fresh connection, before any message: the peer proves its role.

    server -> client   MAGIC, server nonce (32 bytes)
    client -> server   role (b"N" node, b"C" client), client nonce (32),
                       id length (1), id (0-255 bytes, UTF-8), client proof (32)
    server -> client   b"\\x01", server proof (32)          or b"\\x00" and close

A proof is HMAC-SHA256(key, label + role + both nonces + id length + id), where the key is the
credential of the role claimed: the node secret for b"N", the client credential for b"C"
(secret.py). So the role is proven, not claimed: a client credential can never complete a node
handshake. Fresh nonces on both sides make a recorded handshake useless for another connection,
the distinct labels stop a proof from being reflected back, and the server's proof tells a
client it reached the real instance. No credential ever crosses the network.

The id is the node a node-role connection speaks for (its listening address, "host:port"):
every protocol message on that connection must have it as ``src`` (runtime/admission.py).
It is empty for clients, and for a node-role connection that speaks for no node (a node's
join request, `concoord status` with the node secret), which may then send only client
messages. The proof covers it, so it cannot be changed in flight.

With per-node certificates (node_certs.py) a node answers as b"M" instead of b"N" and adds,
before its proof, its certificate (2-byte length of its ids, the ids, its public key, the CA's
signature) and its Ed25519 signature over NODE_LABEL, both nonces, the id and the certificate.
A server with a CA accepts node connections only that way, with a certificate of its CA that
lists the id the connection names: the node secret alone no longer makes a node.
"""

import hashlib
import hmac
import secrets

from concoord.errors import AuthenticationError
from concoord.security import node_certs

MAGIC = b"CCAUTH3\n"     # 3: node connections name their node; 2: proofs keyed by role
NONCE = PROOF = 32
ROLE_BYTES = {"node": b"N", "client": b"C"}
ROLES = {code: role for role, code in ROLE_BYTES.items()}
CERTIFIED = b"M"        # the node role, with a certificate and a signature
ROLES[CERTIFIED] = "node"
NODE_LABEL = b"concoord-auth-3 node"
ACCEPTED, REFUSED = b"\x01", b"\x00"


MAX_ID = 255            # bytes of a node id


def _proof(secret, label, role_byte, server_nonce, client_nonce, node_id=b"", extra=b""):
    return hmac.new(secret, label + role_byte + server_nonce + client_nonce
                    + bytes([len(node_id)]) + node_id + extra, hashlib.sha256).digest()


def _transcript(server_nonce, client_nonce, node_id, blob):
    """What a certified node signs: this connection's nonces, the id it names, its
    certificate."""
    return NODE_LABEL + server_nonce + client_nonce + bytes([len(node_id)]) + node_id + blob


def _receive(sock, size, what):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:     # not a refusal (that is a verdict): the caller may try again
            raise ConnectionResetError(f"connection closed during {what}")
        data += chunk
    return data


def _refuse(sock, reason):
    sock.sendall(REFUSED)
    raise AuthenticationError(f"authentication failed: {reason}")


def challenge(sock, keys, ca_public=None):
    """Server side: make the peer prove the credential of the role it claims; ``keys`` maps
    "node" and "client" to their credentials; ``ca_public`` (raw bytes or None): the CA whose
    certificate every node must present. Returns (role, node id: the node a node-role peer
    speaks for, or None, the node ids its certificate proves, or None without a CA);
    AuthenticationError (after telling the peer) if it cannot."""
    server_nonce = secrets.token_bytes(NONCE)
    sock.sendall(MAGIC + server_nonce)
    answer = _receive(sock, 1 + NONCE + 1, "the challenge")
    role_byte, client_nonce = answer[:1], answer[1:1 + NONCE]
    node_id = _receive(sock, answer[-1], "the challenge") if answer[-1] else b""
    blob = signature = b""
    if role_byte == CERTIFIED:
        size = _receive(sock, 2, "the challenge")
        if int.from_bytes(size, "big") > node_certs.MAX_IDS_TEXT:
            _refuse(sock, "a malformed certificate")
        blob = size + _receive(sock, int.from_bytes(size, "big") + node_certs.KEY
                               + node_certs.SIGNATURE, "the challenge")
        signature = _receive(sock, node_certs.SIGNATURE, "the challenge")
    proof = _receive(sock, PROOF, "the challenge")
    role = ROLES.get(role_byte)
    key = keys.get(role)
    if key is None:
        _refuse(sock, "unknown role")
    expected = _proof(key, b"concoord-auth-1 client", role_byte, server_nonce, client_nonce,
                      node_id, blob + signature)
    if not hmac.compare_digest(proof, expected):
        _refuse(sock, f"wrong {role} credential")
    try:
        name = node_id.decode() if node_id else None
    except UnicodeDecodeError:
        name = ""
    if name == "" or (name is not None and role != "node"):
        _refuse(sock, "a malformed node id")
    proven = None
    if ca_public is not None and role == "node":
        proven = _certified(sock, ca_public, role_byte, blob, signature, name,
                            _transcript(server_nonce, client_nonce, node_id, blob))
    sock.sendall(ACCEPTED + _proof(key, b"concoord-auth-1 server", role_byte, server_nonce,
                                   client_nonce, node_id))
    return role, name, proven


def _certified(sock, ca_public, role_byte, blob, signature, name, transcript):
    """The node ids a certified node proved; refused unless its certificate is the CA's, it
    signed this handshake, and the certificate lists the id it names."""
    if role_byte != CERTIFIED:
        _refuse(sock, "this instance's nodes need a node certificate (--node-cert)")
    verified = node_certs.verify(ca_public, blob)
    if verified is None:
        _refuse(sock, "the node certificate is not signed by this instance's CA")
    node_ids, public = verified
    if not node_certs.check_signature(public, signature, transcript):
        _refuse(sock, "the handshake is not signed by the certificate's key")
    if name is not None and name not in node_ids:
        _refuse(sock, f"the node certificate is for {', '.join(sorted(node_ids))}, not for "
                f"{name}")
    return node_ids


def respond(sock, secret, role, node_id=None, certificate=None):
    """Client side: answer the server's challenge as ``role`` with that role's credential
    ``secret``, speaking for the node ``node_id`` (node role only; with ``certificate``, a
    node_certs.NodeCertificate, presented and signed with), and check the server's proof."""
    name = node_id.encode() if node_id else b""
    if len(name) > MAX_ID:
        raise AuthenticationError(f"authentication failed: node id {node_id[:40]!r}... is "
                                  f"over {MAX_ID} bytes (use a shorter address)")
    greeting = _receive(sock, len(MAGIC) + NONCE, "the challenge")
    if not greeting.startswith(MAGIC):
        if greeting.startswith(MAGIC[:6]):     # "CCAUTH" and another version
            raise AuthenticationError("authentication failed: the node speaks another version "
                                      f"of the handshake ({greeting[:7].decode(errors='replace')}"
                                      f", we speak {MAGIC[:7].decode()}): upgrade one side")
        raise AuthenticationError("authentication failed: the node did not ask for a secret "
                                  "(is it running without one?)")
    server_nonce = greeting[len(MAGIC):]
    role_byte, client_nonce = ROLE_BYTES[role], secrets.token_bytes(NONCE)
    extra = b""
    if certificate is not None and role == "node":
        role_byte = CERTIFIED
        extra = certificate.blob + certificate.sign(
            _transcript(server_nonce, client_nonce, name, certificate.blob))
    sock.sendall(role_byte + client_nonce + bytes([len(name)]) + name + extra
                 + _proof(secret, b"concoord-auth-1 client", role_byte, server_nonce,
                          client_nonce, name, extra))
    verdict = _receive(sock, 1, "the verdict")
    if verdict != ACCEPTED:
        raise AuthenticationError(f"authentication failed: the instance refused our {role} "
                                  "credential")
    proof = _receive(sock, PROOF, "the server's proof")
    expected = _proof(secret, b"concoord-auth-1 server", role_byte, server_nonce, client_nonce,
                      name)
    if not hmac.compare_digest(proof, expected):
        raise AuthenticationError("authentication failed: the node does not know the secret")


PREFIX = 4


def is_challenge(data):
    """True if ``data``, the first bytes a node sent, start a challenge: the node wants a secret.
    (Four bytes suffice: as a frame's length prefix they exceed any frame a node would send.)"""
    return data[:PREFIX] == MAGIC[:PREFIX]


def first_bytes(sock, data):
    """``data``, the first bytes read from a node, completed to the PREFIX bytes is_challenge
    needs (fewer only if the node closed): a challenge split across reads must still read as
    "authentication failed", not as the length of an impossible frame."""
    while len(data) < PREFIX:
        more = sock.recv(PREFIX - len(data))
        if not more:
            break
        data += more
    return data
