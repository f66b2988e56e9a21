#!/usr/bin/python3
"""Verifies a DSSE envelope with PyNaCl alone (no project code), from the DSSE spec.

  dsse_verify.py ENVELOPE_FILE PUBKEY_HEX

Recomputes PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body (lengths in
ASCII decimal bytes) from the envelope's payloadType and base64-decoded payload, and checks
each signature against the Ed25519 public key. Exit 0 when one verifies and the payload is an
in-toto Statement v1 (prints its subject names), 1 when none does, 2 on malformed input.
"""
import base64
import binascii
import json
import sys

import nacl.exceptions
import nacl.signing


def pae(payload_type: bytes, body: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], "rb") as f:
            envelope = json.loads(f.read().decode("utf-8"))
        payload_type = envelope["payloadType"].encode("utf-8")
        body = base64.b64decode(envelope["payload"], validate=True)
        signatures = envelope["signatures"]
        key = nacl.signing.VerifyKey(bytes.fromhex(sys.argv[2]))
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as e:
        print("MALFORMED", e)
        return 2
    message = pae(payload_type, body)
    for sig in signatures:
        try:
            key.verify(message, base64.b64decode(sig["sig"], validate=True))
        except (nacl.exceptions.BadSignatureError, ValueError, binascii.Error):
            continue
        if payload_type != b"application/vnd.in-toto+json":
            print("WRONG PAYLOAD TYPE", payload_type)
            return 1
        statement = json.loads(body.decode("utf-8"))
        if statement.get("_type") != "https://in-toto.io/Statement/v1":
            print("NOT A STATEMENT V1")
            return 1
        print("OK", " ".join(s["name"] for s in statement["subject"]))
        return 0
    print("BAD SIGNATURE")
    return 1


if __name__ == "__main__":
    sys.exit(main())
