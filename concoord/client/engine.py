"""The machinery that delivers a proxy's calls: numbered commands in flight, the one connection
they travel on, and the supervisor thread that moves it to another replica when needed.

A call becomes a Command numbered by the engine; the servers execute each (client id, number)
exactly once, so the engine may resend the same command as often as it likes: after a
redirect, a dropped connection, or a replica that went silent (a SIGSTOP'd replica still
accepts TCP, so only missing replies reveal it).
"""

import concurrent.futures
import itertools
import logging
import threading
import time

from concoord.client.connection import ReplicaConnection, has_port
from concoord.errors import AuthenticationError, ConnectionError, RemoteError, WireError
from concoord.wire.codec import encode_frame
from concoord.wire.messages import (BLOCKED, MAYBE_RAN, NOTIFY, OK, REDIRECT, REJECTED,
                                   ClientReply, ClientRequest)
from concoord.wire.types import Command
from concoord.wire.values import ExceptionValue, decode_value, encode_call_arguments

log = logging.getLogger("concoord.client")

# Capped at a third of the default election timeout (0.3 s): while a new leader is being
# elected, followers still name the old one, and a client that had backed off to 0.5 s found
# the new leader up to half a second late (W5's tail). Asking again every 0.1 s costs a few
# small requests per client during a failover.
REDIRECT_BACKOFF, FAILURE_BACKOFF, MAX_BACKOFF = 0.02, 0.05, 0.1
# A command is never resent longer than this after it was first sent: the instance forgets a
# client silent for an hour (concoord.host.client_table.IDLE_FORGET), and a resend must still
# find the reply of a command that ran. Past it, the call fails as one that may have run.
# (A parked call keeps waiting: the instance never forgets a client by age once it parked.)
RESEND_HORIZON = 600.0


class _Call:
    __slots__ = ("method", "number", "frame", "future", "deadline", "generation", "sent_at",
                 "first_sent", "parked", "on_notify", "refresh")

    def __init__(self, method, number, frame, deadline):
        self.method, self.number, self.frame, self.deadline = method, number, frame, deadline
        self.future = concurrent.futures.Future()
        self.generation = -1      # which connection it was last sent on
        self.sent_at = 0.0
        self.first_sent = time.monotonic()
        self.parked = False       # the object parked it: wait for the wake-up, not a reply
        self.on_notify = None     # a watch: callable(encoded notification), for every NOTIFY
        self.refresh = None       # a watch: callable() -> the frame to resend (its last tag)


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
        exception = value.to_exception()
        # Refused by the instance (not a method, not allowed, ...): it never ran; unless the
        # refusal says the instance no longer knows (session expired, stale number).
        maybe_ran = bool(value.args) and value.args[0] in MAYBE_RAN
        exception.concoord_refused = reply.status == REJECTED and not maybe_ran
        exception.concoord_maybe_ran = reply.status == REJECTED and maybe_ran
        return exception, None
    return RemoteError("InvalidReply", value), None


def _may_have_run(call):
    error = ConnectionError(f"no reply to {call.method}() within {RESEND_HORIZON:g} s of "
                            "sending it: it may have run")
    error.concoord_maybe_ran = True
    return error


class CallEngine:
    """Calls in flight, the connection they travel on, and the thread that keeps it working.

    It never references the proxy, so a proxy nobody uses any more can be collected (and its
    __del__ stops this engine).
    """

    def __init__(self, client_id, hosts, timeout, options, settings, client_key):
        self._client_id = client_id
        self._client_key = client_key   # sent as every request's src: it proves client_id
        self._security, self._role = settings, options["role"]
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

    def request_frame(self, command):
        """The frame of a request: its src is this client's key, which proves its id."""
        return encode_frame(ClientRequest(src=self._client_key, command=command))

    def submit(self, method, command, watch=None):
        """Send a call; its future settles with the reply. ``watch``: (on_notify, refresh) for
        a standing @watch, which never settles until cancelled (see concoord.client.watch)."""
        frame = self.request_frame(command)
        now = time.monotonic()
        call = _Call(method, command.number, frame,
                     float("inf") if self._timeout is None or watch else now + self._timeout)
        if watch is not None:
            call.on_notify, call.refresh = watch
        with self._wake:
            if self._closed:
                raise ConnectionError("the proxy is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._supervise, daemon=True,
                                                name=f"concoord-client-{self._client_id}")
                self._thread.start()
            self._pending[call.number] = call
            behind = len(self._pending) > 1      # pipelining: group this frame with others
            conn = self._conn
            if conn is not None:
                call.generation, call.sent_at = self._generation, now
            # The supervisor only needs to know when this call moves its next deadline closer.
            if conn is None or min(call.deadline, now + self._attempt_timeout) < self._wakes_at:
                self._wake.notify()
        if conn is not None:
            # On failure the connection closes and the supervisor resends.
            conn.send(frame, behind=behind)
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

    def cancel_watch(self, number, command):
        """Stop a watch: forget it here and tell the leader (best effort: a leader that never
        hears it drops the watch when this client's connection closes)."""
        with self._wake:
            call = self._pending.pop(number, None)
            conn = self._conn
        if call is not None:
            _settle(call.future, None, None)
        if conn is not None:
            conn.send(self.request_frame(command))

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
            notify = call.on_notify if msg.status == NOTIFY else None
            if notify is not None:
                call.parked = True          # answered: no reply is owed any more
                self._redirects = 0
            elif msg.status == REDIRECT:
                reason = self._redirected(conn, msg.leader)
            else:
                reason = None
                del self._pending[msg.number]
                self._redirects = 0
        if notify is not None:
            return notify(msg.value)     # unlocked: the watch's callback may call the proxy
        if msg.status == REDIRECT:
            if reason:
                conn.close(reason)  # unlocked: closing calls back into _on_closed
            return
        exception, result = _outcome(msg)
        _settle(call.future, exception, result)

    def _on_closed(self, conn, reason):
        if isinstance(reason, AuthenticationError):
            self._fail_all(reason)
        with self._wake:
            self._retire(conn, reason)

    def _fail_all(self, error):
        """Authentication failed: no replica will answer, so fail every waiting call now."""
        with self._wake:
            calls, self._pending = list(self._pending.values()), {}
        for call in calls:
            _settle(call.future, error)

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
                conn = ReplicaConnection.open(address, timeout, self._on_message, self._on_closed,
                                              self._security, self._role)
            except OSError as exc:
                error = exc
            except AuthenticationError as exc:
                self._fail_all(exc)
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

    def _past_resend_horizon(self, now):
        """Take out the calls that may no longer be resent (see RESEND_HORIZON)."""
        too_old = [c for c in self._pending.values() if not c.parked and c.refresh is None
                   and now - c.first_sent > RESEND_HORIZON]
        for call in too_old:
            del self._pending[call.number]
        return too_old

    def _install(self, conn):
        too_old = []
        with self._wake:
            closed = self._closed
            if not closed:
                self._conn = conn
                self._generation += 1
                self._failures = 0
                self._hosts.note(conn.address, None)
                now = time.monotonic()
                too_old = self._past_resend_horizon(now)
                calls = list(self._pending.values())
                for call in calls:
                    call.generation, call.sent_at = self._generation, now
        for call in too_old:
            _settle(call.future, _may_have_run(call))
        if closed:
            conn.close()
            return
        log.debug("connected to %s; resending %d calls", conn.address, len(calls))
        for call in calls:
            if call.refresh is not None:       # a watch says which notifications it has seen
                call.frame, call.parked = call.refresh(), False
            if not conn.send(call.frame):
                break
