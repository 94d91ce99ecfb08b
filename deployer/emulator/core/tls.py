"""The served emulator's certificates: a local CA (`ca.pem`) and a server certificate it signs.

Generated on first start in the data directory and reused afterwards, so a client configured
with `connection_verify=<data_dir>/ca.pem` keeps working across restarts. The server
certificate is renewed (by the same CA) when it is missing, expires within a day, or does not
cover a requested host name. EC P-256 keys: generating them takes milliseconds.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _san_entries(hosts: tuple[str, ...]) -> list[object]:
    from cryptography import x509

    entries: list[object] = []
    for h in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            entries.append(x509.DNSName(h))
    return entries


def ensure_certificates(data_dir: Path, extra_hosts: tuple[str, ...] = ()) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    data_dir.mkdir(parents=True, exist_ok=True)
    hosts = tuple(dict.fromkeys(DEFAULT_HOSTS + tuple(h for h in extra_hosts if h not in ("", "0.0.0.0", "::"))))
    paths = Certificates(data_dir / CA_FILE, data_dir / CERT_FILE, data_dir / KEY_FILE)
    ca_key_path = data_dir / CA_KEY_FILE
    now = dt.datetime.now(dt.UTC)

    with open(data_dir / ".tls.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)

        # -- the CA ------------------------------------------------------------------------
        if paths.ca_file.exists() and ca_key_path.exists():
            ca_cert = x509.load_pem_x509_certificate(paths.ca_file.read_bytes())
            ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        else:
            ca_key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "batch-deployer emulator local CA")])
            ca_cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(ca_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=True,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=True,
                        crl_sign=True,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256())
            )
            _write_private(
                ca_key_path,
                ca_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
            _write_public(paths.ca_file, ca_cert.public_bytes(serialization.Encoding.PEM))
            for stale in (paths.cert_file, paths.key_file):
                stale.unlink(missing_ok=True)

        # -- the server certificate -------------------------------------------------------------
        if paths.cert_file.exists() and paths.key_file.exists():
            cert = x509.load_pem_x509_certificate(paths.cert_file.read_bytes())
            try:
                san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                covered = set(san.get_values_for_type(x509.DNSName)) | {
                    str(ip) for ip in san.get_values_for_type(x509.IPAddress)
                }
            except x509.ExtensionNotFound:
                covered = set()
            wanted = {str(ipaddress.ip_address(h)) if _is_ip(h) else h for h in hosts}
            fresh = cert.not_valid_after_utc > now + dt.timedelta(days=1)
            if fresh and wanted <= covered and cert.issuer == ca_cert.subject:
                return paths

        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(_san_entries(hosts)), critical=False)  # type: ignore[arg-type]
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
        )
        _write_private(
            paths.key_file,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        _write_public(paths.cert_file, cert.public_bytes(serialization.Encoding.PEM))
    return paths


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
