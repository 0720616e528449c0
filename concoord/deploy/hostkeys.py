"""Host key checking for deployment: known_hosts is the authority; an unknown key is refused
unless the user explicitly accepts new keys (then it is recorded, like OpenSSH's accept-new).
A key that differs from the recorded one is always refused (paramiko's BadHostKeyException)."""

import base64
import hashlib
import os

import paramiko

from concoord.deploy.errors import DeployError


def fingerprint(key):
    """OpenSSH's ``SHA256:...`` fingerprint, which ``ssh-keygen -lf`` shows for comparison."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class UnknownHostKey(paramiko.SSHException):
    """The server's key is not in known_hosts and new keys were not to be accepted."""

    def __init__(self, hostname, key):
        super().__init__(f"unknown host key for {hostname}")
        self.hostname = hostname
        self.key = key


class RefuseUnknownKeys(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client, hostname, key):
        raise UnknownHostKey(hostname, key)


class AcceptNewKeys(paramiko.MissingHostKeyPolicy):
    """Trust a key seen for the first time and append it to ``known_hosts_path``."""

    def __init__(self, known_hosts_path):
        self.path = known_hosts_path

    def missing_host_key(self, client, hostname, key):
        client.get_host_keys().add(hostname, key.get_name(), key)
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        # Appending (not paramiko's save_host_keys) keeps the file's comments and hashed lines.
        with open(self.path, "a", encoding="ascii") as stream:
            stream.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")


def load_known_hosts(client, path):
    """Give ``client`` the keys recorded in ``path`` (a missing file means none are known)."""
    if not os.path.exists(path):
        return
    try:
        client.load_host_keys(path)
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise DeployError(f"cannot read known_hosts file '{path}': {exc}") from None
