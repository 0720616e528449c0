"""The network log handler and `concoord logdaemon`: lines from nodes arrive, one per record,
with timestamps; a missing or hostile peer never blocks a node or the terminal."""

import io
import logging
import socket
import subprocess
import threading
import time

import pytest

from concoord.deploy.logdaemon import LogDaemon, render
from concoord.deploy.netlog import attach_network_handler
from tests.deploy.conftest import CONCOORD, REPO
from tests.integration.harness import free_port

pytestmark = pytest.mark.timeout(60)


class Lines(io.StringIO):
    def lines(self):
        return self.getvalue().splitlines()


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def daemon():
    out = Lines()
    daemon = LogDaemon("127.0.0.1", free_port(), out).start()
    yield daemon, out
    daemon.stop()


def test_records_arrive_one_line_each_with_node_role_and_time(daemon):
    sink, out = daemon
    logger = logging.getLogger("test.netlog.arrive")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = attach_network_handler(sink.address, "10.0.0.1:14000", "replica", logger)
    try:
        logger.info("joined as %s", "replica")
        logger.warning("two\nlines")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
        _wait_for(lambda: len(out.lines()) >= 3)
    finally:
        handler.close()
        logger.removeHandler(handler)
    first, second, third = out.lines()
    assert first.endswith(" 10.0.0.1:14000 replica INFO test.netlog.arrive: joined as replica")
    assert first[:4].isdigit() and first[10] == " "        # "YYYY-MM-DD HH:MM:SS.mmm ..."
    assert second.endswith("WARNING test.netlog.arrive: two\\nlines")
    assert "ERROR" in third and "ValueError: boom" in third


def test_an_absent_sink_never_blocks_the_node():
    logger = logging.getLogger("test.netlog.absent")
    logger.propagate = False
    handler = attach_network_handler(f"127.0.0.1:{free_port()}", "n", "acceptor", logger)
    try:
        started = time.monotonic()
        for i in range(30000):
            logger.warning("line %d", i)
        # Blocking on the absent sink would cost a connect attempt a line (hours for these);
        # the bound leaves room for a loaded machine.
        assert time.monotonic() - started < 30.0
    finally:
        handler.close(drain_timeout=0.1)
        logger.removeHandler(handler)


def test_lines_come_back_when_the_sink_starts_late():
    port = free_port()
    logger = logging.getLogger("test.netlog.late")
    logger.propagate = False
    handler = attach_network_handler(f"127.0.0.1:{port}", "n", "replica", logger)
    try:
        logger.warning("before the sink")
        out = Lines()
        sink = LogDaemon("127.0.0.1", port, out).start()
        try:
            _wait_for(lambda: any("before the sink" in line for line in out.lines()))
        finally:
            sink.stop()
    finally:
        handler.close(drain_timeout=0.1)
        logger.removeHandler(handler)


def test_hostile_input_is_made_visible_and_cut(daemon):
    sink, out = daemon
    with socket.create_connection(("127.0.0.1", int(sink.address.rsplit(":", 1)[1]))) as conn:
        conn.sendall(b"not-a-time \x1b[2Jclear\n" + b"x" * (70 << 10) + b"\nnext\n")
        _wait_for(lambda: len(out.lines()) >= 3)
    cleared, cut, following = out.lines()
    assert "\\x1b[2Jclear" in cleared and "\x1b" not in cleared and "[127.0.0.1:" in cleared
    assert cut.endswith(" [line cut]")
    assert following.endswith("next")
    assert render(b"1700000000.5 n r INFO x: y\n", "p", 0.0).endswith(" n r INFO x: y")


def test_logdaemon_command_prints_what_nodes_send():
    port = free_port()
    proc = subprocess.Popen([*CONCOORD, "logdaemon", "-p", str(port)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == f"concoord logdaemon 127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(f"{time.time():.6f} 10.0.0.2:14001 acceptor INFO c: hello\n".encode())
        line = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()))
        reader.start()
        reader.join(10)
        assert line and line[0].rstrip().endswith("10.0.0.2:14001 acceptor INFO c: hello")
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0
