"""The self-signed certificate `build.py serve --https` shows: a leaf server certificate (CA:FALSE,
serverAuth) for the address shown, made with openssl, remade when missing, broken, mismatched or
near its end."""
from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
from pathlib import Path

from ..errors import BuildError

CERT_DAYS = 30
RENEW_DAYS = 7   # a certificate closer than this to its end is replaced, so a session never sees it expire


def _openssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, text=True)


def _name_entry(address: str) -> str:
    """`IP:` for an address, `DNS:` for a name such as localhost (openssl refuses IP:localhost)."""
    try:
        return f"IP:{ipaddress.ip_address(address)}"
    except ValueError:
        return f"DNS:{address}"


def certificate_problem(cert: Path, key: Path, address: str) -> str | None:
    """Why the pair cannot be reused for `address` (None when it can)."""
    if not (cert.is_file() and key.is_file()):
        return "missing"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as error:
        return f"unreadable or mismatched ({error})"
    if _openssl("x509", "-in", str(cert), "-noout", "-checkend", str(RENEW_DAYS * 86400)).returncode != 0:
        return f"expired or expiring within {RENEW_DAYS} days"
    ext = _openssl("x509", "-in", str(cert), "-noout", "-ext",
                   "basicConstraints,extendedKeyUsage,subjectAltName").stdout
    if "CA:FALSE" not in ext or "TLS Web Server Authentication" not in ext:
        return "not a server certificate (CA:TRUE or no serverAuth)"
    entries = {part.strip() for line in ext.splitlines() for part in line.split(",")}
    if _name_entry(address).replace("IP:", "IP Address:") not in entries:
        return f"not issued for {address}"
    return None


def self_signed_certificate(cert_dir: Path, address: str) -> tuple[Path, Path]:
    """Create, or reuse when still sound, a self-signed server certificate for `address` with openssl.

    A pair is made afresh when either file is missing, unreadable or they do not match, when the
    certificate expires within RENEW_DAYS, or when it is not a leaf server certificate for `address`.
    """
    cert_dir.mkdir(parents=True, exist_ok=True)
    cert, key = cert_dir / f"moodcam-{address}.crt", cert_dir / f"moodcam-{address}.key"
    if shutil.which("openssl") is None:
        raise BuildError("`serve --https` needs the openssl command to make and check its certificate",
                         fix="install it (`apt-get install openssl`) or serve plain http on localhost")
    if certificate_problem(cert, key, address) is None:
        return cert, key
    names = ",".join(dict.fromkeys([_name_entry(address), "DNS:localhost", "IP:127.0.0.1"]))
    new_cert, new_key = cert.with_name(cert.name + ".new"), key.with_name(key.name + ".new")
    result = _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(CERT_DAYS),
                      "-subj", "/CN=moodcam local",
                      "-addext", f"subjectAltName={names}",
                      "-addext", "basicConstraints=critical,CA:FALSE",
                      "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                      "-addext", "extendedKeyUsage=serverAuth",
                      "-keyout", str(new_key), "-out", str(new_cert))
    if result.returncode != 0 or certificate_problem(new_cert, new_key, address) is not None:
        new_cert.unlink(missing_ok=True)
        new_key.unlink(missing_ok=True)
        lines = [line for line in result.stderr.splitlines() if line.strip(".+*- \n")]   # no progress dots
        tail = "\n".join(lines[-3:])
        raise BuildError(f"openssl could not make a certificate for {address}" + (f":\n{tail}" if tail else ""),
                         fix="pass --host with an IP address or a plain host name")
    new_key.chmod(0o600)
    new_key.replace(key)
    new_cert.replace(cert)
    return cert, key
