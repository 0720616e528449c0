"""Hosts to deploy on: ``host``, ``user@host``, ``host:port``, ``user@host:port`` (``[v6]:port``),
one per line in a host file, ``#`` starting a comment."""

import dataclasses

from concoord.deploy.errors import DeployError


@dataclasses.dataclass(frozen=True)
class Host:
    """One SSH destination. ``user``/``port`` of None mean "the default from flags or config"."""

    hostname: str
    user: str = None
    port: int = None

    def with_defaults(self, user, port):
        """This host with the unset parts filled in from the deployment's SSH settings."""
        return Host(self.hostname, self.user or user, self.port or port)

    def __str__(self):
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{user}{name}{port}"


def parse_host(text):
    """``'user@host:port'`` and its shorter forms -> Host; DeployError naming what is wrong."""
    text = text.strip()
    user, at, rest = text.rpartition("@")
    if at and not user:
        raise DeployError(f"host '{text}': empty user name before '@'")
    hostname, port = _split_port(rest, text)
    if not hostname or any(c.isspace() for c in hostname):
        raise DeployError(f"host '{text}': not of the form [user@]host[:port]")
    return Host(hostname, user or None, port)


def _split_port(rest, text):
    if rest.startswith("["):  # [v6]:port or [v6]
        name, bracket, tail = rest[1:].partition("]")
        if not bracket:
            raise DeployError(f"host '{text}': missing ']'")
        if not tail:
            return name, None
        if not tail.startswith(":"):
            raise DeployError(f"host '{text}': expected ':port' after ']'")
        return name, _port(tail[1:], text)
    if rest.count(":") > 1:  # a bare IPv6 address has no port
        return rest, None
    name, colon, port = rest.partition(":")
    return name, _port(port, text) if colon else None


def _port(port, text):
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DeployError(f"host '{text}': '{port}' is not a port number")
    return int(port)


def read_host_file(path):
    """The hosts listed in ``path`` (blank lines and ``#`` comments skipped), in order."""
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.readlines()
    except OSError as exc:
        raise DeployError(f"cannot read host file '{path}': {exc.strerror}") from None
    hosts = []
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            hosts.append(parse_host(line))
        except DeployError as exc:
            raise DeployError(f"{path}:{number}: {exc}") from None
    if not hosts:
        raise DeployError(f"host file '{path}' lists no host")
    return hosts
