"""Keyless Sigstore material made by an implementation independent of
ours: PyCA `cryptography` (OpenSSL underneath), pinned in
xtask/py-tools/cryptography.txt. Nothing here talks to a network.

    sigstore_make.py world DIR
        writes a test Sigstore instance into DIR: a Fulcio-like CA (a P-384
        root and a P-384 intermediate), a rogue CA whose intermediate has
        the same name but another key, a Rekor log key (P-256) and another
        log key, their private keys (PEM), and DIR/trusted_root.json naming
        the CA (chain: intermediate, root), the log and a CT log (logId =
        SHA-256 of the DER SubjectPublicKeyInfo), as Sigstore's TrustedRoot
        JSON; another CT log key stays out of it.
    sigstore_make.py bundle DIR DIGEST OPTIONS_JSON
        prints a Sigstore bundle for DIGEST (sha256:<hex>): a P-256 leaf
        certificate with a URI SAN, the code-signing EKU and Fulcio's
        extensions (issuer .1.1 raw and .1.8 UTF8String, build signer .9,
        runner .11, source repository .12, ref .14, owner .16, trigger .20)
        and an embedded SCT by the CT log (RFC 6962 3.2),
        a DSSE envelope of an in-toto v1 statement about DIGEST signed over
        the PAE (or, with "message", a message signature over DIGEST), and
        a Rekor entry (dsse 0.0.1 or hashedrekord 0.0.1 canonical body), its
        signed entry timestamp (ECDSA over the canonical JSON of body,
        integratedTime, logID, logIndex) and an RFC 6962 inclusion proof in
        a 5-leaf tree with a checkpoint (signed note). OPTIONS_JSON keys:
        identity, issuer, owner, repo, workflow, trigger, version ("0.1",
        "0.2", "0.3"), predicate_type, predicate (the statement's predicate,
        any JSON), message, intoto (an intoto 0.0.2
        entry instead of dsse 0.0.1), no_proof; and one fault:
        expired (the leaf ends before the integrated time), rogue_ca,
        set_other_body, other_log_key, bad_proof, no_code_signing,
        legacy_issuer_only, no_sct, bad_sct (signed by the CT key outside
        the root).
"""

import base64
import datetime
import hashlib
import json
import pathlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

INTEGRATED_TIME = 1750000000
FULCIO = "1.3.6.1.4.1.57264.1."


def b64(data):
    return base64.b64encode(data).decode()


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def der_utf8(text):
    data = text.encode()
    assert len(data) < 0x10000
    if len(data) < 0x80:
        length = bytes([len(data)])
    elif len(data) < 0x100:
        length = bytes([0x81, len(data)])
    else:
        length = bytes([0x82, len(data) >> 8, len(data) & 0xFF])
    return b"\x0c" + length + data


def when(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def spki(key):
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def save_key(path, key):
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def load_key(path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def name(common):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def ca_cert(subject, key, issuer, issuer_key, path_length):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(when(1577836800))  # 2020-01-01
        .not_valid_after(when(2208988800))  # 2040-01-01
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA384())
    )


