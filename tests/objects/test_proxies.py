"""The checked-in proxies in concoord.proxy: up to date, faithful to their objects, and usable
the documented way (replicas started with ``-o concoord.objects.NAME.Class``)."""

import importlib
import inspect
import signal
import subprocess
import sys

import pytest

from concoord.client.proxy import ClientProxy
from concoord.proxy import regenerate
from tests.integration.harness import HOST, REPO, free_port, wait_until
from tests.objects.conftest import CLASS_NAMES

pytestmark = pytest.mark.timeout(60)


def test_checked_in_proxies_are_what_the_generator_makes_now():
    assert regenerate.stale_proxies() == [], \
        "stale proxies: run `python -m concoord.proxy.regenerate`"


def test_regenerate_check_command():
    result = subprocess.run([sys.executable, "-m", "concoord.proxy.regenerate", "--check"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_library_object_has_a_proxy():
    assert sorted(f"{m}.py" for m in CLASS_NAMES) == regenerate.object_modules()


@pytest.mark.parametrize("module", sorted(CLASS_NAMES))
def test_proxy_offers_every_public_method_with_its_signature(module):
    obj_class = getattr(importlib.import_module(f"concoord.objects.{module}"),
                        CLASS_NAMES[module])
    proxy_class = getattr(importlib.import_module(f"concoord.proxy.{module}"),
                          CLASS_NAMES[module])
    assert issubclass(proxy_class, ClientProxy)
    public = [n for n, f in inspect.getmembers(obj_class, inspect.isfunction)
              if not n.startswith("_")]
    for name in public:
        assert inspect.signature(getattr(proxy_class, name)) == \
            inspect.signature(getattr(obj_class, name)), name
    init = inspect.signature(obj_class.__init__)
    assert inspect.signature(proxy_class.__concoordinit__) == init
    # ``with obj:`` runs on the replicas exactly for the objects that are context managers.
    is_context_manager = hasattr(obj_class, "__enter__")
    assert (proxy_class.__enter__ is not ClientProxy.__enter__) == is_context_manager
    assert (proxy_class.__exit__ is not ClientProxy.__exit__) == is_context_manager


@pytest.fixture
def dotted_lock(tmp_path):
    """A replica started as the docs say (-o concoord.objects.lock.Lock) and an acceptor."""
    replica_port, acceptor_port = free_port(), free_port()
    replica = f"{HOST}:{replica_port}"
    commands = [["replica", "-o", "concoord.objects.lock.Lock", "-p", str(replica_port)],
                ["acceptor", "-b", replica, "-p", str(acceptor_port)]]
    procs = []
    try:
        for args in commands:
            log = open(tmp_path / f"{args[0]}.log", "wb")
            procs.append(subprocess.Popen([sys.executable, "-m", "concoord", *args], cwd=REPO,
                                          stdout=log, stderr=subprocess.STDOUT))
            log.close()
            if args[0] == "replica":
                wait_until(lambda: _status(replica), 30, message="the replica to answer")
        wait_until(lambda: len(_status(replica)["acceptors"]) == 1, 30,
                   message="the acceptor to join")
        yield replica
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _status(address):
    from concoord.client.status import query_status
    return query_status(address, timeout=1.0)


def test_with_lock_runs_enter_and_exit_on_the_replicas(dotted_lock):
    from concoord.proxy.lock import Lock
    lock, other = Lock(dotted_lock), Lock(dotted_lock)
    try:
        with lock as token:
            assert token == 1
            assert other.locked() and other.acquire(blocking=False) is False
        assert not other.locked()
        with pytest.raises(ZeroDivisionError):
            with lock:
                1 / 0            # the body's error propagates; the lock is still released
        assert not other.locked()
        assert other.acquire() == 3
        lock.release()           # as with threading.Lock, anyone may release a held lock
        assert not other.locked()
        with pytest.raises(RuntimeError, match="release unlocked lock"):
            lock.release()
    finally:
        lock.close()
        other.close()
