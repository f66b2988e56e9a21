#!/usr/bin/python3
"""Ed25519 interop with PyNaCl (libsodium's Python binding, Debian python3-nacl).

  nacl_interop.py verify PUBHEX MSGFILE SIGHEX   -> exit 0 if PyNaCl accepts the signature
  nacl_interop.py sign SEEDHEX MSGFILE           -> prints "PUBHEX SIGHEX"
"""
import sys

import nacl.exceptions
import nacl.signing


def main() -> int:
    cmd = sys.argv[1]
    if cmd == "verify":
        pub, msg_file, sig = sys.argv[2], sys.argv[3], sys.argv[4]
        with open(msg_file, "rb") as f:
            msg = f.read()
        try:
            nacl.signing.VerifyKey(bytes.fromhex(pub)).verify(msg, bytes.fromhex(sig))
        except nacl.exceptions.BadSignatureError:
            print("BAD SIGNATURE")
            return 1
        print("OK")
        return 0
    if cmd == "sign":
        seed, msg_file = sys.argv[2], sys.argv[3]
        with open(msg_file, "rb") as f:
            msg = f.read()
        key = nacl.signing.SigningKey(bytes.fromhex(seed))
        print(key.verify_key.encode().hex(), key.sign(msg).signature.hex())
        return 0
    print("usage: see docstring", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
