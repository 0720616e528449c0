"""ClientProxy against fake replicas: raw TCP servers speaking the codec, in threads."""

import gc
import random
import socket
import threading
import time

import pytest

from concoord.client.proxy import ClientProxy
from concoord.errors import ConnectionError, RemoteError
from concoord.security.client_ids import client_id_of
from concoord.wire.codec import FrameReader, encode_frame
from concoord.wire.messages import EXCEPTION, OK, REDIRECT, REJECTED, ClientReply, ClientRequest
from concoord.wire.values import ExceptionValue, decode_value, encode_value

HOST = "127.0.0.1"


def reply(request, status=OK, value=None, leader=None):
    return ClientReply(src="fake", client_id=request.command.client_id,
                       number=request.command.number, status=status,
                       value=encode_value(value), leader=leader)


def echo(request):
    """Answer every call with (method, args, kwargs) as the server decoded them."""
    args, kwargs = decode_value(request.command.args)
    return reply(request, value=[request.command.method, args, kwargs])


class FakeReplica:
    """A listener whose ``handler(request)`` returns the reply to send (or None for silence)."""

    def __init__(self, handler=echo, concurrent=False):
        self.handler = handler
        self.concurrent = concurrent
        self.requests = []
        self.lock = threading.Lock()
        self.listener = socket.create_server((HOST, 0))
        self.address = "%s:%d" % self.listener.getsockname()
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def numbers(self):
        with self.lock:
            return [r.command.number for r in self.requests]

    def _accept(self):
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        reader, send_lock = FrameReader(), threading.Lock()
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                for request in reader.feed(data):
                    assert isinstance(request, ClientRequest)
                    with self.lock:
                        self.requests.append(request)
                    if self.concurrent:
                        threading.Thread(target=self._answer, daemon=True,
                                         args=(sock, send_lock, request)).start()
                    else:
                        self._answer(sock, send_lock, request)
        except OSError:
            return

    def _answer(self, sock, send_lock, request):
        answer = self.handler(request)
        if answer == "close":
            sock.close()
        elif answer is not None:
            with send_lock:
                sock.sendall(encode_frame(answer))

    def stop(self):
        self.listener.close()
        for sock in self.connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


@pytest.fixture
def replicas():
    made = []

    def make(*args, **kwargs):
        made.append(FakeReplica(*args, **kwargs))
        return made[-1]

    yield make
    for replica in made:
        replica.stop()


@pytest.fixture
def proxies():
    made = []

    def make(*args, **kwargs):
        # These fake replicas answer method calls only: no session (tested with real nodes).
        kwargs.setdefault("session_lease", None)
        made.append(ClientProxy(*args, **kwargs))
        return made[-1]

    yield make
    for proxy in made:
        proxy.close()


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def test_ok_returns_the_value_and_numbers_increase(replicas, proxies):
    replica = replicas()
    proxy = proxies(replica.address)
    assert proxy._invoke("add", (1, (2, 3)), {"x": {4}}) == ["add", [1, (2, 3)], {"x": {4}}]
    assert proxy._invoke("get", (), {}) == ["get", [], {}]
    assert replica.numbers() == [1, 2]
    # Every request carries the client's key as src, and the id derived from it.
    assert {client_id_of(r.src) for r in replica.requests} == {proxy.client_id}
    assert {r.command.client_id for r in replica.requests} == {proxy.client_id}


def raiser(value, status=EXCEPTION):
    return lambda request: reply(request, status, value)


def test_exception_reraises_builtins_as_themselves(replicas, proxies):
    proxy = proxies(replicas(raiser(ValueError("bad", 7))).address)
    with pytest.raises(ValueError) as info:
        proxy._invoke("f", (), {})
    assert info.value.args == ("bad", 7)


def test_exception_of_unknown_type_is_remote_error(replicas, proxies):
    proxy = proxies(replicas(raiser(ExceptionValue("InsufficientFunds", ["acct", 5]))).address)
    with pytest.raises(RemoteError) as info:
        proxy._invoke("withdraw", (5,), {})
    assert info.value.type_name == "InsufficientFunds"
    assert info.value.remote_args == ("acct", 5)


def test_rejected_raises_the_reason(replicas, proxies):
    proxy = proxies(replicas(raiser(PermissionError("private"), REJECTED)).address)
    with pytest.raises(PermissionError, match="private"):
        proxy._invoke("_secret", (), {})


def test_redirect_is_followed_with_the_same_number(replicas, proxies):
    leader = replicas()
    follower = replicas(lambda request: reply(request, REDIRECT, None, leader=leader.address))
    proxy = proxies(follower.address)
    assert proxy._invoke("get", (), {}) == ["get", [], {}]
    assert proxy._invoke("get", (), {}) == ["get", [], {}]
    assert follower.numbers() == [1]
    assert leader.numbers() == [1, 2]


def test_redirect_without_hint_tries_the_next_host(replicas, proxies):
    follower = replicas(lambda request: reply(request, REDIRECT, None, leader=None))
    leader = replicas()
    proxy = proxies([follower.address, leader.address])
    assert proxy._invoke("get", (), {}) == ["get", [], {}]
    assert follower.numbers() == [1] and leader.numbers() == [1]


