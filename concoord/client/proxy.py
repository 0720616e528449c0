"""ClientProxy: the base of every generated proxy, and the machinery that delivers its calls.

A call becomes a Command numbered by the proxy; the servers execute each (client id, number)
exactly once, so the client may resend the same command as often as it likes: after a redirect,
a dropped connection, or a replica that went silent (a SIGSTOP'd replica still accepts TCP, so
only missing replies reveal it). All calls share one connection; a supervisor thread per proxy
moves it to another replica when needed and resends every call still waiting.
"""

import concurrent.futures
import contextlib
import itertools
import logging
import secrets
import threading
import time

from concoord.client.connection import (HostList, ReplicaConnection, has_port, parse_bootstrap,
                                       srv_resolver)
from concoord.client.session import DEFAULT_LEASE, SessionKeeper
from concoord.errors import ConnectionError, RemoteError, WireError
from concoord.wire.codec import encode_frame
from concoord.wire.messages import BLOCKED, OK, REDIRECT, ClientReply, ClientRequest
from concoord.wire.types import Command
from concoord.wire.values import ExceptionValue, decode_value, encode_call_arguments

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
}
REDIRECT_BACKOFF, FAILURE_BACKOFF, MAX_BACKOFF = 0.02, 0.05, 0.5


class _Call:
    __slots__ = ("method", "number", "frame", "future", "deadline", "generation", "sent_at",
                 "parked")

    def __init__(self, method, number, frame, deadline):
        self.method, self.number, self.frame, self.deadline = method, number, frame, deadline
        self.future = concurrent.futures.Future()
        self.generation = -1      # which connection it was last sent on
        self.sent_at = 0.0
        self.parked = False       # the object parked it: wait for the wake-up, not a reply


def _settle(future, exception=None, result=None):
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)
    except concurrent.futures.InvalidStateError:  # the caller cancelled it
        pass


def _outcome(reply):
    """(exception, result) that a final ClientReply stands for."""
    try:
        value = decode_value(reply.value)
    except WireError as exc:
        return exc, None
    if reply.status == OK:
        return None, value
    if isinstance(value, ExceptionValue):
        return value.to_exception(), None
    return RemoteError("InvalidReply", value), None


