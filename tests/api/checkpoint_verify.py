#!/usr/bin/python3
"""Verifies a Requiem audit-log checkpoint with PyNaCl and hashlib alone (no project code),
from the C2SP signed-note and tlog-checkpoint specifications and docs/FORMAT.md §15.

  checkpoint_verify.py NOTE_FILE PUBKEY_FILE ORIGIN [LEAVES_FILE]

PUBKEY_FILE holds a C2SP verifier key "<name>+<key id, 8 hex>+<base64(0x01 || key)>"; the
key id is checked against SHA-256(name || 0x0A || 0x01 || key)[:4]. The note is split at its
last blank line; a signature line "— <name> <base64(key id || signature)>" whose name and key id
match must carry an Ed25519 signature over the body's bytes (lines from other keys are
ignored). The body must be "<ORIGIN>\\n<size>\\n<base64 root>\\n". With LEAVES_FILE (one hex
record per line, the canonical bytes in seq order), the RFC 9162 root of the first <size>
records is recomputed and must equal the signed root.

Prints "OK <origin> <size> <root hex>" and exits 0 when everything holds; 1 when a check fails
(printing which); 2 on malformed input.
"""
import base64
import binascii
import hashlib
import sys

import nacl.exceptions
import nacl.signing

EM_DASH = "\u2014 "


def read_key(path):
    text = open(path, "r", encoding="utf-8").read()
    if not text.endswith("\n") or text.count("\n") != 1:
        raise ValueError("key file must be one line")
    name, key_id_hex, b64 = text[:-1].split("+", 2)  # base64 may hold "+"
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise ValueError("not an Ed25519 verifier key")
    key = raw[1:]
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + key).digest()[:4]
    if key_id.hex() != key_id_hex:
        raise ValueError("key id %s does not match the key (%s)" % (key_id_hex, key_id.hex()))
    return name, key_id, key


def mth(leaves):
    """RFC 9162 §2.1.1 Merkle Tree Hash over leaf data."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        name, key_id, key = read_key(sys.argv[2])
        text = open(sys.argv[1], "rb").read().decode("utf-8")
        split = text.rindex("\n\n")
        body = text[: split + 1]
        sig_lines = text[split + 2 :].split("\n")
        if sig_lines[-1] != "":
            raise ValueError("note must end with a newline")
        sig_lines = sig_lines[:-1]
        lines = body[:-1].split("\n")
        origin, size_text, root_b64 = lines[0], lines[1], lines[2]
        if size_text != str(int(size_text)):
            raise ValueError("tree size is not canonical decimal")
        size = int(size_text)
        root = base64.b64decode(root_b64, validate=True)
        if len(root) != 32:
            raise ValueError("root is not 32 bytes")
        leaves = None
        if len(sys.argv) == 5:
            leaves = [bytes.fromhex(l) for l in open(sys.argv[4]).read().split()]
    except (OSError, ValueError, IndexError, UnicodeDecodeError, binascii.Error) as e:
        print("MALFORMED", e)
        return 2

    verified = False
    verifier = nacl.signing.VerifyKey(key)
    for line in sig_lines:
        if not line.startswith(EM_DASH):
            print("MALFORMED signature line", repr(line))
            return 2
        signer, _, blob_b64 = line[len(EM_DASH) :].partition(" ")
        try:
            blob = base64.b64decode(blob_b64, validate=True)
        except binascii.Error:
            print("MALFORMED signature base64")
            return 2
        if signer != name or blob[:4] != key_id:
            continue  # another signer (e.g. a witness): ignored
        try:
            verifier.verify(body.encode("utf-8"), blob[4:])
        except (nacl.exceptions.BadSignatureError, ValueError):
            print("BAD SIGNATURE by", signer)
            return 1
        verified = True
    if not verified:
        print("NO SIGNATURE by", name)
        return 1
    if origin != sys.argv[3]:
        print("WRONG ORIGIN", origin)
        return 1
    if leaves is not None:
        if len(leaves) < size:
            print("LOG SHORTER THAN CHECKPOINT", len(leaves), size)
            return 1
        if mth(leaves[:size]) != root:
            print("ROOT MISMATCH")
            return 1
    print("OK", origin, size, root.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
