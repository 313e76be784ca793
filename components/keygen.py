"""Secrets a new Ceph cluster needs, generated once on the machine that runs the program.

`python -m components.keygen [--ssh]` prints one JSON object on stdout: the cluster's fsid, the
monitor and client.admin cephx keys (Ceph's own key format), a dashboard password and, with
`--ssh`, an Ed25519 deploy key pair (OpenSSH formats). The CephCluster component runs it through
`pulumi_command.local.Command` with its stdout marked secret and not logged, so the values live
only in the stack's state, encrypted; nothing is written to disk.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import struct
import sys
import time
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CEPH_CRYPTO_AES = 1
PASSWORD_ALPHABET = string.ascii_letters + string.digits


def cephx_key() -> str:
    """A cephx secret as `ceph-authtool --gen-print-key` prints it: type, created, length, 16 bytes."""
    now = time.time()
    header = struct.pack("<HIIH", CEPH_CRYPTO_AES, int(now), int((now % 1) * 1e9), 16)
    return base64.b64encode(header + secrets.token_bytes(16)).decode()


def password(length: int = 24) -> str:
    """Letters and digits with at least one of each kind (the dashboard's policy scores kinds)."""
    while True:
        pw = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))
        if any(c.islower() for c in pw) and any(c.isupper() for c in pw) and any(c.isdigit() for c in pw):
            return pw + "-" + secrets.choice(string.digits)


def ssh_key_pair(comment: str = "privatecloud-deploy") -> tuple[str, str]:
    """(private key in OpenSSH PEM, public key line) for Ed25519."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, f"{public.decode()} {comment}"


def public_key_of(private_key: str) -> str:
    """The OpenSSH public key line of an operator's private key (OpenSSH or PEM format)."""
    key = serialization.load_ssh_private_key(private_key.encode(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode()


def generate(with_ssh: bool) -> dict[str, str]:
    out = {
        "fsid": str(uuid.uuid4()),
        "monKey": cephx_key(),
        "adminKey": cephx_key(),
        "dashboardPassword": password(),
    }
    if with_ssh:
        out["sshPrivateKey"], out["sshPublicKey"] = ssh_key_pair()
    return out


if __name__ == "__main__":
    print(json.dumps(generate("--ssh" in sys.argv[1:])))
