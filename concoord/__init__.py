"""ConCoord: turn an ordinary Python class into a fault-tolerant replicated object."""

from concoord.errors import ConcoordError, ConnectionError, RemoteError, WireError

__version__ = "2.0.0"
__all__ = ["ConcoordError", "ConnectionError", "RemoteError", "WireError", "__version__"]
