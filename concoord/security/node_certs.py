"""Per-node credentials: an instance signing key (the CA) certifies each node's own key for the
node ids (listening addresses) it may speak for, so that a node's credential does not let it
speak for another node. Ed25519, through the ``cryptography`` package (paramiko's dependency).

    concoord secret --ca -o DOMAIN.ca                         the instance's CA (keep it off the
                                                              nodes: it makes certificates)
    concoord secret --node-cert 10.0.0.1:14000 --ca DOMAIN.ca -o n1.cert

A node run with ``--node-cert n1.cert`` (besides --secret-file) presents its certificate and
signs each handshake with its key (handshake.py), and requires every node connection to do the
same with a certificate of the same CA for the node it names. The certificate file holds the
node's private key: mode 0600, like a secret file.

A certificate is the CA's signature over LABEL, the node ids (sorted, one per line) and the
node's public key. A node that also serves DNS (`concoord replica -n DOMAIN`) joins as a
nameserver under its DNS address: certify both ids (comma-separated) for it.
"""

import json
import os

from concoord.security.secret import SecretError, _check_private

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                                   Ed25519PublicKey)
    from cryptography.hazmat.primitives.serialization import (Encoding, NoEncryption,
                                                              PrivateFormat, PublicFormat)
except ImportError:     # a `make server` bundle carries pure Python only: no certificates
    Ed25519PrivateKey = Ed25519PublicKey = None

    class InvalidSignature(Exception):
        pass

CA_PREFIX = "concoord-ca:"
LABEL = b"concoord node certificate 1\n"
KEY, SIGNATURE = 32, 64
MAX_IDS_TEXT = 4096


def _require():
    if Ed25519PrivateKey is None:
        raise SecretError("per-node certificates need the cryptography package "
                          "(pip install cryptography; it comes with paramiko)")


def _raw_private(key):
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _raw_public(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def ids_text(node_ids):
    return "\n".join(sorted(set(node_ids))).encode()


def _signed(node_ids, public):
    return LABEL + len(ids_text(node_ids)).to_bytes(2, "big") + ids_text(node_ids) + public


class NodeCertificate:
    """A node's key and its certificate: what it presents (``blob``) and signs with."""

    def __init__(self, node_ids, key, ca_public, signature):
        self.node_ids = frozenset(node_ids)
        self.key = key
        self.ca_public = ca_public          # raw 32 bytes: the CA its peers must be signed by
        self.signature = signature
        text = ids_text(node_ids)
        self.blob = len(text).to_bytes(2, "big") + text + _raw_public(key) + signature

    def sign(self, data):
        return self.key.sign(data)


def new_ca():
    """A new CA, as the text of a CA file."""
    _require()
    return CA_PREFIX + _raw_private(Ed25519PrivateKey.generate()).hex()


def read_ca_file(path):
    _require()
    text = _read_private(path)
    if not text.startswith(CA_PREFIX):
        raise SecretError(f"{path} is not a ConCoord CA file (`concoord secret --ca` makes one)")
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text[len(CA_PREFIX):]))
    except ValueError:
        raise SecretError(f"{path}: a malformed CA key") from None


def issue(ca_key, node_ids):
    """The text of a certificate file for a new key that may speak for ``node_ids``."""
    _require()
    node_ids = sorted(set(node_ids))
    if not node_ids or any(not i or "\n" in i or len(i.encode()) > 255 for i in node_ids):
        raise SecretError("a certificate names one or more node ids (host:port)")
    key = Ed25519PrivateKey.generate()
    signature = ca_key.sign(_signed(node_ids, _raw_public(key)))
    return json.dumps({"nodes": node_ids, "key": _raw_private(key).hex(),
                       "ca": _raw_public(ca_key).hex(), "signature": signature.hex()})


def read_certificate_file(path):
    _require()
    text = _read_private(path)
    try:
        fields = json.loads(text)
        cert = NodeCertificate(fields["nodes"],
                               Ed25519PrivateKey.from_private_bytes(bytes.fromhex(fields["key"])),
                               bytes.fromhex(fields["ca"]), bytes.fromhex(fields["signature"]))
    except (ValueError, KeyError, TypeError):
        raise SecretError(f"{path} is not a ConCoord node certificate (`concoord secret "
                          "--node-cert ID --ca CA_FILE` makes one)") from None
    if verify(cert.ca_public, cert.blob) is None:
        raise SecretError(f"{path}: the certificate's signature does not match its CA")
    return cert


def split_blob(blob):
    """(node ids text, public key, CA signature) of a presented certificate, or None."""
    if len(blob) < 2:
        return None
    size = int.from_bytes(blob[:2], "big")
    if len(blob) != 2 + size + KEY + SIGNATURE:
        return None
    return blob[2:2 + size], blob[2 + size:2 + size + KEY], blob[2 + size + KEY:]


def verify(ca_public, blob):
    """(frozenset of node ids, Ed25519PublicKey) if ``blob`` is a certificate signed by the CA
    whose raw public key is ``ca_public``; None if not."""
    parts = split_blob(blob)
    if parts is None or Ed25519PublicKey is None:
        return None
    text, public, signature = parts
    try:
        node_ids = text.decode().split("\n")
        Ed25519PublicKey.from_public_bytes(ca_public).verify(signature,
                                                             _signed(node_ids, public))
        return frozenset(node_ids), Ed25519PublicKey.from_public_bytes(public)
    except (InvalidSignature, ValueError, UnicodeDecodeError):
        return None


def check_signature(public_key, signature, data):
    try:
        public_key.verify(signature, data)
        return True
    except InvalidSignature:
        return False


def _read_private(path):
    try:
        with open(path) as f:
            _check_private(path, os.fstat(f.fileno()).st_mode)
            return f.read().strip()
    except OSError as exc:
        raise SecretError(f"cannot read {path}: {exc.strerror or exc}") from None
