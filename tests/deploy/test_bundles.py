"""`make server` / `make client` bundles run a replica, an acceptor and a client from a
directory with no checkout, on a Python that sees neither the repository nor any installed
package (-I: no PYTHONPATH, no user site; -S: no site-packages)."""

import subprocess
import sys
import time

import pytest

from concoord.client.status import query_status
from concoord.errors import ConnectionError
from tests.deploy.conftest import COUNTER, CONCOORD, REPO
from tests.deploy.sshd import kill_processes_under
from tests.integration.harness import free_port

pytestmark = pytest.mark.timeout(90)
BARE_PYTHON = [sys.executable, "-I", "-S"]
CLIENT = """
import sys
sys.path.append({bundle!r})
import concoord, msgpack
from counterproxy import Counter
c = Counter({boot!r})
c.increment()
print(c.getvalue(), concoord.__file__, msgpack.__file__)
"""


@pytest.fixture
def bundles(tmp_path):
    """Both bundles built into tmp_path by `concoord bundle`, the Counter inside each."""
    (tmp_path / "counter.py").write_text(COUNTER)
    subprocess.run([*CONCOORD, "object", "-f", "counter.py", "-c", "Counter"], cwd=tmp_path,
                   check=True, capture_output=True)
    built = {}
    for kind, object_file in (("server", "counter.pyfixed"), ("client", "counter.pyproxy")):
        output = tmp_path / "dist" / f"concoord-{kind}.pyz"
        subprocess.run([*CONCOORD, "bundle", kind, "-o", str(output), "--object",
                        str(tmp_path / object_file)], cwd=REPO, check=True, capture_output=True)
        built[kind] = output
    return built


@pytest.fixture
def empty_dir(tmp_path):
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    yield directory
    kill_processes_under(directory)


def _start(empty_dir, bundle, *args):
    log = open(empty_dir / f"{args[0]}.log", "wb")
    with log:
        return subprocess.Popen([*BARE_PYTHON, str(bundle), *args], cwd=empty_dir, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _wait(predicate, proc, log, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if predicate():
                return
        except ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out; log:\n{log.read_text()}")


def test_server_and_client_bundles_run_without_a_checkout(bundles, empty_dir):
    replica_address = f"127.0.0.1:{free_port()}"
    replica = _start(empty_dir, bundles["server"], "replica", "-o", "counter.Counter",
                     "-a", "127.0.0.1", "-p", replica_address.split(":")[1])
    _wait(lambda: query_status(replica_address, 1.0), replica, empty_dir / "replica.log")
    acceptor = _start(empty_dir, bundles["server"], "acceptor", "-a", "127.0.0.1", "-p",
                      str(free_port()), "-b", replica_address)
    _wait(lambda: query_status(replica_address, 1.0)["acceptors"], acceptor,
          empty_dir / "acceptor.log")

    client = subprocess.run([*BARE_PYTHON, "-c", CLIENT.format(bundle=str(bundles["client"]),
                                                               boot=replica_address)],
                            cwd=empty_dir, capture_output=True, text=True, timeout=60)
    assert client.returncode == 0, client.stderr
    value, concoord_file, msgpack_file = client.stdout.split()
    assert value == "1"
    assert concoord_file.startswith(str(bundles["client"]))   # not the checkout
    assert msgpack_file.startswith(str(bundles["client"]))    # the bundled pure-Python one
    replica.terminate()
    acceptor.terminate()
    assert replica.wait(10) == 0 and acceptor.wait(10) == 0


def test_bundle_refuses_an_object_that_would_shadow_its_packages(tmp_path):
    shadow = tmp_path / "msgpack.py"
    shadow.write_text("x = 1\n")
    result = subprocess.run([*CONCOORD, "bundle", "server", "-o", str(tmp_path / "s.pyz"),
                             "--object", str(shadow)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    assert "would shadow" in result.stderr
