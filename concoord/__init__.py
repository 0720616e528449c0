"""ConCoord: turn an ordinary Python class into a fault-tolerant replicated object."""

from concoord.errors import ConcoordError, ConnectionError, RemoteError, WireError

__version__ = "2.0.0"
__all__ = ["ConcoordError", "ConnectionError", "RemoteError", "WireError", "readonly",
           "__version__"]


def readonly(method):
    """Mark a method that only reads the object: the leader answers it from its own copy while
    it holds a read lease (still linearizable), without a slot in the log."""
    method._concoord_readonly = True
    return method
