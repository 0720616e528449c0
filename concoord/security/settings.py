"""The security settings of a process: one shared secret and/or TLS contexts, applied to every
connection it opens or accepts.

A node sets them once from its command line (``configure``); a program using proxies gets them
from the environment ($CONCOORD_SECRET or $CONCOORD_SECRET_FILE) unless it passes ``secret=``
or ``tls=`` to the proxy. Without a secret and TLS, anyone who can reach a node's port can
join the instance and call its reconfiguration commands: fine on a trusted network only.
"""

import ssl
import threading

from concoord.errors import AuthenticationError
from concoord.security import handshake, node_certs, tls
from concoord.security.secret import (SecretError, client_credential, is_client_credential,
                                      read_secret_file, secret_from_environment)
from concoord.security.tls_stream import TLSStream

NODE, CLIENT = "node", "client"
HANDSHAKE_TIMEOUT = 5.0    # a peer that stalls the handshake longer is dropped


class HandshakeTimeout(TimeoutError):
    """A node did not answer our handshake in time: an OSError, so callers retry it as they
    retry a refused connection."""
# In TLS 1.3 a client finishes its handshake before the server has checked the client's
# certificate; the server's first byte tells it that check passed, so that a refused client
# learns it at once (as an SSLError while waiting for this byte) rather than on its first call.
TLS_READY = b"\x01"


class Security:
    """``secret`` (bytes or None: the node secret, or a client credential), ``server_tls`` /
    ``client_tls`` (ssl.SSLContext or None), ``node_cert`` (a node_certs.NodeCertificate or
    None: this node's own; with it, every node connection must present one of the same CA)."""

    def __init__(self, secret=None, server_tls=None, client_tls=None, node_cert=None):
        self.secret = secret
        self.server_tls = server_tls
        self.client_tls = client_tls
        self.node_cert = node_cert
        self.ca_public = node_cert.ca_public if node_cert is not None else None
        # The credential of each role this process can prove (None: it cannot).
        self.keys = {NODE: None, CLIENT: None}
        if secret is not None:
            self.keys = {NODE: None if is_client_credential(secret) else secret,
                         CLIENT: client_credential(secret)}

    @property
    def is_node_credential(self):
        """True unless the secret is a client credential (a node cannot run on one)."""
        return self.secret is None or self.keys[NODE] is not None

    def __repr__(self):
        return (f"<Security secret={'yes' if self.secret else 'no'} "
                f"tls={'yes' if self.client_tls or self.server_tls else 'no'}>")

    @classmethod
    def from_files(cls, secret_file=None, tls_cert=None, tls_key=None, tls_ca=None,
                   node_cert=None):
        """From command-line flags; without --secret-file, the environment's secret if any."""
        secret = read_secret_file(secret_file) if secret_file else secret_from_environment()
        certificate = None
        if node_cert:
            if secret is None:
                raise SecretError("--node-cert needs the node secret too (--secret-file): "
                                  "nodes check clients with it")
            certificate = node_certs.read_certificate_file(node_cert)
        if not (tls_cert or tls_key or tls_ca):
            return cls(secret, node_cert=certificate)
        return cls(secret, tls.server_context(tls_cert, tls_key, tls_ca),
                   tls.client_context(tls_cert, tls_key, tls_ca), certificate)

    @property
    def authenticates(self):
        return self.secret is not None

    def accepted(self, sock):
        """Server side of a new connection: (socket to use, peer role, node id, proven ids).
        The role is NODE or CLIENT when a secret is set, else None (unauthenticated); the node
        id is the node a NODE peer speaks for (None: it speaks for none, see handshake.py);
        the proven ids, those its node certificate lists (None without node certificates).
        AuthenticationError if the peer fails TLS or the challenge."""
        return self._secure(sock, self._accept, server_side=True)

    def connected(self, sock, role, node_id=None):
        """Client side of a new connection to a node, as ``role`` (speaking for the node
        ``node_id``, NODE role only): the socket to use."""
        return self._secure(sock, lambda s: self._connect(s, role, node_id), server_side=False)[0]

    def _accept(self, sock):
        if self.server_tls is not None:
            sock = TLSStream(sock, self.server_tls, server_side=True)
            sock.handshake()
            sock.sendall(TLS_READY)
        if not self.secret:
            return sock, None, None, None
        if self.keys[NODE] is None:
            raise AuthenticationError("a client credential cannot check nodes: a node needs "
                                      "the node secret")
        return (sock, *handshake.challenge(sock, self.keys, self.ca_public))

    def _connect(self, sock, role, node_id=None):
        if self.client_tls is not None:
            sock = TLSStream(sock, self.client_tls, server_side=False)
            sock.handshake()
            if sock.recv(1) != TLS_READY:
                raise AuthenticationError("TLS handshake failed: the node closed the connection")
        if self.secret:
            if self.keys[role] is None:
                raise AuthenticationError(f"authentication failed: a client credential cannot "
                                          f"connect as a {role} (nodes need the node secret)")
            handshake.respond(sock, self.keys[role], role, node_id if role == NODE else None,
                              self.node_cert if role == NODE else None)
        return sock, role, node_id

    @staticmethod
    def _secure(sock, step, server_side):
        if sock.gettimeout() is None:
            sock.settimeout(HANDSHAKE_TIMEOUT)
        try:
            sock, *identity = step(sock)
        except ssl.SSLError as exc:
            raise AuthenticationError(f"TLS handshake failed: {exc.reason or exc}") from None
        except TimeoutError:
            silence = f"no answer to the handshake within {sock.gettimeout():.1f} s"
            if server_side:
                raise AuthenticationError(f"authentication failed: {silence}") from None
            # Not a verdict: a node busy accepting a flood of connections answers late, and
            # its clients must try again (an AuthenticationError fails their calls at once).
            raise HandshakeTimeout(f"{silence} (the node is overloaded, or runs without a "
                                   "secret)") from None
        sock.settimeout(None)
        return (sock, *identity)


_lock = threading.Lock()
_current = None


def configure(security):
    """Make ``security`` what this process's connections use by default."""
    global _current
    with _lock:
        _current = security


def current():
    """The process's settings: as configured, else from the environment (read once)."""
    global _current
    with _lock:
        if _current is None:
            _current = Security(secret_from_environment())
        return _current
