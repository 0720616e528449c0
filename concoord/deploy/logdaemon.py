"""``concoord logdaemon``: the network log sink. Nodes started with ``-l host:port`` send it one
line per log record (see netlog.py); it prints them, from all nodes, with timestamps.

What arrives is untrusted text: it is only ever printed, with control characters made visible
(a log line must not be able to drive the operator's terminal) and overlong lines cut.
"""

import datetime
import re
import signal
import sys
import threading
import time

from concoord.runtime.ports import bind_listener, format_address, shutdown_quietly

DEFAULT_PORT = 12000
MAX_LINE = 64 << 10
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(text):
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _timestamp(seconds):
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def render(raw, peer, now):
    """The printed form of one received line: ``TIME NODE ROLE LEVEL logger: message``, with the
    sender's time when the line carries one, else the time it arrived and the peer."""
    text = _visible(raw.decode("utf-8", "replace").rstrip("\r\n"))
    stamp, _, rest = text.partition(" ")
    try:
        seconds = float(stamp)
        return f"{_timestamp(seconds)} {rest}"
    except (ValueError, OverflowError, OSError):
        return f"{_timestamp(now)} [{peer}] {text}"


class LogDaemon:
    def __init__(self, addr, port, out=None):
        self.listener = bind_listener(addr, port)
        self.address = format_address(self.listener.getsockname())
        self.out = out or sys.stdout
        self._print_lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self):
        threading.Thread(target=self._accept_loop, daemon=True, name="logdaemon").start()
        return self

    def stop(self):
        self._stopping.set()
        shutdown_quietly(self.listener)
        self.listener.close()

    def emit(self, line):
        with self._print_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                conn, sockaddr = self.listener.accept()
            except OSError:
                return
            peer = format_address(sockaddr)
            threading.Thread(target=self._read_loop, args=(conn, peer), daemon=True,
                             name=f"logdaemon-{peer}").start()

    def _read_loop(self, conn, peer):
        with conn, conn.makefile("rb") as stream:
            skipping = False  # inside the rest of a line that was cut at MAX_LINE
            while True:
                try:
                    raw = stream.readline(MAX_LINE)
                except OSError:
                    return
                if not raw:
                    return
                complete = raw.endswith(b"\n")
                if not skipping:
                    line = render(raw, peer, time.time())
                    self.emit(line if complete else line + " [line cut]")
                skipping = not complete


def run_logdaemon(addr, port):
    """Print lines from every node until interrupted (Ctrl-C / SIGTERM)."""
    daemon = LogDaemon(addr, port).start()
    print(f"concoord logdaemon {daemon.address}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
    daemon.stop()
    return 0
