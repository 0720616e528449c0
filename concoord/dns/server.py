"""The DNS server's sockets and threads: UDP and TCP on one port, answers from the current Zone.

Built to keep serving whatever arrives: every datagram and every TCP message is handled inside
its own try, so a packet that trips a bug costs one answer, never the server. TCP connections
are capped; when the cap is reached the connection idle the longest is dropped to make room, so
clients that open connections and say nothing cannot lock everyone else out. UDP answers are
rate limited per source network (ratelimit.py), so the server cannot be used to flood a victim
whose address an attacker puts on its queries.
"""

import errno
import logging
import socket
import threading
import time

from concoord.dns.ratelimit import DROP, SLIP_ANSWER, ResponseRateLimiter, truncated
from concoord.dns.responder import HEADER_SIZE, QR, respond
from concoord.errors import ConcoordError

log = logging.getLogger("concoord.dns.server")

UDP_RECV_SIZE = 65535
UDP_RCVBUF = 4 << 20        # absorb bursts of queries instead of dropping them in the kernel
TCP_IDLE_TIMEOUT = 5.0      # RFC 7766 suggests seconds, not minutes, for idle connections
MAX_TCP_CONNECTIONS = 128
POLL_TIMEOUT = 0.5          # how often the UDP thread looks at the stop flag


class DnsBindError(ConcoordError):
    """The DNS port could not be bound; the message names the fix."""


def _family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def _bind_error(exc, addr, port):
    if exc.errno in (errno.EACCES, errno.EPERM):
        return DnsBindError(f"permission denied binding DNS port {port} on {addr}: ports below "
                            f"1024 need root; run as root or use --dns-port 5353")
    if exc.errno == errno.EADDRINUSE:
        return DnsBindError(f"DNS port {port} on {addr} is in use (another nameserver?); stop it "
                            f"or use another --dns-port")
    return DnsBindError(f"cannot bind DNS port {port} on {addr}: {exc.strerror or exc}")


def _bind_pair(addr, port):
    """UDP and TCP sockets on the same port (port 0: any free port both can have)."""
    for _ in range(20 if port == 0 else 1):
        udp = socket.socket(_family(addr), socket.SOCK_DGRAM)
        tcp = socket.socket(_family(addr), socket.SOCK_STREAM)
        try:
            udp.bind((addr, port))
            chosen = udp.getsockname()[1]
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((addr, chosen))
            tcp.listen(128)
            return udp, tcp
        except OSError as exc:
            udp.close()
            tcp.close()
            if port != 0 or exc.errno != errno.EADDRINUSE:
                raise _bind_error(exc, addr, port) from None
    raise DnsBindError(f"no port on {addr} was free for both UDP and TCP")


class DnsServer:
    """Serves ``zone`` (replace it at any time with set_zone) on ``addr``:``port``.

    The sockets are bound in the constructor, so a port problem surfaces before anything else
    is started; start() begins answering.
    """

    def __init__(self, addr, port, zone, rate_limiter=None):
        self._zone = zone
        self.rate_limiter = rate_limiter or ResponseRateLimiter()
        self._udp, self._tcp = _bind_pair(addr, port)
        self.addr = addr
        self.port = self._udp.getsockname()[1]
        try:
            self._udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RCVBUF)
        except OSError:
            pass  # a smaller buffer only means more drops under a flood
        self._udp.settimeout(POLL_TIMEOUT)
        self._stopping = threading.Event()
        self._connections = {}         # socket -> monotonic time of its last message
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._serve_udp, daemon=True,
                                          name="concoord-dns-udp"),
                         threading.Thread(target=self._accept_tcp, daemon=True,
                                          name="concoord-dns-tcp")]

    @property
    def zone(self):
        return self._zone

    def set_zone(self, zone):
        self._zone = zone   # one reference swap: each query reads one consistent snapshot

    def start(self):
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stopping.set()
        for sock in (self._tcp, self._udp):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._wake_udp()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            _shutdown(conn)
        for thread in self._threads:
            if thread.is_alive():
                thread.join(2.0)
        self._udp.close()
        self._tcp.close()

    def _wake_udp(self):
        """An empty datagram to ourselves: shutdown() does not wake a blocked recvfrom()."""
        target = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.addr, self.addr)
        try:
            with socket.socket(_family(target), socket.SOCK_DGRAM) as sock:
                sock.sendto(b"", (target, self.port))
        except OSError:
            pass   # the poll timeout wakes it anyway

    # ---- UDP ----------------------------------------------------------------------------------

    def _serve_udp(self):
        while not self._stopping.is_set():
            try:
                wire, peer = self._udp.recvfrom(UDP_RECV_SIZE)
            except socket.timeout:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                continue  # e.g. an ICMP error reported on the socket: keep serving
            self._answer_udp(wire, peer)

    def _answer_udp(self, wire, peer):
        if len(wire) < HEADER_SIZE or int.from_bytes(wire[2:4], "big") & QR:
            return           # never answered: costs no answer of the source's budget
        verdict = self.rate_limiter.verdict(peer[0])
        if verdict == DROP:
            return
        try:
            if verdict == SLIP_ANSWER:
                reply = truncated(wire)
            else:
                reply = respond(self._zone, wire, over_tcp=False)
            if reply is not None:
                self._udp.sendto(reply, peer)
        except Exception:  # noqa: BLE001 - one bad packet must never stop the server
            log.debug("no answer to a UDP query from %s", peer, exc_info=True)

    # ---- TCP ----------------------------------------------------------------------------------

    def _accept_tcp(self):
        while not self._stopping.is_set():
            try:
                conn, peer = self._tcp.accept()
            except OSError as exc:
                if self._stopping.is_set():
                    return
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    time.sleep(0.05)   # out of descriptors: let connections finish first
                continue
            self._admit(conn)
            threading.Thread(target=self._serve_tcp, args=(conn, peer), daemon=True,
                             name="concoord-dns-tcp-conn").start()

    def _admit(self, conn):
        with self._lock:
            victim = None
            if len(self._connections) >= MAX_TCP_CONNECTIONS:
                victim = min(self._connections, key=self._connections.get)
                del self._connections[victim]
            self._connections[conn] = time.monotonic()
        if victim is not None:
            _shutdown(victim)   # its thread sees the end of the stream and closes it

    def _serve_tcp(self, conn, peer):
        conn.settimeout(TCP_IDLE_TIMEOUT)
        try:
            while not self._stopping.is_set():
                header = _recv_exactly(conn, 2)
                if header is None:
                    return
                wire = _recv_exactly(conn, int.from_bytes(header, "big"))
                if not wire:
                    return
                with self._lock:
                    if conn in self._connections:
                        self._connections[conn] = time.monotonic()
                reply = respond(self._zone, wire, over_tcp=True)
                if reply is None:
                    return
                conn.sendall(len(reply).to_bytes(2, "big") + reply)
        except Exception:  # noqa: BLE001 - timeouts, resets and bugs all end this connection
            log.debug("TCP connection from %s ended", peer, exc_info=True)
        finally:
            with self._lock:
                self._connections.pop(conn, None)
            conn.close()


def _recv_exactly(conn, size):
    """``size`` bytes, or None if the stream ends first."""
    chunks, left = [], size
    while left:
        data = conn.recv(left)
        if not data:
            return None
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


def _shutdown(conn):
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
