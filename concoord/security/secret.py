"""An instance's credentials: the node secret, and the client credential derived from it.

Nodes hold the node secret (`concoord secret -o FILE`, --secret-file). Clients hold only the
client credential, ``client:`` followed by HMAC-SHA256(node secret, CLIENT_LABEL) in hex
(`concoord secret --client-from FILE`). A node can compute the client credential and so check
clients; a client cannot invert the HMAC, so it can never prove the node secret: what a
connection may do follows from which credential it proved (see handshake.py). A program given
the node secret can still act as a client: it derives the client credential itself.
"""

import hashlib
import hmac
import os
import secrets

from concoord.errors import ConcoordError

ENV_SECRET = "CONCOORD_SECRET"
ENV_SECRET_FILE = "CONCOORD_SECRET_FILE"
MIN_LENGTH = 16     # bytes: shorter secrets can be guessed offline from one recorded handshake
CLIENT_PREFIX = b"client:"
CLIENT_LABEL = b"concoord client credential 1"


class SecretError(ConcoordError):
    """The secret is missing, unreadable or too short."""


def generate_secret():
    """A new random secret, as text fit for a file or an environment variable."""
    return secrets.token_hex(32)


def read_secret_file(path):
    """The secret in ``path``; refused, as ssh refuses a private key, if others may read it."""
    try:
        with open(path, "rb") as f:
            _check_private(path, os.fstat(f.fileno()).st_mode)
            return _checked(f.read().strip(), f"secret file {path}")
    except OSError as exc:
        raise SecretError(f"cannot read secret file {path}: {exc.strerror or exc}") from None


def _check_private(path, mode):
    if mode & 0o077:
        raise SecretError(f"secret file {path} is accessible by others (mode "
                          f"{mode & 0o777:03o}): it must be readable by its owner only "
                          f"(chmod 600 {path})")


def secret_from_environment(environ=os.environ):
    """$CONCOORD_SECRET, else the file named by $CONCOORD_SECRET_FILE, else None."""
    if environ.get(ENV_SECRET):
        return _checked(environ[ENV_SECRET].strip().encode(), f"${ENV_SECRET}")
    if environ.get(ENV_SECRET_FILE):
        return read_secret_file(environ[ENV_SECRET_FILE])
    return None


def as_secret(value, where="secret"):
    """A secret given by a program (str or bytes) as bytes, checked."""
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, bytes):
        raise TypeError(f"{where} must be str or bytes, not {type(value).__name__}")
    return _checked(value.strip(), where)


def is_client_credential(secret):
    return secret.startswith(CLIENT_PREFIX)


def client_credential(secret):
    """The client credential that goes with ``secret`` (a node secret, or a client credential,
    which is returned as it is)."""
    if is_client_credential(secret):
        return secret
    return CLIENT_PREFIX + hmac.new(secret, CLIENT_LABEL, hashlib.sha256).hexdigest().encode()


def _checked(secret, where):
    if len(secret) < MIN_LENGTH:
        raise SecretError(f"{where} is too short: a secret needs at least {MIN_LENGTH} "
                          f"characters (`concoord secret` makes one)")
    return secret
