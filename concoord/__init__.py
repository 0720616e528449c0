"""ConCoord: turn an ordinary Python class into a fault-tolerant replicated object."""

from concoord.errors import ConcoordError, ConnectionError, RemoteError, WireError

__version__ = "2.0.0"
__all__ = ["ConcoordError", "ConnectionError", "RemoteError", "WireError", "client_side",
           "readonly", "__version__"]


def readonly(method):
    """Mark a method that only reads the object: the leader answers it from its own copy while
    it holds a read lease (still linearizable), without a slot in the log."""
    method._concoord_readonly = True
    return method


def client_side(method):
    """Mark a method that runs in the client: the proxy gets a copy of it, whose calls of the
    object's other methods are remote calls (Condition.wait_for loops over wait() with the
    caller's own predicate, which cannot travel). Replicas refuse it as a remote call."""
    method._concoord_client_side = True
    return method
