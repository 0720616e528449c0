"""Deployment settings: command-line flags over an INI configuration file over defaults.

The configuration file is read with configparser and never executed. Its format (every key is
optional; a flag given on the command line wins over the file)::

    [ssh]
    user = deploy                         # --ssh-user (default: the local user name)
    key = ~/.ssh/concoord_ed25519         # --ssh-key (default: ssh-agent and ~/.ssh/id_*)
    port = 22                             # --ssh-port, for hosts listed without :port
    known_hosts = ~/.ssh/known_hosts      # --known-hosts
    accept_new_host_keys = no             # --accept-new-host-keys
    timeout = 10                          # seconds to connect and authenticate

    [remote]
    python = python3                      # --remote-python
    dir = .concoord/counterdomain         # --remote-dir (relative paths: from the remote home)

    [deploy]
    hosts = /etc/concoord/hosts           # --hosts
    dns_port = 53                         # --dns-port, for nameservers
    join_timeout = 30                     # --join-timeout, seconds for a node to join
    logger = 10.0.0.9:12000               # -l, a `concoord logdaemon` for the nodes' logs

    [systemd]
    enabled = no                          # --systemd: install each node as a systemd unit
    user = concoord                       # --systemd-user, created on the hosts if missing
    unit_dir = /etc/systemd/system        # --unit-dir, where the unit files go
    systemctl = systemctl                 # --systemctl, the command on the hosts
"""

import configparser
import dataclasses
import getpass
import os

from concoord.deploy.errors import DeployError

# (section, key) -> (settings field, parser of the text)
_BOOL = configparser.ConfigParser.BOOLEAN_STATES
CONFIG_KEYS = {
    ("ssh", "user"): ("ssh_user", str),
    ("ssh", "key"): ("ssh_key", os.path.expanduser),
    ("ssh", "port"): ("ssh_port", int),
    ("ssh", "known_hosts"): ("known_hosts", os.path.expanduser),
    ("ssh", "accept_new_host_keys"): ("accept_new_host_keys", lambda t: _BOOL[t.lower()]),
    ("ssh", "timeout"): ("connect_timeout", float),
    ("remote", "python"): ("remote_python", str),
    ("remote", "dir"): ("remote_dir", str),
    ("deploy", "hosts"): ("hosts_file", os.path.expanduser),
    ("deploy", "dns_port"): ("dns_port", int),
    ("deploy", "join_timeout"): ("join_timeout", float),
    ("deploy", "logger"): ("logger", str),
    ("systemd", "enabled"): ("systemd", lambda t: _BOOL[t.lower()]),
    ("systemd", "user"): ("systemd_user", str),
    ("systemd", "unit_dir"): ("unit_dir", str),
    ("systemd", "systemctl"): ("systemctl", str),
}


@dataclasses.dataclass
class DeploySettings:
    ssh_user: str = None
    ssh_key: str = None
    ssh_port: int = 22
    known_hosts: str = "~/.ssh/known_hosts"
    accept_new_host_keys: bool = False
    connect_timeout: float = 10.0
    remote_python: str = "python3"
    remote_dir: str = None          # None: .concoord/DOMAIN under the remote home
    hosts_file: str = None
    dns_port: int = 53
    join_timeout: float = 30.0
    logger: str = None              # host:port of a `concoord logdaemon` for the nodes' logs
    systemd: bool = False           # nodes as systemd units (deploy/units.py)
    systemd_user: str = "concoord"
    unit_dir: str = "/etc/systemd/system"
    systemctl: str = "systemctl"

    def __post_init__(self):
        self.ssh_user = self.ssh_user or getpass.getuser()
        self.known_hosts = os.path.expanduser(self.known_hosts)

    def work_dir(self, domain):
        """With systemd the nodes' own user must read the work directory: not under a home
        directory (root's is private), under /var/lib/concoord."""
        if self.remote_dir:
            return self.remote_dir
        return f"/var/lib/concoord/{domain}" if self.systemd else f".concoord/{domain}"

    def systemd_install(self):
        """How to install nodes as units (a deploy.units.SystemdInstall), or None."""
        if not self.systemd:
            return None
        from concoord.deploy.units import SystemdInstall
        return SystemdInstall(self.systemd_user, self.unit_dir, self.systemctl)


def read_config(path):
    """The settings a configuration file sets, as {field: value}; DeployError for any mistake."""
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"), interpolation=None)
    try:
        with open(path, encoding="utf-8") as stream:
            parser.read_file(stream)
    except OSError as exc:
        raise DeployError(f"cannot read config file '{path}': {exc.strerror}") from None
    except configparser.Error as exc:
        raise DeployError(f"config file '{path}': {exc.message.splitlines()[0]}") from None
    values = {}
    for section in parser.sections():
        for key, text in parser.items(section):
            if (section, key) not in CONFIG_KEYS:
                known = ", ".join(f"[{s}] {k}" for s, k in CONFIG_KEYS)
                raise DeployError(f"config file '{path}': unknown setting [{section}] {key} "
                                  f"(known: {known})")
            field, convert = CONFIG_KEYS[(section, key)]
            try:
                values[field] = convert(text.strip())
            except (ValueError, KeyError):
                raise DeployError(f"config file '{path}': [{section}] {key} = {text!r} is "
                                  "not a valid value") from None
    return values


def resolve_settings(config_path=None, **flags):
    """Defaults, then the config file, then every flag that was given (not None)."""
    values = read_config(config_path) if config_path else {}
    values.update({name: value for name, value in flags.items() if value is not None})
    return DeploySettings(**values)
