"""ClientProxy: the base of every generated proxy.

All of a proxy's calls share one connection to a replica; concoord.client.engine delivers them,
exactly once each, through redirects, failures and retries.
"""

import contextlib
import itertools
import logging
import threading

from concoord import security
from concoord.client.connection import HostList, parse_bootstrap, srv_resolver
from concoord.client.engine import CallEngine
from concoord.client.session import DEFAULT_LEASE, SessionKeeper
from concoord.security.client_ids import client_id_of, new_client_key
from concoord.security.secret import as_secret
from concoord.wire.types import Command
from concoord.wire.values import encode_call_arguments

log = logging.getLogger("concoord.client")

DEFAULT_OPTIONS = {
    "attempt_timeout": 1.0,   # silence from a replica with calls outstanding: try another
    "connect_timeout": 1.0,
    "resolver": None,         # name -> ["host:port", ...] for bootstrap entries without a port
                              # (None: the SRV record _concoord._tcp.NAME, see srv_resolver)
    "nameserver": None,       # "host:port" to ask for that SRV record (None:
                              # $CONCOORD_NAMESERVER, else the system resolver)
    "session_lease": DEFAULT_LEASE,  # seconds without keepalive before the instance frees
                                     # what this client holds (None: no session)
    "secret": None,           # the instance's shared secret (None: $CONCOORD_SECRET or
                              # $CONCOORD_SECRET_FILE, if set)
    "tls": None,              # an ssl.SSLContext for TLS (see concoord.security.tls)
    "role": security.CLIENT,  # ConCoord's own nodes connect as security.NODE
}


def _security_settings(options):
    """The secret and TLS context this proxy authenticates with: its options, else the
    process's (concoord.security.current), with the process's node certificate if any (a
    node's own join request proves which node it is)."""
    default = security.current()
    secret = default.secret if options["secret"] is None else as_secret(options["secret"])
    tls = default.client_tls if options["tls"] is None else options["tls"]
    return security.Security(secret, client_tls=tls,
                             node_cert=default.node_cert if options["secret"] is None else None)


class ClientProxy:
    """Calls methods of a replicated object; generated proxies subclass it.

    ``bootstrap`` is ``'host:port[,host:port...]'`` or a list of such strings; an entry without
    a port is a domain whose SRV record lists the replicas (``Counter('counterdomain',
    nameserver='127.0.0.1:5353')``). ``timeout`` bounds each call (None: wait forever, e.g. for
    blocking methods); options: ``attempt_timeout``, ``connect_timeout``, ``resolver``,
    ``nameserver``, ``session_lease``, ``secret`` and ``tls`` (see DEFAULT_OPTIONS). Safe to
    share between threads.
    """

    def __init__(self, bootstrap, timeout=30.0, **options):
        unknown = set(options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise TypeError(f"unknown ClientProxy option(s): {', '.join(sorted(unknown))}")
        options = {**DEFAULT_OPTIONS, **options}
        key = new_client_key()     # proves our id to the instance (security.client_ids)
        self._client_id = client_id_of(key)
        resolver = options["resolver"] or srv_resolver(options["nameserver"])
        hosts = HostList(parse_bootstrap(bootstrap), resolver)
        self._engine = CallEngine(self._client_id, hosts, timeout, options,
                                  _security_settings(options), key)
        self._timeout = timeout
        self._batch = threading.local()     # per thread: futures of an open batch()
        self._threads = threading.local()   # per thread: its number, sent with its calls
        self._thread_numbers = itertools.count(1)    # next() is atomic under the GIL
        lease = options["session_lease"]
        self._session = SessionKeeper(self, lease) if lease else None
        engine = self._engine
        engine.on_park_timeout = lambda number: engine.cancel_wait(number)

    @property
    def client_id(self):
        return self._client_id

    def _invoke(self, method, args=(), kwargs=None):
        """Call ``method`` on the replicated object and return its result (or raise its error)."""
        future = self._invoke_async(method, args, kwargs)
        pending = getattr(self._batch, "futures", None)
        if pending is not None:        # inside `with proxy.batch():` calls do not wait
            pending.append(future)
            return future
        # The engine settles every call by its deadline (a parked call has none: it waits for
        # its wake-up).
        return future.result()

    def call_async(self, method, *args, **kwargs):
        """Call ``method`` without waiting: a concurrent.futures.Future at once. Many calls may
        be in flight on one connection; each still runs exactly once, in the order the
        instance's log gives them."""
        return self._invoke_async(method, args, kwargs)

    @contextlib.contextmanager
    def batch(self):
        """Inside ``with proxy.batch():`` method calls return futures at once and travel
        together (the leader puts calls that arrive together into one log slot); leaving the
        block waits for all of them and raises the first error."""
        if getattr(self._batch, "futures", None) is not None:
            raise RuntimeError("batches do not nest")
        self._batch.futures = futures = []
        try:
            yield futures
        finally:
            self._batch.futures = None
        for future in futures:
            future.result()

    def _invoke_async(self, method, args=(), kwargs=None, internal=False):
        """Like _invoke, but return a concurrent.futures.Future at once."""
        if self._session is not None and not internal:
            self._session.ensure_started()
        return self._engine.submit(method, self._command(method, args, kwargs))

    def _command(self, method, args, kwargs):
        # The server decodes exactly this shape: a 2-element list [args, kwargs].
        try:
            arguments = encode_call_arguments(args, kwargs)
        except TypeError as exc:
            raise TypeError(f"{method}(): {exc} (arguments travel to the replicas as plain "
                            "values; functions and other code never do)") from None
        return Command(self._client_id, self._engine.next_number(), method, arguments,
                       self._thread_number())

    def watch(self, method, *args, callback=None, **kwargs):
        """Follow the result of a @concoord.readonly ``method(*args, **kwargs)``: now, and
        after every command that changes it, in log order (see concoord.client.watch). Iterate
        over the returned Watch (or pass ``callback``, called with each Change); close() it."""
        from concoord.client.watch import Watch
        return Watch(self, method, args, kwargs, callback)

    def _thread_number(self):
        """The calling thread's number in this proxy: the objects' owner of a lock is a thread
        of a client, as threading's is a thread. Numbers are never reused (a thread's ident
        may be), so a new thread never inherits what a finished one held."""
        number = getattr(self._threads, "number", None)
        if number is None:
            number = self._threads.number = next(self._thread_numbers)
        return number

    def close(self):
        """Fail calls still waiting and drop the connection; the proxy cannot be used again."""
        if self._session is not None:
            self._session.stop()
        self._engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        try:
            session = self.__dict__.get("_session")
            if session is not None:
                session.stop()
            engine = self.__dict__.get("_engine")
            if engine is not None:
                engine.close(join=False)
        except Exception:  # noqa: S110 - interpreter shutdown may have torn anything down
            pass

    def __repr__(self):
        return f"<{type(self).__name__} client {self._client_id}>"