def test_silent_replica_is_left_after_attempt_timeout(replicas, proxies):
    stopped = replicas(lambda request: None)  # like a SIGSTOP'd process: accepts, never answers
    working = replicas()
    proxy = proxies(f"{stopped.address},{working.address}", attempt_timeout=0.3)
    start = time.monotonic()
    assert proxy._invoke("get", (), {}) == ["get", [], {}]
    assert 0.25 < time.monotonic() - start < 3.0
    assert stopped.numbers() == [1] and working.numbers() == [1]


def test_closed_connection_resends_elsewhere(replicas, proxies):
    crashing = replicas(lambda request: "close")
    working = replicas()
    proxy = proxies(f"{crashing.address},{working.address}")
    assert proxy._invoke("get", (), {}) == ["get", [], {}]
    assert crashing.numbers() == [1] and working.numbers() == [1]


def test_unreachable_bootstrap_raises_connection_error_naming_hosts(proxies):
    hosts = [f"{HOST}:{free_port()}", f"{HOST}:{free_port()}"]
    proxy = proxies(",".join(hosts), timeout=1.0)
    start = time.monotonic()
    with pytest.raises(ConnectionError) as info:
        proxy._invoke("get", (), {})
    assert time.monotonic() - start < 2.0
    message = str(info.value)
    assert "\n" not in message
    assert all(host in message for host in hosts)


def test_threads_sharing_a_proxy_get_their_own_replies(replicas, proxies):
    def shuffled_echo(request):
        time.sleep(random.random() * 0.002)  # replies come back out of order
        return echo(request)

    replica = replicas(shuffled_echo, concurrent=True)
    proxy = proxies(replica.address)
    errors = []

    def worker(k):
        try:
            for i in range(100):
                assert proxy._invoke("echo", (k, i), {}) == ["echo", [k, i], {}]
        except Exception as exc:  # reported below: pytest cannot see thread failures
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(replica.numbers()) == list(range(1, 801))


def test_duplicate_replies_are_ignored(replicas, proxies):
    replica = replicas()
    proxy = proxies(replica.address)
    original = FakeReplica._answer

    def answer_twice(self, sock, send_lock, request):
        original(self, sock, send_lock, request)
        original(self, sock, send_lock, request)

    replica._answer = answer_twice.__get__(replica)
    for i in range(20):
        assert proxy._invoke("echo", (i,), {}) == ["echo", [i], {}]


def test_async_calls_pipeline_on_one_connection(replicas, proxies):
    replica = replicas()
    proxy = proxies(replica.address)
    futures = [proxy._invoke_async("echo", (i,), {}) for i in range(1000)]
    assert [f.result(10) for f in futures] == [["echo", [i], {}] for i in range(1000)]
    assert len(replica.connections) == 1


def test_generated_style_subclass(replicas):
    class Counter(ClientProxy):
        def __init__(self, bootstrap):
            super().__init__(bootstrap)

        def increment(self, by=1):
            return self._invoke("increment", (by,), {})

        def close(self):  # a user method may shadow close(); the proxy still cleans up
            return self._invoke("close", (), {})

    counter = Counter(replicas().address)
    assert counter.increment(5) == ["increment", [5], {}]
    assert counter.close() == ["close", [], {}]
    del counter
    gc.collect()


def test_close_fails_waiting_calls_and_del_is_quiet(replicas):
    proxy = ClientProxy(replicas(lambda request: None).address, attempt_timeout=30,
                        session_lease=None)
    future = proxy._invoke_async("get", (), {})
    time.sleep(0.1)
    proxy.close()
    with pytest.raises(ConnectionError):
        future.result(5)
    with pytest.raises(ConnectionError):
        proxy._invoke("get", (), {})
    proxy.__del__()
    half_built = ClientProxy.__new__(ClientProxy)
    half_built.__del__()


def test_unknown_option_and_bad_bootstrap_are_refused():
    with pytest.raises(TypeError, match="attempt_timout"):
        ClientProxy(f"{HOST}:1", attempt_timout=1)
    with pytest.raises(ValueError):
        ClientProxy(" , ")


def test_names_resolve_through_the_resolver(replicas, proxies):
    replica = replicas()
    proxy = proxies("counterdomain", resolver=lambda name: [replica.address])
    assert proxy._invoke("get", (), {}) == ["get", [], {}]


def test_the_client_library_imports_nothing_of_the_nodes():
    """Layering: a client needs the wire, security and its own modules only (issue 14)."""
    import subprocess
    import sys
    code = ("import sys, concoord.client.proxy, concoord.client.instance_status\n"
            "print(sorted(m for m in sys.modules if m.startswith(('concoord.runtime', "
            "'concoord.protocol', 'concoord.objects', 'concoord.codegen'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_a_command_is_not_resent_past_the_resend_horizon(replicas, proxies, monkeypatch):
    """The instance forgets a client silent for an hour (host/client_table.py): a resend
    long after the first send might then run the command again, so it fails instead, as a
    call that may have run."""
    from concoord.client import engine
    monkeypatch.setattr(engine, "RESEND_HORIZON", 0.5)
    silent = replicas(lambda request: None)
    proxy = proxies(silent.address, attempt_timeout=0.2, timeout=5.0)
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="may have run") as info:
        proxy._invoke("get", (), {})
    assert info.value.concoord_maybe_ran and time.monotonic() - start < 2.0
    assert len(silent.numbers()) >= 2, "resent until the horizon"
