"""One SSH connection to a deployment host (paramiko): run a command, upload a file.

Every failure becomes a DeployError that names the host and says why in words a user can act
on: refused or timed-out connections, unknown or changed host keys, rejected credentials.
"""

import io
import logging
import shlex
import socket

import paramiko

from concoord.deploy.errors import DeployError, host_error
from concoord.deploy.hostkeys import (AcceptNewKeys, RefuseUnknownKeys, UnknownHostKey,
                                      fingerprint, load_known_hosts)

# paramiko logs transport failures with tracebacks; our DeployError already says it in one line.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False

COMMAND_TIMEOUT = 60.0


class SshSession:
    """An open connection to ``host`` (a Host with user and port filled in)."""

    def __init__(self, host, settings):
        self.host = host
        self.settings = settings
        self._client = None
        self._sftp = None

    def __str__(self):
        return str(self.host)

    def connect(self):
        client = paramiko.SSHClient()
        load_known_hosts(client, self.settings.known_hosts)
        if self.settings.accept_new_host_keys:
            client.set_missing_host_key_policy(AcceptNewKeys(self.settings.known_hosts))
        else:
            client.set_missing_host_key_policy(RefuseUnknownKeys())
        key = self.settings.ssh_key
        timeout = self.settings.connect_timeout
        try:
            client.connect(self.host.hostname, self.host.port, username=self.host.user,
                           key_filename=key, allow_agent=key is None, look_for_keys=key is None,
                           timeout=timeout, banner_timeout=timeout, auth_timeout=timeout)
        except BaseException as exc:
            client.close()
            raise self._explain(exc) from None
        self._client = client
        return self

    def _explain(self, exc):
        """The DeployError for a failed connect (or the exception itself if it is not ours)."""
        settings = self.settings
        if isinstance(exc, UnknownHostKey):
            return host_error(self.host, (
                f"unknown host key ({exc.key.get_name()} {fingerprint(exc.key)}): it is not "
                f"in {settings.known_hosts}; verify it and add it (ssh-keyscan -p "
                f"{self.host.port} {self.host.hostname} >> {settings.known_hosts}), or pass "
                "--accept-new-host-keys"))
        if isinstance(exc, paramiko.BadHostKeyException):
            return host_error(self.host, (
                f"host key changed: the server offered {fingerprint(exc.key)} but "
                f"{settings.known_hosts} records {fingerprint(exc.expected_key)} (a "
                "reinstalled host, or someone in between); fix known_hosts after checking"))
        if isinstance(exc, paramiko.AuthenticationException):
            how = f"key {settings.ssh_key}" if settings.ssh_key else "ssh-agent and ~/.ssh keys"
            return host_error(self.host, f"authentication failed for user '{self.host.user}' "
                              f"with {how} ({exc})")
        if isinstance(exc, socket.gaierror):
            return host_error(self.host, f"unknown host name ({exc.strerror})")
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return host_error(self.host, "unreachable: no answer within "
                              f"{settings.connect_timeout:g} s")
        if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
            return host_error(self.host, "unreachable: connection refused (is sshd listening "
                              f"on port {self.host.port}?)")
        if isinstance(exc, FileNotFoundError) and settings.ssh_key:
            return DeployError(f"ssh key file '{settings.ssh_key}' not found")
        if isinstance(exc, paramiko.SSHException) and "banner" in str(exc):
            return host_error(self.host, f"no SSH server answered on port {self.host.port} "
                              f"({exc})")
        if isinstance(exc, (OSError, paramiko.SSHException, EOFError)):
            return host_error(self.host, f"SSH connection failed: {exc or type(exc).__name__}")
        return exc

    @property
    def peer_address(self):
        """The IP address this connection reached: what other nodes and clients will dial."""
        return self._client.get_transport().getpeername()[0]

    def run(self, script, timeout=COMMAND_TIMEOUT):
        """Run ``script`` with ``sh -c`` (whatever the login shell): (exit status, out, err)."""
        try:
            _, stdout, stderr = self._client.exec_command("sh -c " + shlex.quote(script),
                                                          timeout=timeout)
            out = stdout.read().decode("utf-8", "replace")
            err = stderr.read().decode("utf-8", "replace")
            return stdout.channel.recv_exit_status(), out, err
        except socket.timeout:
            raise host_error(self.host,
                             f"command timed out after {timeout:g} s: {script}") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise host_error(self.host, f"SSH command failed ({exc}): {script}") from None

    def upload(self, data, remote_path, mode=0o644):
        """Write ``data`` (bytes) to ``remote_path`` over SFTP."""
        try:
            if self._sftp is None:
                self._sftp = self._client.open_sftp()
            self._sftp.putfo(io.BytesIO(data), remote_path)
            self._sftp.chmod(remote_path, mode)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise host_error(self.host, f"cannot upload {remote_path} over SFTP: {exc}") from None

    def close(self):
        if self._sftp is not None:
            self._sftp.close()
        if self._client is not None:
            self._client.close()
        self._sftp = self._client = None