def world(folder):
    folder = pathlib.Path(folder)
    certs = {}
    for prefix in ("", "rogue_"):
        root_key = ec.generate_private_key(ec.SECP384R1())
        inter_key = ec.generate_private_key(ec.SECP384R1())
        root = ca_cert(name("sigstore-test-root"), root_key, name("sigstore-test-root"), root_key, 1)
        inter = ca_cert(
            name("sigstore-test-intermediate"), inter_key, root.subject, root_key, 0
        )
        save_key(folder / f"{prefix}intermediate.key", inter_key)
        (folder / f"{prefix}intermediate.der").write_bytes(
            inter.public_bytes(serialization.Encoding.DER)
        )
        certs[prefix] = (inter, root)
    for key_name in ("rekor", "other_rekor", "ctlog", "other_ctlog"):
        save_key(folder / f"{key_name}.key", ec.generate_private_key(ec.SECP256R1()))
    rekor = load_key(folder / "rekor.key")
    ctlog = load_key(folder / "ctlog.key")
    inter, root = certs[""]
    trusted_root = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [
            {
                "baseUrl": "https://rekor.sigstore.test",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64(spki(rekor)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
                "logId": {"keyId": b64(hashlib.sha256(spki(rekor)).digest())},
            }
        ],
        "certificateAuthorities": [
            {
                "subject": {"organization": "sigstore.test", "commonName": "sigstore-test-root"},
                "uri": "https://fulcio.sigstore.test",
                "certChain": {
                    "certificates": [
                        {"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))}
                        for c in (inter, root)
                    ]
                },
                "validFor": {"start": "2020-01-01T00:00:00Z"},
            }
        ],
        "ctlogs": [
            {
                "baseUrl": "https://ctfe.sigstore.test",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64(spki(ctlog)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"},
                },
                "logId": {"keyId": b64(hashlib.sha256(spki(ctlog)).digest())},
            }
        ],
        "timestampAuthorities": [],
    }
    (folder / "trusted_root.json").write_text(json.dumps(trusted_root, indent=2))


def leaf_cert(folder, options, leaf_key):
    prefix = "rogue_" if options.get("rogue_ca") else ""
    issuer_key = load_key(folder / f"{prefix}intermediate.key")
    issuer = x509.load_der_x509_certificate((folder / f"{prefix}intermediate.der").read_bytes())
    if options.get("expired"):
        start, end = INTEGRATED_TIME - 700, INTEGRATED_TIME - 100
    else:
        start, end = INTEGRATED_TIME - 60, INTEGRATED_TIME + 540
    identity = options["identity"]
    usage = (
        ExtendedKeyUsageOID.CLIENT_AUTH if options.get("no_code_signing") else ExtendedKeyUsageOID.CODE_SIGNING
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(issuer.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(when(start))
        .not_valid_after(when(end))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]),
            critical=True,
        )
    )
    issuer_claim = options["issuer"]
    raw = {"1": issuer_claim.encode()}
    text = {}
    if not options.get("legacy_issuer_only"):
        text["8"] = issuer_claim
    text["9"] = identity
    text["11"] = "github-hosted"
    text["12"] = "https://github.com/" + options["repo"]
    text["14"] = "refs/tags/v1"
    text["16"] = "https://github.com/" + options["owner"]
    text["20"] = options["trigger"]
    for n, value in raw.items():
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(FULCIO + n), value), critical=False
        )
    for n, value in text.items():
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(FULCIO + n), der_utf8(value)),
            critical=False,
        )
    if options.get("no_sct"):
        return builder.sign(issuer_key, hashes.SHA384())
    # RFC 6962 3.2: the CT log signs the precertificate's TBS (this
    # certificate without the SCT list, which is added last) and the
    # issuer's key hash; the SCT list then goes into the certificate.
    precert = builder.sign(issuer_key, hashes.SHA384()).tbs_certificate_bytes
    ct_key = load_key(folder / ("other_ctlog.key" if options.get("bad_sct") else "ctlog.key"))
    log_id = hashlib.sha256(spki(load_key(folder / "ctlog.key"))).digest()
    timestamp = (INTEGRATED_TIME - 1) * 1000
    issuer_key_hash = hashlib.sha256(
        issuer.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).digest()
    signed = (
        b"\x00\x00"
        + timestamp.to_bytes(8, "big")
        + b"\x00\x01"
        + issuer_key_hash
        + len(precert).to_bytes(3, "big")
        + precert
        + b"\x00\x00"
    )
    signature = ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
    sct = (
        b"\x00" + log_id + timestamp.to_bytes(8, "big") + b"\x00\x00" + b"\x04\x03"
        + len(signature).to_bytes(2, "big") + signature
    )
    item = len(sct).to_bytes(2, "big") + sct
    sct_list = len(item).to_bytes(2, "big") + item
    octets = b"\x04" + der_length(len(sct_list)) + sct_list
    builder = builder.add_extension(
        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), octets),
        critical=False,
    )
    return builder.sign(issuer_key, hashes.SHA384())


def der_length(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 0xFF])


def tree_root(leaves):
    if len(leaves) == 1:
        return leaves[0]
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return hashlib.sha256(b"\x01" + tree_root(leaves[:split]) + tree_root(leaves[split:])).digest()


def audit_path(leaves, index):
    if len(leaves) == 1:
        return []
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    if index < split:
        return audit_path(leaves[:split], index) + [tree_root(leaves[split:])]
    return audit_path(leaves[split:], index - split) + [tree_root(leaves[:split])]


