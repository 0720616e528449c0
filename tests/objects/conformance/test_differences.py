"""Where ConCoord's objects deliberately differ from threading's, each difference as documented
in the object's docstring and the README, and what a proxy imports."""

import subprocess
import sys
import threading
import time

import pytest

from concoord.errors import RemoteError
from tests.integration.harness import REPO
from tests.objects.conformance.world import KINDS, new_proxy

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def proxy_of(object_cluster):
    """``proxy_of(kind, *init_args)``: a proxy of a fresh object (closed after the test)."""
    made = []

    def make(kind, *args, **kwargs):
        proxy = new_proxy(kind, object_cluster(KINDS[kind][3]))
        made.append(proxy)
        proxy.__concoordinit__(*args, **kwargs)
        return proxy
    yield make
    for proxy in made:
        proxy.close()


def test_lock_refuses_a_blocking_reacquire_by_its_holder_instead_of_deadlocking(proxy_of):
    lock = proxy_of("Lock")
    lock.acquire()
    with pytest.raises(RuntimeError, match="already holds the lock"):
        lock.acquire()                            # threading.Lock would wait for ever
    started = time.monotonic()
    assert lock.acquire(timeout=0.3) is False     # with a timeout it waits, like threading
    assert time.monotonic() - started >= 0.25
    assert lock.locked()


def test_lock_acquire_by_the_holder_with_a_timeout_gets_it_when_another_thread_releases(proxy_of):
    lock = proxy_of("Lock")
    lock.acquire()
    releaser = threading.Timer(0.3, lock.release)
    releaser.start()
    assert lock.acquire(timeout=5.0)              # as threading.Lock does
    releaser.join()


def test_acquire_returns_a_fencing_token_that_grows_with_every_grant(proxy_of):
    lock, rlock = proxy_of("Lock"), proxy_of("RLock")
    tokens = []
    for _ in range(3):
        tokens.append(lock.acquire())
        lock.release()
    assert tokens == sorted(set(tokens)) and all(type(t) is int and t for t in tokens)
    assert rlock.acquire() == rlock.acquire()     # re-entry returns the owner's token


def test_acquire_accepts_timeout_none(proxy_of):
    # threading raises TypeError for timeout=None; ConCoord always read it as "no limit".
    assert proxy_of("Lock").acquire(timeout=None)
    assert proxy_of("RLock").acquire(True, None)


def test_barrier_refuses_an_action_and_defaults_to_two_parties(proxy_of):
    barrier = proxy_of("Barrier")                 # replicas create it without arguments
    barrier.__concoordinit__()
    assert barrier.parties == 2 and barrier.n_waiting == 0 and barrier.broken is False
    with pytest.raises(TypeError, match="functions and other code never"):
        barrier.__concoordinit__(3, print)        # a callable cannot even be sent
    with pytest.raises(TypeError, match="action cannot run on the replicas"):
        barrier.__concoordinit__(3, "print")
    assert barrier.parties == 2                   # refused: the object is unchanged


def test_properties_are_properties_on_the_proxy():
    from concoord.proxy.barrier import Barrier
    for name in ("parties", "n_waiting", "broken"):
        assert isinstance(getattr(Barrier, name), property), name


def test_wait_for_runs_in_the_client_only(proxy_of):
    cond = proxy_of("Condition")
    with pytest.raises(RuntimeError, match="runs in the client"):   # refused, never run
        cond._invoke("wait_for", (None,), {})


def test_other_exception_types_arrive_as_remote_error(proxy_of):
    # Only builtins and the declared standard types (queue.Empty, queue.Full,
    # threading.BrokenBarrierError) keep their type; see concoord/wire/exception_types.py.
    from concoord.wire.values import ExceptionValue
    exc = ExceptionValue("Empty", []).to_exception()          # a user's own "Empty"
    assert isinstance(exc, RemoteError)
    import queue
    assert type(ExceptionValue.from_exception(queue.Empty()).to_exception()) is queue.Empty


# The server side a client never needs (the client library shares concoord.runtime.ports, its
# address and socket helpers, with the nodes: that one is not server-only).
PROXY_IMPORTS = """
import sys
import concoord.proxy.{module}
server = sorted(m for m in sys.modules if m.split('.')[:2] in (
    ['concoord', 'blocking'], ['concoord', 'determinism'], ['concoord', 'objects'],
    ['concoord', 'protocol'], ['concoord', 'codegen']))
print(server)
"""


@pytest.mark.parametrize("module", ["lock", "rlock", "condition", "barrier", "queue",
                                    "semaphore", "bounded_semaphore", "event", "job_manager"])
def test_a_proxy_imports_only_the_client_library(module):
    result = subprocess.run([sys.executable, "-c", PROXY_IMPORTS.format(module=module)],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