class _CallEngine:
    """Calls in flight, the connection they travel on, and the thread that keeps it working.

    It never references the proxy, so a proxy nobody uses any more can be collected (and its
    __del__ stops this engine).
    """

    def __init__(self, client_id, hosts, timeout, options):
        self._client_id = client_id
        self._hosts = hosts
        self._timeout = timeout
        self._attempt_timeout = options["attempt_timeout"]
        self._connect_timeout = options["connect_timeout"]
        self._wake = threading.Condition(threading.Lock())
        self._pending = {}
        self._conn = None
        self._generation = 0
        self._not_before = 0.0        # backoff: no new connection before this time
        self._wakes_at = float("inf")  # when the supervisor will next look without being told
        self._redirects = 0
        self._failures = 0
        self._closed = False
        self._thread = None
        self.on_park_timeout = None   # callable(number): cancel a parked call's wait
        self._numbers = itertools.count(1)
        self._number_lock = threading.Lock()

    def next_number(self):
        """Command numbers: unique per client, so the servers can run each exactly once."""
        with self._number_lock:
            return next(self._numbers)

    def submit(self, method, command):
        frame = encode_frame(ClientRequest(src=self._client_id, command=command))
        now = time.monotonic()
        call = _Call(method, command.number, frame,
                     float("inf") if self._timeout is None else now + self._timeout)
        with self._wake:
            if self._closed:
                raise ConnectionError("the proxy is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._supervise, daemon=True,
                                                name=f"concoord-client-{self._client_id}")
                self._thread.start()
            self._pending[call.number] = call
            conn = self._conn
            if conn is not None:
                call.generation, call.sent_at = self._generation, now
            # The supervisor only needs to know when this call moves its next deadline closer.
            if conn is None or min(call.deadline, now + self._attempt_timeout) < self._wakes_at:
                self._wake.notify()
        if conn is not None:
            conn.send(frame)  # on failure the connection closes and the supervisor resends
        return call.future

    def cancel_wait(self, number):
        """A parked call's own timeout passed: ask the instance to complete it (through the
        log, so the answer is the same everywhere); the wake-up or the cancellation wins."""
        with self._wake:
            call = self._pending.get(number)
            if call is None or self._closed:
                return
        cancel = Command(self._client_id, self.next_number(), "@cancel",
                         encode_call_arguments([number], {}))
        self.submit("@cancel", cancel)

    def close(self, join=True):
        with self._wake:
            self._closed = True
            conn, self._conn = self._conn, None
            calls, self._pending = list(self._pending.values()), {}
            self._wake.notify()
            thread = self._thread
        if conn is not None:
            conn.close()
        for call in calls:
            _settle(call.future, ConnectionError("the proxy was closed"))
        if join and thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    # Reader threads call these two.

    def _on_message(self, conn, msg):
        if type(msg) is not ClientReply or msg.client_id != self._client_id:
            return
        with self._wake:
            call = self._pending.get(msg.number)
            if call is None:
                return  # a duplicate, or the answer to a call that already gave up
            if msg.status == BLOCKED:
                return self._parked(call, msg)
            if msg.status == REDIRECT:
                reason = self._redirected(conn, msg.leader)
            else:
                reason = None
                del self._pending[msg.number]
                self._redirects = 0
        if msg.status == REDIRECT:
            if reason:
                conn.close(reason)  # unlocked: closing calls back into _on_closed
            return
        exception, result = _outcome(msg)
        _settle(call.future, exception, result)

    def _on_closed(self, conn, reason):
        with self._wake:
            self._retire(conn, reason)

    # The rest runs with the lock held, except where noted.

    def _parked(self, call, reply):
        """A blocking method parked the call: wait without a deadline (the object's own park
        timeout, if any, is enforced by asking the instance to cancel the wait)."""
        if call.parked:
            return
        call.parked = True
        call.deadline = float("inf")
        try:
            park_timeout = decode_value(reply.value)
        except WireError:
            park_timeout = None
        if isinstance(park_timeout, (int, float)) and self.on_park_timeout is not None:
            timer = threading.Timer(park_timeout, self.on_park_timeout, (call.number,))
            timer.daemon = True
            timer.start()

    def _redirected(self, conn, hint):
        """Leave ``conn`` for the leader it named; the reason to close it, or None if not current."""
        if conn is not self._conn:
            return None  # other calls redirected on a connection already left behind
        if hint is not None and not has_port(hint):
            log.debug("ignoring malformed leader hint %r from %s", hint, conn.address)
            hint = None
        self._redirects += 1
        count = self._redirects
        # Follow a fresh hint at once; when there is none, or hints go round in circles during
        # an election, wait a little longer each time before asking again.
        if hint and hint != conn.address and count <= 2:
            delay = 0.0
        else:
            delay = min(REDIRECT_BACKOFF * 1.5 ** (count - 1), MAX_BACKOFF)
        reason = f"redirected to {hint}" if hint else "not the leader, no hint"
        return reason if self._retire(conn, reason, hint, delay) else None

    def _retire(self, conn, reason, hint=None, delay=0.0):
        """Stop using ``conn`` if it is still current (True) and choose where to go next.

        The caller closes ``conn`` after releasing the lock.
        """
        if conn is not self._conn:
            return False
        log.debug("leaving %s: %s", conn.address, reason)
        self._conn = None
        self._hosts.note(conn.address, reason)
        if hint:
            self._hosts.prefer(hint)
        else:
            self._hosts.advance()
        self._not_before = time.monotonic() + delay
        self._wake.notify()
        return True

    def _supervise(self):
        try:
            while self._step():
                pass
        except Exception:  # a bug here must not leave callers waiting forever
            log.exception("client supervisor failed")
            self.close(join=False)

    def _step(self):
        """Wait until something needs doing and do it; False once the engine is closed."""
        stale = None
        with self._wake:
            while True:
                if self._closed:
                    return False
                now = time.monotonic()
                expired = [c for c in self._pending.values() if c.deadline <= now]
                if expired:
                    break
                if self._conn is not None and now >= self._silence_deadline():
                    stale = self._conn
                    self._retire(stale, f"no reply within {self._attempt_timeout:g} s")
                    break
                if self._pending and self._conn is None and now >= self._not_before:
                    break
                self._wakes_at = self._next_deadline()
                self._wake.wait(None if self._wakes_at == float("inf") else self._wakes_at - now)
                self._wakes_at = 0.0  # awake: submitters need not notify until it sleeps again
            for call in expired:
                del self._pending[call.number]
            tried = self._hosts.describe()
        for call in expired:
            _settle(call.future, ConnectionError(
                f"no reply to {call.method}() within {self._timeout:g} s; tried {tried}"))
        if stale is not None:
            stale.close(f"no reply within {self._attempt_timeout:g} s")
        elif not expired:
            self._connect()
        return True

    def _silence_deadline(self):
        """When the current replica, owing replies and saying nothing, counts as stopped."""
        sent = [c.sent_at for c in self._pending.values()
                if c.generation == self._generation and not c.parked]
        if not sent:
            return float("inf")
        return max(min(sent), self._conn.last_received) + self._attempt_timeout

    def _next_deadline(self):
        deadline = min((c.deadline for c in self._pending.values()), default=float("inf"))
        if self._conn is not None:
            return min(deadline, self._silence_deadline())
        if self._pending:
            return min(deadline, self._not_before)
        return deadline

    def _connect(self):
        """Open a connection to the next candidate and resend every waiting call on it (unlocked)."""
        with self._wake:
            first_deadline = min((c.deadline for c in self._pending.values()), default=0.0)
            address, error = self._hosts.entry, None
            try:
                address = self._hosts.current()
            except OSError as exc:
                error = exc
        timeout = max(0.05, min(self._connect_timeout, first_deadline - time.monotonic()))
        if error is None:
            try:
                conn = ReplicaConnection.open(address, timeout, self._on_message, self._on_closed)
            except OSError as exc:
                error = exc
        if error is not None:
            self._connect_failed(address, error)
            return
        self._install(conn)

    def _connect_failed(self, address, error):
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        log.debug("cannot connect to %s: %s", address, reason)
        with self._wake:
            self._hosts.note(address, reason)
            self._hosts.advance()
            self._failures += 1
            # Refused connections fail instantly: after a full round of them, pause.
            if self._failures % len(self._hosts) == 0:
                rounds = self._failures // len(self._hosts)
                self._not_before = time.monotonic() + min(
                    FAILURE_BACKOFF * 2 ** (rounds - 1), MAX_BACKOFF)

    def _install(self, conn):
        with self._wake:
            closed = self._closed
            if not closed:
                self._conn = conn
                self._generation += 1
                self._failures = 0
                self._hosts.note(conn.address, None)
                now = time.monotonic()
                calls = list(self._pending.values())
                for call in calls:
                    call.generation, call.sent_at = self._generation, now
        if closed:
            conn.close()
            return
        log.debug("connected to %s; resending %d calls", conn.address, len(calls))
        for call in calls:
            if not conn.send(call.frame):
                break