def bundle(folder, digest, options):
    folder = pathlib.Path(folder)
    options = {
        "identity": "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1",
        "issuer": "https://token.actions.githubusercontent.com",
        "owner": "octo",
        "repo": "octo/app",
        "trigger": "push",
        "version": "0.3",
        "predicate_type": "https://slsa.dev/provenance/v1",
        **options,
    }
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = leaf_cert(folder, options, leaf_key)
    leaf_der = leaf.public_bytes(serialization.Encoding.DER)
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM)
    algorithm, _, hex_digest = digest.partition(":")
    if options.get("message"):
        signature = leaf_key.sign(
            bytes.fromhex(hex_digest), ec.ECDSA(utils.Prehashed(hashes.SHA256()))
        )
        content = {
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(bytes.fromhex(hex_digest))},
                "signature": b64(signature),
            }
        }
        body = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex_digest}},
                "signature": {"content": b64(signature), "publicKey": {"content": b64(leaf_pem)}},
            },
        }
    else:
        statement = json.dumps(
            {
                "_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": "ghcr.io/octo/app", "digest": {algorithm: hex_digest}}],
                "predicateType": options["predicate_type"],
                "predicate": options.get("predicate", {"builder": {"id": "sigstore_make.py"}}),
            }
        ).encode()
        payload_type = "application/vnd.in-toto+json"
        pae = b"DSSEv1 %d %s %d %s" % (
            len(payload_type), payload_type.encode(), len(statement), statement
        )
        signature = leaf_key.sign(pae, ec.ECDSA(hashes.SHA256()))
        envelope = {
            "payload": b64(statement),
            "payloadType": payload_type,
            "signatures": [{"sig": b64(signature), "keyid": ""}],
        }
        content = {"dsseEnvelope": envelope}
        if options.get("intoto"):
            # cosign's older entries: intoto 0.0.2 keeps the envelope, its
            # signature base64 twice over and the PEM certificate base64.
            body = {
                "apiVersion": "0.0.2",
                "kind": "intoto",
                "spec": {
                    "content": {
                        "envelope": {
                            "payloadType": payload_type,
                            "signatures": [
                                {"sig": b64(b64(signature).encode()), "publicKey": b64(leaf_pem)}
                            ],
                        },
                        "hash": {"algorithm": "sha256", "value": hashlib.sha256(canonical(envelope)).hexdigest()},
                        "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(statement).hexdigest()},
                    }
                },
            }
        else:
            body = {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(canonical(envelope)).hexdigest()},
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(statement).hexdigest()},
                    "signatures": [{"signature": b64(signature), "verifier": b64(leaf_pem)}],
                },
            }
    body_bytes = canonical(body)
    rekor = load_key(folder / "rekor.key")
    log_id = hashlib.sha256(spki(rekor)).digest()
    log_index = 3
    set_body = body_bytes
    if options.get("set_other_body"):
        other = json.loads(body_bytes)
        other["spec"]["tampered"] = True
        set_body = canonical(other)
    set_key = load_key(folder / "other_rekor.key") if options.get("other_log_key") else rekor
    set_payload = canonical(
        {
            "body": b64(set_body),
            "integratedTime": INTEGRATED_TIME,
            "logID": log_id.hex(),
            "logIndex": log_index,
        }
    )
    signed_entry_timestamp = set_key.sign(set_payload, ec.ECDSA(hashes.SHA256()))
    leaves = [hashlib.sha256(b"\x00" + bytes([n])).digest() for n in range(5)]
    leaves[log_index] = hashlib.sha256(b"\x00" + body_bytes).digest()
    root = tree_root(leaves)
    path = audit_path(leaves, log_index)
    if options.get("bad_proof"):
        path[1] = bytes([path[1][0] ^ 1]) + path[1][1:]
    note = "rekor.sigstore.test - 42\n%d\n%s\n" % (len(leaves), b64(root))
    note_signature = rekor.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
    checkpoint = note + "\n\u2014 rekor.sigstore.test " + b64(log_id[:4] + note_signature) + "\n"
    entry = {
        "logIndex": str(log_index),
        "logId": {"keyId": b64(log_id)},
        "kindVersion": {"kind": body["kind"], "version": body["apiVersion"]},
        "integratedTime": str(INTEGRATED_TIME),
        "inclusionPromise": {"signedEntryTimestamp": b64(signed_entry_timestamp)},
        "canonicalizedBody": b64(body_bytes),
    }
    if not options.get("no_proof"):
        entry["inclusionProof"] = {
            "logIndex": str(log_index),
            "rootHash": b64(root),
            "treeSize": str(len(leaves)),
            "hashes": [b64(h) for h in path],
            "checkpoint": {"envelope": checkpoint},
        }
    version = options["version"]
    if version == "0.3":
        media_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
        material = {"certificate": {"rawBytes": b64(leaf_der)}}
    else:
        media_type = "application/vnd.dev.sigstore.bundle+json;version=" + version
        material = {"x509CertificateChain": {"certificates": [{"rawBytes": b64(leaf_der)}]}}
    material["tlogEntries"] = [entry]
    print(json.dumps({"mediaType": media_type, "verificationMaterial": material, **content}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["world"] and len(sys.argv) == 3:
        world(sys.argv[2])
    elif sys.argv[1:2] == ["bundle"] and len(sys.argv) == 5:
        bundle(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
    else:
        sys.exit(__doc__)
