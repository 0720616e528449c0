"""The user's path through the seed README (sections 3.1, 3.2 and 3.5), with real processes,
and the command line's behaviour on the usual mistakes."""

import re
import subprocess
import sys
import time

import pytest

from tests.integration.conftest import README_COUNTER
from tests.integration.harness import free_port, wait_until

pytestmark = pytest.mark.timeout(120)

# README 3.5, run in a separate Python process; prints one "label value" line per step.
README_SESSION = """
from counterproxy import Counter
c = Counter(BOOTSTRAP)
c.increment()
c.increment()
print("after-two-increments", c.getvalue())
c.__concoordinit__()
c.increment()
print("after-reinit-and-increment", c.getvalue())
"""


def test_readme_counter_end_to_end(harness):
    """3.1: concoordify; 3.2: one replica and one acceptor; 3.5: the client session."""
    work = harness.workdir
    (work / "counter.py").write_text(README_COUNTER)

    result = harness.concoord("object", "-f", "counter.py", "-c", "Counter")
    assert result.returncode == 0, result.stderr
    assert (work / "counter.pyfixed").is_file()
    assert (work / "counter.pyproxy").is_file()

    # "Remember to rename the files back to the original filename"
    (work / "counter.pyfixed").rename(work / "counter.py")
    (work / "counter.pyproxy").rename(work / "counterproxy.py")
    harness.object_file, harness.class_name = "counter.py", "Counter"

    replica = harness.start_replica()
    acceptor = harness.start_acceptor(replica)
    assert replica.log().startswith(f"concoord replica {replica.address} serving Counter")
    assert acceptor.log().startswith(f"concoord acceptor {acceptor.address}")
    status = replica.status()
    assert status["role"] == "replica"
    assert status["replicas"] == [replica.address]
    assert status["acceptors"] == [acceptor.address]
    assert status["object"] == "The counter value is 0"

    out = harness.run_client(README_SESSION, bootstrap=replica).stdout.split("\n")
    assert out[:2] == ["after-two-increments 2", "after-reinit-and-increment 1"]
    assert replica.status()["object"] == "The counter value is 1"

    # A second client connects without re-initialising the object (README 3.5, note 2).
    out = harness.run_client("from counterproxy import Counter\n"
                             "print(Counter(BOOTSTRAP).getvalue())", bootstrap=replica)
    assert out.stdout.strip() == "1"

    # `concoord status` is what the task statement tells operators to use.
    result = harness.concoord("status", "-b", replica.address, "--json")
    assert result.returncode == 0, result.stderr
    assert '"object": "The counter value is 1"' in result.stdout


def test_readme_safe_flag(harness):
    """The README's exact command includes -s."""
    (harness.workdir / "counter.py").write_text(README_COUNTER)
    result = harness.concoord("object", "-f", "counter.py", "-c", "Counter", "-s")
    assert result.returncode == 0, result.stderr
    assert (harness.workdir / "counter.pyfixed").is_file()
    assert (harness.workdir / "counter.pyproxy").is_file()


def _one_line_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_object_missing_file(harness):
    result = harness.concoord("object", "-f", "nosuchfile.py", "-c", "Counter")
    _one_line_error(result, "nosuchfile.py")
    assert not list(harness.workdir.iterdir())


def test_object_syntax_error(harness):
    (harness.workdir / "broken.py").write_text("class Counter(:\n    pass\n")
    result = harness.concoord("object", "-f", "broken.py", "-c", "Counter")
    _one_line_error(result, "broken.py", "syntax")
    assert not (harness.workdir / "broken.pyfixed").exists()
    assert not (harness.workdir / "broken.pyproxy").exists()


def test_object_missing_class(harness):
    (harness.workdir / "counter.py").write_text(README_COUNTER)
    result = harness.concoord("object", "-f", "counter.py", "-c", "Missing")
    _one_line_error(result, "Missing")
    assert not (harness.workdir / "counter.pyfixed").exists()
    assert not (harness.workdir / "counter.pyproxy").exists()


SUBCOMMAND_FLAGS = {
    "object": ["-f", "-c", "-s"],
    "replica": ["-f", "-c", "-o", "-a", "-p", "-b"],
    "acceptor": ["-a", "-p", "-b"],
    "status": ["-b", "--json"],
}


def test_help(harness):
    result = harness.concoord("--help")
    assert result.returncode == 0, result.stderr
    for command in SUBCOMMAND_FLAGS:
        assert command in result.stdout
    for command, flags in SUBCOMMAND_FLAGS.items():
        result = harness.concoord(command, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: concoord {command}")
        for flag in flags:
            assert re.search(rf"(^|[\s\[]){re.escape(flag)}\b", result.stdout), (command, flag)


def test_replica_bad_flag(harness):
    result = harness.concoord("replica", "-f", "counter.py", "-c", "Counter", "--no-such-flag")
    assert result.returncode == 2
    assert "--no-such-flag" in result.stderr
    assert "Traceback" not in result.stderr


def test_replica_bad_port(harness):
    result = harness.concoord("replica", "-f", "counter.py", "-c", "Counter", "-p", "99999")
    assert result.returncode == 2
    assert "99999" in result.stderr


def test_acceptor_dead_bootstrap(harness):
    """Nothing listens on 127.0.0.1:1: a clear one-line error and a non-zero exit, quickly."""
    started = time.monotonic()
    result = harness.concoord("acceptor", "-b", "127.0.0.1:1", "-p", free_port(), timeout=40)
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < 35
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("concoord acceptor: error:")
    assert "127.0.0.1:1" in lines[0]
    assert "Traceback" not in result.stderr


def test_replica_dead_bootstrap(counter_harness):
    h = counter_harness
    result = h.concoord("replica", "-f", "counter.py", "-c", "Counter", "-b", "127.0.0.1:1",
                        "-p", free_port(), timeout=40)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("concoord replica: error:")
    assert "127.0.0.1:1" in lines[0]


def _exit_or_join(harness, node, through, timeout=40):
    """Wait until ``node`` has exited (returns its log) or is listed in the view (None)."""
    key = node.role + "s"

    def settled():
        if not node.alive:
            return "exited"
        return "joined" if node.address in through.status(timeout=1.0)[key] else None
    return node.log() if wait_until(settled, timeout) == "exited" else None


def test_replica_bootstrapped_through_an_acceptor(counter_harness):
    """Joining through an acceptor alone: refused with one clear line (or it joins)."""
    h = counter_harness
    replica = h.start_replica()
    acceptor = h.start_acceptor(replica)
    node = h.start_replica(bootstrap=acceptor.address, wait=False)
    log = _exit_or_join(h, node, replica)
    if log is not None:  # refusing is fine, but with one clear line, not a traceback
        assert "Traceback" not in log, log
        errors = [line for line in log.splitlines() if "error" in line.lower()]
        assert len(errors) == 1 and errors[0].startswith("concoord replica: error:"), log


@pytest.mark.parametrize("role", ["replica", "acceptor"])
def test_bootstrap_list_starting_with_an_acceptor(counter_harness, role):
    h = counter_harness
    replica = h.start_replica()
    acceptor = h.start_acceptor(replica)
    boot = f"{acceptor.address},{replica.address}"
    if role == "replica":
        node = h.start_replica(bootstrap=boot, wait=False)
    else:
        node = h.start_acceptor(boot, wait=False)
    log = _exit_or_join(h, node, replica)
    assert log is None, f"the {role} did not join:\n{log}"
