"""The instance's shared secret: read from a file or the environment, or generated."""

import os
import secrets

from concoord.errors import ConcoordError

ENV_SECRET = "CONCOORD_SECRET"
ENV_SECRET_FILE = "CONCOORD_SECRET_FILE"
MIN_LENGTH = 16     # bytes: shorter secrets can be guessed offline from one recorded handshake


class SecretError(ConcoordError):
    """The secret is missing, unreadable or too short."""


def generate_secret():
    """A new random secret, as text fit for a file or an environment variable."""
    return secrets.token_hex(32)


def read_secret_file(path):
    try:
        with open(path, "rb") as f:
            return _checked(f.read().strip(), f"secret file {path}")
    except OSError as exc:
        raise SecretError(f"cannot read secret file {path}: {exc.strerror or exc}") from None


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


def _checked(secret, where):
    if len(secret) < MIN_LENGTH:
        raise SecretError(f"{where} is too short: a secret needs at least {MIN_LENGTH} "
                          f"characters (`concoord secret` makes one)")
    return secret
