"""Test certificates made with `cryptography` (already installed: paramiko needs it): a CA and
certificates it signs, written as PEM files."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory, stem, key, cert):
    key_path, cert_path = directory / f"{stem}.key", directory / f"{stem}.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _certificate(subject, issuer, public_key, signing_key, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(signing_key, hashes.SHA256())


class CertificateAuthority:
    def __init__(self, directory, name):
        self.directory, self.name = directory, name
        self.key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(name, name, self.key.public_key(), self.key, ca=True)
        self.cert_path, _ = _write(directory, name, self.key, cert)

    def issue(self, subject):
        """(cert path, key path) of a new certificate for ``subject`` signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(subject, self.name, key.public_key(), self.key, ca=False)
        return _write(self.directory, f"{self.name}-{subject}", key, cert)
