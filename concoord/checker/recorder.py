"""Record the calls a client makes through a ConCoord proxy into a history file.

    from concoord.client.proxy import ClientProxy
    from concoord.checker import HistoryWriter, RecordingProxy

    with HistoryWriter("history-client1.jsonl", process="client1") as writer:
        counter = RecordingProxy(ClientProxy("127.0.0.1:14000"), writer)
        counter.increment()
        counter.getvalue()

Each call is classified by what the client can know about it: a reply is ``ok`` (or ``raised``
if the object raised); a call the proxy refused before sending anything (e.g. an argument the
wire cannot carry) is ``fail``; no reply in time is ``unknown``, because the command may still
be decided and executed after the client gave up.
"""

import concurrent.futures

from concoord.errors import ConnectionError, RemoteError, WireError


class RecordingProxy:
    """Wraps a ClientProxy (or generated proxy): ``proxy.method(*args)`` is called and recorded.

    Use one RecordingProxy per process id: a process has one call outstanding at a time.
    """

    def __init__(self, proxy, writer):
        self._proxy = proxy
        self._writer = writer

    def call(self, method, *args, **kwargs):
        """Invoke ``method`` remotely and record it; returns the result or raises its error."""
        writer = self._writer
        seq = writer.invoke(method, args, kwargs)
        try:
            future = self._proxy._invoke_async(method, args, kwargs)
        except Exception as exc:
            writer.fail(seq, f"not sent: {exc!r}")
            raise
        try:
            value = _wait(self._proxy, future, method)
        except (ConnectionError, WireError) as exc:
            writer.unknown(seq, str(exc))
            raise
        except Exception as exc:
            if getattr(exc, "concoord_refused", False):   # the instance refused: never ran
                writer.fail(seq, str(exc))
            elif getattr(exc, "concoord_maybe_ran", False):   # e.g. its session expired
                writer.unknown(seq, str(exc))
            elif isinstance(exc, RemoteError):
                writer.raised(seq, exc.type_name, exc.remote_args)
            else:           # a builtin exception raised by the object, re-raised here
                writer.raised(seq, type(exc).__name__, exc.args)
            raise
        writer.ok(seq, value)
        return value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


def _wait(proxy, future, method):
    # The proxy settles every call by its own deadline; this margin only guards against a bug.
    timeout = getattr(proxy, "_timeout", None)
    try:
        return future.result(None if timeout is None else timeout + 5.0)
    except concurrent.futures.TimeoutError:
        raise ConnectionError(f"no reply to {method}() within {timeout:g} s") from None
    except concurrent.futures.CancelledError:
        raise ConnectionError(f"{method}() was cancelled") from None
