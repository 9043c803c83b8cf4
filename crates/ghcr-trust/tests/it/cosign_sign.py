"""Cosign-format keyed signatures made by an implementation independent of
ours: PyCA `cryptography` (OpenSSL underneath), pinned in
xtask/py-tools/cryptography.txt.

    cosign_sign.py keygen DIR
        writes DIR/cosign.key (PKCS#8 PEM) and DIR/cosign.pub
        (`-----BEGIN PUBLIC KEY-----`, SPKI, as `cosign generate-key-pair`).
    cosign_sign.py sign KEY DIGEST REFERENCE
        prints JSON {"payload": base64, "signature": base64, "fingerprint":
        "sha256:<hex of the DER SubjectPublicKeyInfo>"}: the simple-signing
        payload for DIGEST as cosign writes it (sigstore/sigstore
        pkg/signature/payload: Go's encoding/json of
        {critical: {identity: {docker-reference}, image: {docker-manifest-digest},
        type}, optional}) and the base64 of its ASN.1 DER ECDSA P-256 SHA-256
        signature, the `dev.cosignproject.cosign/signature` annotation's value.
"""

import base64
import hashlib
import json
import pathlib
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


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


def sign(key_file, digest, reference):
    key = serialization.load_pem_private_key(
        pathlib.Path(key_file).read_bytes(), password=None
    )
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": reference},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    ).encode()
    signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    print(
        json.dumps(
            {
                "payload": base64.b64encode(payload).decode(),
                "signature": base64.b64encode(signature).decode(),
                "fingerprint": "sha256:" + hashlib.sha256(spki).hexdigest(),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["keygen"] and len(sys.argv) == 3:
        keygen(sys.argv[2])
    elif sys.argv[1:2] == ["sign"] and len(sys.argv) == 5:
        sign(*sys.argv[2:])
    else:
        sys.exit(__doc__)
