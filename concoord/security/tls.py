"""TLS for every ConCoord connection, with the ssl module: both ends present a certificate
signed by the instance's CA and verify the other's against it (mutual TLS).

Host names are not checked: nodes are addressed by IP and port, so trust comes from the CA
alone; give each instance its own CA.
"""

import ssl

from concoord.errors import ConcoordError


class TLSConfigError(ConcoordError):
    """A certificate, key or CA file cannot be used."""


def server_context(cert, key, ca):
    """The context a node accepts connections with; peers must present a CA-signed cert."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _configure(context, cert, key, ca)
    return context


def client_context(cert, key, ca):
    """The context for connecting to nodes: verifies their cert and presents ours."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    _configure(context, cert, key, ca)
    return context


def _configure(context, cert, key, ca):
    if not (cert and key and ca):
        raise TLSConfigError("TLS needs all three of --tls-cert, --tls-key and --tls-ca")
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        context.load_cert_chain(cert, key)
        context.load_verify_locations(ca)
    except (OSError, ssl.SSLError) as exc:
        raise TLSConfigError(f"cannot load TLS files (cert {cert}, key {key}, CA {ca}): "
                             f"{exc}") from None
