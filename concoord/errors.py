"""The exceptions ConCoord raises to its users and between its layers."""


class ConcoordError(Exception):
    """Base class of every error ConCoord itself raises."""


class WireError(ConcoordError):
    """A frame or value read from the network is malformed; the connection is closed."""


class ConnectionError(ConcoordError):  # noqa: A001 - the public name the issue asks for
    """The client could not reach a working replica within its timeout."""


class RemoteError(ConcoordError):
    """The replicated object raised an exception that is not a Python builtin.

    ``type_name`` is the exception's class name on the replica, ``args`` its arguments.
    """

    def __init__(self, type_name, *args):
        super().__init__(type_name, *args)
        self.type_name = type_name
        self.remote_args = args

    def __str__(self):
        inner = ", ".join(repr(a) for a in self.remote_args)
        return f"{self.type_name}({inner})"


class ObjectLoadError(ConcoordError):
    """A user's object file or class could not be loaded or is not acceptable."""


class AuthenticationError(ConnectionError):
    """A peer did not prove knowledge of the instance's shared secret, or TLS verification of
    a peer failed; the connection is closed before any message is exchanged."""