class ClientProxy:
    """Calls methods of a replicated object; generated proxies subclass it.

    ``bootstrap`` is ``'host:port[,host:port...]'`` or a list of such strings; an entry without
    a port is a domain whose SRV record lists the replicas (``Counter('counterdomain',
    nameserver='127.0.0.1:5353')``). ``timeout`` bounds each call (None: wait forever, e.g. for
    blocking methods); options: ``attempt_timeout``, ``connect_timeout``, ``resolver``,
    ``nameserver``, ``session_lease``. Safe to share between threads.
    """

    def __init__(self, bootstrap, timeout=30.0, **options):
        unknown = set(options) - set(DEFAULT_OPTIONS)
        if unknown:
            raise TypeError(f"unknown ClientProxy option(s): {', '.join(sorted(unknown))}")
        options = {**DEFAULT_OPTIONS, **options}
        self._client_id = secrets.token_hex(8)
        resolver = options["resolver"] or srv_resolver(options["nameserver"])
        hosts = HostList(parse_bootstrap(bootstrap), resolver)
        self._engine = _CallEngine(self._client_id, hosts, timeout, options)
        self._timeout = timeout
        self._batch = threading.local()     # per thread: futures of an open batch()
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
        return Command(self._client_id, self._engine.next_number(), method,
                       encode_call_arguments(args, kwargs))

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
