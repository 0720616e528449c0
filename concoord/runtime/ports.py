"""Listeners for nodes: by default on a free port in 14000-15000, as the original did.
(Addresses and socket options shared with clients live in concoord.wire.addresses.)
"""

import errno
import random
import socket

from concoord.wire.addresses import (format_address, set_nodelay,  # noqa: F401 - re-exported
                                     shutdown_quietly, split_address)

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
