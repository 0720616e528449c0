"""node_certs: what a certificate proves, and what it does not."""

import pytest

from concoord.security import node_certs
from concoord.security.secret import SecretError


def _write(path, text, mode=0o600):
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def test_a_certificate_proves_its_ids_under_its_ca_only(tmp_path):
    ca = node_certs.read_ca_file(_write(tmp_path / "a.ca", node_certs.new_ca()))
    other = node_certs.read_ca_file(_write(tmp_path / "b.ca", node_certs.new_ca()))
    cert = node_certs.read_certificate_file(
        _write(tmp_path / "n.cert", node_certs.issue(ca, ["10.0.0.1:1", "10.0.0.1:53"])))
    assert cert.node_ids == {"10.0.0.1:1", "10.0.0.1:53"}
    ids, public = node_certs.verify(cert.ca_public, cert.blob)
    assert ids == cert.node_ids
    assert node_certs.check_signature(public, cert.sign(b"data"), b"data")
    assert not node_certs.check_signature(public, cert.sign(b"data"), b"other data")
    other_public = node_certs._raw_public(other)
    assert node_certs.verify(other_public, cert.blob) is None
    text = cert.blob[2:2 + int.from_bytes(cert.blob[:2], "big")]
    widened = text + b"\n10.0.0.2:1"        # another id added to a real certificate
    tampered = len(widened).to_bytes(2, "big") + widened + cert.blob[2 + len(text):]
    assert node_certs.verify(cert.ca_public, tampered) is None
    assert node_certs.verify(cert.ca_public, cert.blob[:-1]) is None
    assert node_certs.verify(cert.ca_public, b"") is None


def test_files_must_be_private_and_well_formed(tmp_path):
    with pytest.raises(SecretError, match="accessible by others"):
        node_certs.read_ca_file(_write(tmp_path / "open.ca", node_certs.new_ca(), 0o644))
    with pytest.raises(SecretError, match="not a ConCoord CA file"):
        node_certs.read_ca_file(_write(tmp_path / "x.ca", "hello"))
    with pytest.raises(SecretError, match="not a ConCoord node certificate"):
        node_certs.read_certificate_file(_write(tmp_path / "x.cert", "{}"))
    ca = node_certs.read_ca_file(_write(tmp_path / "a.ca", node_certs.new_ca()))
    with pytest.raises(SecretError, match="one or more node ids"):
        node_certs.issue(ca, [])
