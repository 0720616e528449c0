"""One thread that reads every plain (non-TLS) connection accepted by a node.

A thread per connection costs a context switch, and a fight for the GIL, for every message; a
node that hears from three acceptors and several clients at once then spends more time
switching than working. This thread waits on all sockets at once (epoll), reads whatever is
ready and delivers it, then tells the node once that a round of reads is done, so that the
messages that arrived together are also handled together.
"""

import collections
import logging
import selectors
import socket
import threading

log = logging.getLogger("concoord.transport")


class ReadLoop:
    """Connections are added with add(); each must offer ``sock``, ``on_readable()`` (False
    once it is finished) and ``stop_reading()`` (called once, after it left the loop)."""

    def __init__(self, on_round_done, name):
        self._selector = selectors.DefaultSelector()
        self._wake_in, self._wake_out = socket.socketpair()
        for sock in (self._wake_in, self._wake_out):
            sock.setblocking(False)
        self._selector.register(self._wake_in, selectors.EVENT_READ, None)
        self._added = collections.deque()
        self._on_round_done = on_round_done
        self._stopped = False
        self._finished = False     # every connection was stopped: add() stops its own
        self._finish_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self._thread.start()

    def add(self, conn):
        """Read ``conn`` from now on (any thread). Once the loop has finished it is stopped at
        once: a connection whose handshake ends while the node closes must still release its
        descriptor."""
        with self._finish_lock:
            finished = self._finished
            if not finished:
                self._added.append(conn)
        if finished:
            conn.stop_reading()
        else:
            self._wake()

    def stop(self, timeout):
        """Stop reading; every connection still in the loop gets stop_reading()."""
        self._stopped = True
        self._wake()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        else:
            self._finish()

    def _wake(self):
        try:
            self._wake_out.send(b"!")
        except OSError:     # already full (a wake-up is pending anyway) or closed
            pass

    def _run(self):
        try:
            while not self._stopped:
                for key, _ in self._selector.select():
                    if key.data is None:
                        self._take_added()
                    elif not key.data.on_readable():
                        self._drop(key.data)
                self._on_round_done()
        except Exception:
            log.exception("the read loop failed")
        finally:
            self._finish()

    def _take_added(self):
        try:
            while self._wake_in.recv(4096):
                pass
        except OSError:
            pass
        while self._added and not self._stopped:
            conn = self._added.popleft()
            try:
                self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            except (ValueError, OSError):   # closed before it could be read at all
                conn.stop_reading()

    def _drop(self, conn):
        self._selector.unregister(conn.sock)
        conn.stop_reading()

    def _finish(self):
        for key in list(self._selector.get_map().values()):
            if key.data is not None:
                self._drop(key.data)
        with self._finish_lock:
            self._finished = True
        while self._added:
            self._added.popleft().stop_reading()
        self._selector.close()
        self._wake_in.close()
        self._wake_out.close()
