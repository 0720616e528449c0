"""Real OpenSSH daemons on loopback addresses, one per pretend host (127.0.0.2, .3, .4), with a
throwaway host key, a throwaway client key in authorized_keys and a wrong key for the errors.

Nodes started over SSH are found again by their working directory (every test deploys into its
own), so teardown stops exactly the processes a test started, however it ended.
"""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

SSHD = "/usr/sbin/sshd"
HOST_ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
UNREACHABLE_ADDRESS = "127.0.0.5"
CONFIG = """\
ListenAddress {addr}
Port {port}
HostKey {dir}/host_key
PidFile {dir}/sshd-{addr}.pid
AuthorizedKeysFile {dir}/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""


def sshd_available():
    return os.path.exists(SSHD) and shutil.which("ssh-keygen") and os.geteuid() == 0


def _keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def port_free_everywhere(port, addresses):
    for addr in addresses:
        with socket.socket() as sock:
            try:
                sock.bind((addr, port))
            except OSError:
                return False
    return True


def pick_port(addresses, preferred=2222):
    """2222 as the reference setup uses, unless something (another test run) holds it."""
    if port_free_everywhere(preferred, addresses):
        return preferred
    for port in range(12200, 12400):
        if port_free_everywhere(port, addresses):
            return port
    raise RuntimeError("no free port for sshd")


def wait_listening(addr, port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd on {addr}:{port} exited with {proc.returncode}")
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd on {addr}:{port} is not listening")


class SshHosts:
    """The daemons plus the files a deployment needs: keys, known_hosts lines, a host list."""

    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.addresses = HOST_ADDRESSES
        self.procs = []
        self.client_key = self.dir / "client_key"
        self.wrong_key = self.dir / "wrong_key"

    def start(self):
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
        for key in ("host_key", "client_key", "wrong_key"):
            _keygen(self.dir / key)
        shutil.copyfile(self.dir / "client_key.pub", self.dir / "authorized_keys")
        self.port = pick_port(self.addresses)
        for addr in self.addresses:
            config = self.dir / f"sshd-{addr}.conf"
            config.write_text(CONFIG.format(addr=addr, port=self.port, dir=self.dir))
            log = open(self.dir / f"sshd-{addr}.log", "wb")
            self.procs.append(subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)],
                                               stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL))
            log.close()
        for addr, proc in zip(self.addresses, self.procs):
            wait_listening(addr, self.port, proc)
        return self

    def known_hosts_lines(self, addresses=None):
        key_type, key = (self.dir / "host_key.pub").read_text().split()[:2]
        return "".join(f"[{addr}]:{self.port} {key_type} {key}\n"
                       for addr in addresses or self.addresses)

    def host_lines(self, addresses=None, user="root"):
        return "".join(f"{user}@{addr}:{self.port}\n" for addr in addresses or self.addresses)

    def stop(self):
        """Stop the daemons and every per-connection sshd they forked."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs = []


def processes_under(directory):
    """PIDs of processes whose working directory is ``directory`` or below it."""
    root = os.path.realpath(directory)
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if cwd == root or cwd.startswith(root + os.sep):
            pids.append(int(entry))
    return pids


def kill_processes_under(directory, timeout=5.0):
    """SIGTERM, then SIGKILL, every process working in ``directory``."""
    pids = processes_under(directory)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and processes_under(directory):
        time.sleep(0.05)
    for pid in processes_under(directory):
        _signal(pid, signal.SIGKILL)
    return pids


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
