"""A TLS connection that one thread may read while another writes.

OpenSSL forbids using one SSL object from two threads at once, and ssl.SSLSocket does not
serialise its reads and writes, yet every ConCoord connection has a reader thread and a writer
thread. So the TLS state machine runs on memory buffers (ssl.MemoryBIO) under a lock, and the
plain socket carries the bytes it produces: blocking socket reads happen outside the lock.
"""

import select
import socket
import ssl
import threading

# Not larger: a 256 KiB recv() buffer costs an mmap and a munmap per call (glibc's malloc
# threshold is 128 KiB), measured at 16 us per recv against 2 us for 64 KiB.
RECV_SIZE = 64 << 10


class TLSStream:
    """The socket-like object (recv, sendall, shutdown, close, ...) for one TLS connection."""

    def __init__(self, sock, context, server_side):
        self._sock = sock
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=server_side)
        self._state_lock = threading.Lock()   # guards the SSL object and both buffers
        self._send_lock = threading.Lock()    # keeps TLS records in order on the wire

    def handshake(self):
        """Run the TLS handshake to completion (ssl.SSLError if the peer fails verification)."""
        while True:
            with self._state_lock:
                try:
                    self._tls.do_handshake()
                    done = True
                except ssl.SSLWantReadError:
                    done = False
            self._flush()
            if done:
                return
            if not self._fill():
                raise ssl.SSLEOFError("the peer closed the connection during the TLS handshake")

    def recv(self, size):
        """Up to ``size`` bytes of plaintext; b"" once the peer closed the connection."""
        while True:
            with self._state_lock:
                try:
                    data = self._tls.read(size)
                except ssl.SSLWantReadError:
                    data = None
                except ssl.SSLZeroReturnError:
                    data = b""
            self._flush()          # reading may have produced records to send (key updates)
            if data is not None:
                return data
            if not self._fill():
                return b""

    def sendall(self, data):
        with self._send_lock:
            with self._state_lock:
                self._tls.write(data)
                records = self._outgoing.read()
            self._sock.sendall(records)

    def closed_by_peer(self):
        """Without blocking: has the peer closed the connection? (Used on write-only links,
        where nothing else reads; whatever arrived is consumed by the TLS layer.)"""
        if not select.select([self._sock], [], [], 0)[0]:
            return False
        try:
            data = self._sock.recv(RECV_SIZE, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError:
            return True
        if not data:
            return True
        with self._state_lock:
            self._incoming.write(data)
        return False

    def _fill(self):
        """Read ciphertext from the socket into the TLS layer; False at end of stream."""
        data = self._sock.recv(RECV_SIZE)
        with self._state_lock:
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()
        return bool(data)

    def _flush(self):
        if not self._outgoing.pending:
            return
        with self._send_lock:
            with self._state_lock:
                records = self._outgoing.read()
            if records:
                self._sock.sendall(records)

    # The plain socket's own operations.

    def settimeout(self, timeout):
        self._sock.settimeout(timeout)

    def gettimeout(self):
        return self._sock.gettimeout()

    def getpeername(self):
        return self._sock.getpeername()

    def fileno(self):
        return self._sock.fileno()

    def shutdown(self, how):
        self._sock.shutdown(how)

    def close(self):
        self._sock.close()
