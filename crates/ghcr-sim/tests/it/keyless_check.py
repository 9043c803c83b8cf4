"""Checks a keyless Sigstore bundle made by ghcr-sim's test instance with
an implementation independent of ours: PyCA `cryptography` (OpenSSL
underneath), pinned in xtask/py-tools/cryptography.txt.

    keyless_check.py TRUSTED_ROOT BUNDLE

parses the certificates strictly (DER), checks the chain leaf ->
intermediate -> root by signature, the leaf's code-signing usage, URI SAN
and Fulcio extensions (.1 raw, the others DER UTF8String), the DSSE
signature over the PAE with the leaf's key, the Rekor dsse entry naming
that signature and certificate, its signed entry timestamp, and the
inclusion proof to a checkpoint signed by the log key. Prints the
identity claims as JSON; exits 1 naming the first check that fails.
"""

import base64
import hashlib
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

FULCIO = "1.3.6.1.4.1.57264.1."


def fail(what):
    sys.exit("keyless_check: " + what)


def b64(text):
    return base64.b64decode(text)


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def verifies(key, signature, data, what):
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except Exception as error:  # noqa: BLE001 - any failure is the answer
        fail(f"{what} does not verify: {error!r}")


def utf8_string(der):
    if der[0] != 0x0C:
        fail("a Fulcio extension is not a DER UTF8String")
    if der[1] < 0x80:
        return der[2 : 2 + der[1]].decode()
    n = der[1] & 0x7F
    length = int.from_bytes(der[2 : 2 + n], "big")
    return der[2 + n : 2 + n + length].decode()


def root_from_path(index, size, leaf, path):
    fnode, snode, node = index, size - 1, leaf
    for sibling in path:
        if fnode & 1 or fnode == snode:
            node = hashlib.sha256(b"\x01" + sibling + node).digest()
            while not fnode & 1 and fnode:
                fnode >>= 1
                snode >>= 1
        else:
            node = hashlib.sha256(b"\x01" + node + sibling).digest()
        fnode >>= 1
        snode >>= 1
    if snode:
        fail("the audit path does not fit the tree")
    return node


def main(root_file, bundle_file):
    root = json.load(open(root_file))
    bundle = json.load(open(bundle_file))
    if bundle["mediaType"] != "application/vnd.dev.sigstore.bundle.v0.3+json":
        fail("not a bundle v0.3")
    if root.get("ctlogs"):
        fail("the root names CT logs")
    inter, ca_root = (
        x509.load_der_x509_certificate(b64(c["rawBytes"]))
        for c in root["certificateAuthorities"][0]["certChain"]["certificates"]
    )
    material = bundle["verificationMaterial"]
    leaf_der = b64(material["certificate"]["rawBytes"])
    leaf = x509.load_der_x509_certificate(leaf_der)
    try:
        ca_root.verify_directly_issued_by(ca_root)
        inter.verify_directly_issued_by(ca_root)
        leaf.verify_directly_issued_by(inter)
    except Exception as error:  # noqa: BLE001
        fail(f"the chain does not verify: {error!r}")
    for cert, curve in ((ca_root, "secp384r1"), (inter, "secp384r1"), (leaf, "secp256r1")):
        if cert.public_key().curve.name != curve:
            fail(f"a key is not {curve}")
    if not inter.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
        fail("the intermediate is not a CA")
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    if ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        fail("the leaf is not for code signing")
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    claims = {"san": san.get_values_for_type(x509.UniformResourceIdentifier)}
    for ext in leaf.extensions:
        oid = ext.oid.dotted_string
        if oid.startswith(FULCIO):
            n = oid[len(FULCIO) :]
            raw = ext.value.value
            claims[n] = raw.decode() if n == "1" else utf8_string(raw)

    envelope = bundle["dsseEnvelope"]
    payload = b64(envelope["payload"])
    payload_type = envelope["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)
    signature = b64(envelope["signatures"][0]["sig"])
    verifies(leaf.public_key(), signature, pae, "the DSSE signature")

    entry = material["tlogEntries"][0]
    rekor = serialization.load_der_public_key(b64(root["tlogs"][0]["publicKey"]["rawBytes"]))
    log_id = b64(root["tlogs"][0]["logId"]["keyId"])
    if b64(entry["logId"]["keyId"]) != log_id or log_id != hashlib.sha256(
        rekor.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).digest():
        fail("the entry's log ID is not the root's log key")
    body_bytes = b64(entry["canonicalizedBody"])
    body = json.loads(body_bytes)
    spec = body["spec"]
    if (body["kind"], body["apiVersion"]) != ("dsse", "0.0.1"):
        fail("not a dsse 0.0.1 entry")
    if spec["payloadHash"]["value"] != hashlib.sha256(payload).hexdigest():
        fail("the entry logs another payload")
    logged = spec["signatures"][0]
    if b64(logged["signature"]) != signature:
        fail("the entry logs another signature")
    pem = leaf.public_bytes(serialization.Encoding.PEM)
    if b64(logged["verifier"]) != pem:
        fail("the entry logs another certificate")
    set_payload = canonical(
        {
            "body": entry["canonicalizedBody"],
            "integratedTime": int(entry["integratedTime"]),
            "logID": log_id.hex(),
            "logIndex": int(entry["logIndex"]),
        }
    )
    verifies(rekor, b64(entry["inclusionPromise"]["signedEntryTimestamp"]), set_payload, "the SET")
    at = int(entry["integratedTime"])
    if not leaf.not_valid_before_utc.timestamp() <= at <= leaf.not_valid_after_utc.timestamp():
        fail("the leaf is not valid at the integrated time")

    proof = entry["inclusionProof"]
    leaf_hash = hashlib.sha256(b"\x00" + body_bytes).digest()
    got = root_from_path(
        int(proof["logIndex"]), int(proof["treeSize"]), leaf_hash, [b64(h) for h in proof["hashes"]]
    )
    if got != b64(proof["rootHash"]):
        fail("the inclusion proof leads to another root")
    note, signatures = proof["checkpoint"]["envelope"].split("\n\n", 1)
    note += "\n"
    if note.splitlines()[1:3] != [proof["treeSize"], proof["rootHash"]]:
        fail("the checkpoint is for another tree")
    line = signatures.splitlines()[0]
    if not line.startswith("\u2014 "):
        fail("the checkpoint has no signature line")
    signed = b64(line.rsplit(" ", 1)[1])
    if signed[:4] != log_id[:4]:
        fail("the checkpoint signature's key hint is not the log's")
    verifies(rekor, signed[4:], note.encode(), "the checkpoint")
    print(json.dumps(claims, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
