"""Node addresses ("host:port" strings) and the socket options every connection gets, for
clients and nodes alike (the client needs nothing of the runtime)."""

import socket


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
