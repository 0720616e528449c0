"""TLS (--tls-cert/--tls-key/--tls-ca): every connection verified against the instance's CA."""

import pytest

from concoord import security
from concoord.client.proxy import ClientProxy
from concoord.errors import AuthenticationError
from concoord.security import tls
from tests.security.certs import CertificateAuthority


@pytest.fixture
def pki(tmp_path):
    """The instance's CA with certificates for nodes and a client, and a rogue CA."""
    ca, rogue = CertificateAuthority(tmp_path, "ca"), CertificateAuthority(tmp_path, "rogue")
    return {"ca": ca.cert_path, "node": ca.issue("node"), "client": ca.issue("client"),
            "rogue": rogue.issue("mallory")}


def _flags(cert_key, ca):
    cert, key = cert_key
    return ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-ca", str(ca)]


def _client_context(cert_key, ca):
    return tls.client_context(*cert_key, ca)


@pytest.fixture
def tls_instance(counter_harness, pki):
    h = counter_harness
    h.node_args = _flags(pki["node"], pki["ca"])
    security.configure(security.Security(client_tls=_client_context(pki["client"], pki["ca"])))
    replica = h.start_replica()
    acceptors = [h.start_acceptor(replica) for _ in range(2)]
    second = h.start_replica(replica)
    h.wait_converged([replica, second], acceptors)
    return h, [replica, second], acceptors


def test_an_instance_over_tls_serves_clients_with_a_ca_signed_cert(tls_instance, pki):
    h, replicas, _ = tls_instance
    context = _client_context(pki["client"], pki["ca"])
    with ClientProxy([r.address for r in replicas], timeout=10, tls=context) as proxy:
        futures = [proxy.call_async("increment") for _ in range(300)]
        for future in futures:
            future.result(10)
        assert proxy._invoke("getvalue") == 300
    h.wait_converged(replicas, tls_instance[2])


def test_a_client_with_a_certificate_from_another_ca_is_refused(tls_instance, pki):
    _, replicas, _ = tls_instance
    rogue = _client_context(pki["rogue"], pki["ca"])
    with ClientProxy(replicas[0].address, timeout=10, tls=rogue) as proxy:
        with pytest.raises(AuthenticationError, match="TLS handshake failed"):
            proxy._invoke("increment")


def test_a_client_that_does_not_trust_the_nodes_refuses_them(tls_instance, pki):
    _, replicas, _ = tls_instance
    suspicious = _client_context(pki["client"], pki["rogue"][0])   # trusts only the rogue CA
    with ClientProxy(replicas[0].address, timeout=10, tls=suspicious) as proxy:
        with pytest.raises(AuthenticationError, match="TLS handshake failed"):
            proxy._invoke("getvalue")


def test_a_node_with_a_certificate_from_another_ca_cannot_join(tls_instance, pki):
    h, replicas, acceptors = tls_instance
    result = h.concoord("acceptor", "-b", replicas[0].address, *_flags(pki["rogue"], pki["ca"]))
    assert result.returncode == 1 and "TLS handshake failed" in result.stderr, result.stderr
    assert sorted(replicas[0].status()["acceptors"]) == sorted(a.address for a in acceptors)


def test_incomplete_tls_flags_are_a_usage_error(counter_harness, pki):
    result = counter_harness.concoord("replica", "-f", "counter.py", "-c", "Counter",
                                      "--tls-cert", str(pki["node"][0]))
    assert result.returncode == 2
    assert "TLS needs all three" in result.stderr
