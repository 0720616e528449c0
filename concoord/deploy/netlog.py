"""Sending a node's log to a ``concoord logdaemon`` over TCP, one line per record.

Logging must never slow or stop a node: ``emit`` only puts the line in a bounded queue, and a
sender thread connects, reconnects (with backoff) and writes. When the sink is away or too slow
the queue fills and new lines are dropped; the sink is told how many once it is back.

Line format (text, UTF-8, ``\\n``-terminated; newlines inside a message are escaped as ``\\n``)::

    <unix time with microseconds> <node id> <role> <LEVEL> <logger name>: <message>
"""

import logging
import queue
import socket
import threading
import time

from concoord.wire.addresses import split_address

QUEUE_CAPACITY = 10000
CONNECT_TIMEOUT = 2.0
SEND_TIMEOUT = 5.0
MAX_BACKOFF = 5.0
BATCH_LINES = 256


def escape(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


class NetworkLogHandler(logging.Handler):
    def __init__(self, address, node_id, role, capacity=QUEUE_CAPACITY):
        super().__init__()
        self.address = split_address(address)
        self.node_id, self.role = node_id, role
        self.setFormatter(logging.Formatter("%(message)s"))
        self._lines = queue.Queue(capacity)
        self._dropped = 0
        # Not "_closed": logging.Handler.close() sets a bool of that name.
        self._stopping = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, daemon=True,
                                        name="concoord-netlog")
        self._sender.start()

    def emit(self, record):
        try:
            line = (f"{record.created:.6f} {self.node_id} {self.role} {record.levelname} "
                    f"{record.name}: {escape(self.format(record))}\n")
            self._lines.put_nowait(line)
        except queue.Full:
            self._dropped += 1  # one int += under the GIL; an off-by-one count is harmless
        except Exception:  # noqa: BLE001 - logging must not raise into the node
            self.handleError(record)

    def _send_loop(self):
        sock, backoff, pending = None, 0.1, []
        while not (self._stopping.is_set() and not pending and self._lines.empty()):
            pending = pending or self._take_batch()
            if not pending:
                continue
            if sock is None:
                sock = self._connect()
                if sock is None:
                    if self._stopping.is_set():
                        break  # closing, and nobody to send the rest to
                    time.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                backoff = 0.1
            try:
                sock.sendall("".join(pending).encode("utf-8", "replace"))
                pending = []
            except OSError:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()

    def _take_batch(self):
        """Up to BATCH_LINES queued lines (waiting a little for the first), plus a note if
        lines were dropped since the last batch."""
        try:
            batch = [self._lines.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < BATCH_LINES:
            try:
                batch.append(self._lines.get_nowait())
            except queue.Empty:
                break
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            batch.insert(0, f"{time.time():.6f} {self.node_id} {self.role} WARNING "
                            f"concoord.netlog: {dropped} log lines dropped (sink unreachable)\n")
        return batch

    def _connect(self):
        try:
            sock = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT)
        except OSError:
            return None
        sock.settimeout(SEND_TIMEOUT)  # a stalled sink costs a reconnect, never the node
        return sock

    def close(self, drain_timeout=1.0):
        """Stop after sending what is queued (for at most ``drain_timeout`` seconds)."""
        self._stopping.set()
        self._sender.join(drain_timeout)
        super().close()


def attach_network_handler(address, node_id, role, logger=None):
    """Send every record of ``logger`` (default: the root logger) to the log sink at
    ``address`` ("host:port"); returns the handler (``logger.removeHandler`` to detach)."""
    handler = NetworkLogHandler(address, node_id, role)
    (logger or logging.getLogger()).addHandler(handler)
    return handler
