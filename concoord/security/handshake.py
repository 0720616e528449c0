"""Challenge-response on a fresh connection, before any message: the peer proves its role.

    server -> client   MAGIC, server nonce (32 bytes)
    client -> server   role (b"N" node, b"C" client), client nonce (32), client proof (32)
    server -> client   b"\\x01", server proof (32)          or b"\\x00" and close

A proof is HMAC-SHA256(key, label + role + both nonces), where the key is the credential of
the role claimed: the node secret for b"N", the client credential for b"C" (secret.py). So the
role is proven, not claimed: a client credential can never complete a node handshake. Fresh
nonces on both sides make a recorded handshake useless for another connection, the distinct
labels stop a proof from being reflected back, and the server's proof tells a client it reached
the real instance. No credential ever crosses the network.
"""

import hashlib
import hmac
import secrets

from concoord.errors import AuthenticationError

MAGIC = b"CCAUTH2\n"     # 2: proofs keyed by role (1 had one secret for all)
NONCE = PROOF = 32
ROLE_BYTES = {"node": b"N", "client": b"C"}
ROLES = {code: role for role, code in ROLE_BYTES.items()}
ACCEPTED, REFUSED = b"\x01", b"\x00"


def _proof(secret, label, role_byte, server_nonce, client_nonce):
    return hmac.new(secret, label + role_byte + server_nonce + client_nonce,
                    hashlib.sha256).digest()


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
    "node" and "client" to their credentials. Returns the role; AuthenticationError (after
    telling the peer) if it cannot."""
    server_nonce = secrets.token_bytes(NONCE)
    sock.sendall(MAGIC + server_nonce)
    answer = _receive(sock, 1 + NONCE + PROOF, "the challenge")
    role_byte, client_nonce, proof = answer[:1], answer[1:1 + NONCE], answer[1 + NONCE:]
    key = keys.get(ROLES.get(role_byte))
    if key is None:
        sock.sendall(REFUSED)
        raise AuthenticationError("authentication failed: unknown role")
    expected = _proof(key, b"concoord-auth-1 client", role_byte, server_nonce, client_nonce)
    if not hmac.compare_digest(proof, expected):
        sock.sendall(REFUSED)
        raise AuthenticationError(f"authentication failed: wrong {ROLES[role_byte]} credential")
    sock.sendall(ACCEPTED + _proof(key, b"concoord-auth-1 server", role_byte, server_nonce,
                                   client_nonce))
    return ROLES[role_byte]


def respond(sock, secret, role):
    """Client side: answer the server's challenge as ``role`` with that role's credential
    ``secret``, and check the server's proof."""
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
    sock.sendall(role_byte + client_nonce + _proof(secret, b"concoord-auth-1 client", role_byte,
                                                   server_nonce, client_nonce))
    verdict = _receive(sock, 1, "the verdict")
    if verdict != ACCEPTED:
        raise AuthenticationError(f"authentication failed: the instance refused our {role} "
                                  "credential")
    proof = _receive(sock, PROOF, "the server's proof")
    expected = _proof(secret, b"concoord-auth-1 server", role_byte, server_nonce, client_nonce)
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
