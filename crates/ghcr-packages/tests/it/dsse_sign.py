"""DSSE envelopes signed as `cosign attest --key` signs them, made by an
implementation independent of ours: PyCA `cryptography` (OpenSSL
underneath), pinned in xtask/py-tools/cryptography.txt.

    dsse_sign.py keygen DIR
        writes DIR/cosign.key (PKCS#8 PEM) and DIR/cosign.pub
        (`-----BEGIN PUBLIC KEY-----`, SPKI, as `cosign generate-key-pair`).
    dsse_sign.py sign KEY < STATEMENT
        prints JSON {"envelope": {payloadType, payload: base64 of the exact
        statement bytes read from stdin, signatures: [{keyid, sig}]},
        "fingerprint": "sha256:<hex of the DER SubjectPublicKeyInfo>"}, sig
        the base64 ASN.1 DER ECDSA P-256 SHA-256 signature over DSSE's PAE
        "DSSEv1 <len type> <type> <len body> <body>".
"""

import base64
import hashlib
import pathlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PAYLOAD_TYPE = b"application/vnd.in-toto+json"


def keygen(folder):
    folder = pathlib.Path(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    (folder / "cosign.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "cosign.pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )


def sign(key_file):
    key = serialization.load_pem_private_key(
        pathlib.Path(key_file).read_bytes(), password=None
    )
    statement = sys.stdin.buffer.read()
    pae = b"DSSEv1 %d %s %d %s" % (
        len(PAYLOAD_TYPE),
        PAYLOAD_TYPE,
        len(statement),
        statement,
    )
    signature = key.sign(pae, ec.ECDSA(hashes.SHA256()))
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    envelope = {
        "payloadType": PAYLOAD_TYPE.decode(),
        "payload": base64.b64encode(statement).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }
    print(
        json.dumps(
            {
                "envelope": envelope,
                "fingerprint": "sha256:" + hashlib.sha256(spki).hexdigest(),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["keygen"] and len(sys.argv) == 3:
        keygen(sys.argv[2])
    elif sys.argv[1:2] == ["sign"] and len(sys.argv) == 3:
        sign(sys.argv[2])
    else:
        sys.exit(__doc__)
