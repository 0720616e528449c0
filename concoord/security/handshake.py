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
"""

import hashlib
import hmac
import secrets

from concoord.errors import AuthenticationError

MAGIC = b"CCAUTH3\n"     # 3: node connections name their node; 2: proofs keyed by role
NONCE = PROOF = 32
ROLE_BYTES = {"node": b"N", "client": b"C"}
ROLES = {code: role for role, code in ROLE_BYTES.items()}
ACCEPTED, REFUSED = b"\x01", b"\x00"


MAX_ID = 255            # bytes of a node id


def _proof(secret, label, role_byte, server_nonce, client_nonce, node_id=b""):
    return hmac.new(secret, label + role_byte + server_nonce + client_nonce
                    + bytes([len(node_id)]) + node_id, hashlib.sha256).digest()


def _receive(sock, size, what):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:     # not a refusal (that is a verdict): the caller may try again
            raise ConnectionResetError(f"connection closed during {what}")
        data += chunk
    return data


def challenge(sock, keys):
    """Server side: make the peer prove the credential of the role it claims; ``keys`` maps
    "node" and "client" to their credentials. Returns (role, node id: the node a node-role
    peer speaks for, or None); AuthenticationError (after telling the peer) if it cannot."""
    server_nonce = secrets.token_bytes(NONCE)
    sock.sendall(MAGIC + server_nonce)
    answer = _receive(sock, 1 + NONCE + 1, "the challenge")
    role_byte, client_nonce = answer[:1], answer[1:1 + NONCE]
    node_id = _receive(sock, answer[-1], "the challenge") if answer[-1] else b""
    proof = _receive(sock, PROOF, "the challenge")
    key = keys.get(ROLES.get(role_byte))
    if key is None:
        sock.sendall(REFUSED)
        raise AuthenticationError("authentication failed: unknown role")
    expected = _proof(key, b"concoord-auth-1 client", role_byte, server_nonce, client_nonce,
                      node_id)
    if not hmac.compare_digest(proof, expected):
        sock.sendall(REFUSED)
        raise AuthenticationError(f"authentication failed: wrong {ROLES[role_byte]} credential")
    try:
        name = node_id.decode() if node_id else None
    except UnicodeDecodeError:
        name = ""
    if name == "" or (name is not None and ROLES[role_byte] != "node"):
        sock.sendall(REFUSED)
        raise AuthenticationError("authentication failed: a malformed node id")
    sock.sendall(ACCEPTED + _proof(key, b"concoord-auth-1 server", role_byte, server_nonce,
                                   client_nonce, node_id))
    return ROLES[role_byte], name


def respond(sock, secret, role, node_id=None):
    """Client side: answer the server's challenge as ``role`` with that role's credential
    ``secret``, speaking for the node ``node_id`` (node role only), and check the server's
    proof."""
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
    sock.sendall(role_byte + client_nonce + bytes([len(name)]) + name
                 + _proof(secret, b"concoord-auth-1 client", role_byte, server_nonce,
                          client_nonce, name))
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
