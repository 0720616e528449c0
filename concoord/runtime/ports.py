"""Addresses and sockets for nodes: "host:port" strings, listeners (by default on a free port in
14000-15000, as the original did) and the few socket options every connection gets.
"""

import errno
import random
import socket

PORT_RANGE = (14000, 15000)
BACKLOG = 128


class PortInUseError(OSError):
    """The port a node was told to use is taken (or no port in the default range is free)."""

    def __str__(self):
        return self.strerror  # the plain sentence, without OSError's "[Errno 98]" prefix


def _listen(addr, port):
    sock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    try:
        # Restarting a node must be able to rebind while old connections sit in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((addr, port))
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def bind_listener(addr, port=None):
    """A listening TCP socket on ``addr``; ``port=None`` picks a free one in 14000-15000."""
    if port is not None:
        try:
            return _listen(addr, port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(exc.errno, f"port {port} on {addr} is in use") from None
            raise
    candidates = list(range(PORT_RANGE[0], PORT_RANGE[1] + 1))
    # Random order so that nodes started together on one host rarely race for the same port.
    random.shuffle(candidates)
    for candidate in candidates:
        try:
            return _listen(addr, candidate)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise PortInUseError(errno.EADDRINUSE,
                         f"no free port in {PORT_RANGE[0]}-{PORT_RANGE[1]} on {addr}")


def split_address(address):
    """``"host:port"`` -> ``(host, port)``; ValueError if it is not that shape."""
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")  # "[::1]:14000"
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port address: {address!r}")
    return host, int(port)


def format_address(sockaddr):
    """A socket address as "host:port" (IPv6 hosts in brackets so split_address undoes it)."""
    host, port = sockaddr[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def set_nodelay(sock):
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not TCP (tests may hand us a socketpair); nothing to tune
        pass


def shutdown_quietly(sock):
    """Wake any thread blocked in recv/send/accept on ``sock``; the owning thread closes the fd."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
