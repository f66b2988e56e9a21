#!/usr/bin/python3
"""Tokens and keys made by PyJWT (Debian's python3-jwt) and pyca/cryptography, with no project
code, for tests/api/jwt_test.cc.

    pyjwt_tokens.py OUT_DIR NOW

writes into OUT_DIR: hs256.secret (48 random bytes, mode 0600), ed25519.pem and p256.pem
(SubjectPublicKeyInfo), jwks.json (the Ed25519, P-256 and oct keys as PyJWT's to_jwk writes
them, with kids "ed-1", "p256-1", "hs-1") and tokens.json (name -> compact JWS).
"""
import json
import os
import sys

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm


def jwk(text_or_dict, kid):
    d = json.loads(text_or_dict) if isinstance(text_or_dict, str) else dict(text_or_dict)
    d["kid"] = kid
    return d


def spki(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def main():
    out, now = sys.argv[1], int(sys.argv[2])
    secret = os.urandom(48)
    fd = os.open(os.path.join(out, "hs256.secret"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, secret)
    os.close(fd)
    ed = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(out, "ed25519.pem"), "wb") as f:
        f.write(spki(ed))
    with open(os.path.join(out, "p256.pem"), "wb") as f:
        f.write(spki(p256))
    jwks = {"keys": [jwk(OKPAlgorithm.to_jwk(ed.public_key()), "ed-1"),
                     jwk(ECAlgorithm.to_jwk(p256.public_key()), "p256-1"),
                     jwk(HMACAlgorithm.to_jwk(secret), "hs-1")]}
    with open(os.path.join(out, "jwks.json"), "w") as f:
        json.dump(jwks, f)

    claims = {"iss": "https://issuer.example", "aud": ["other", "ritma-api"],
              "sub": "alice@example.com", "tenant": "acme-prod", "exp": now + 300,
              "nbf": now - 10, "iat": now - 10, "scope": "runs:write"}
    t = {
        "hs256": jwt.encode(claims, secret, algorithm="HS256"),
        "eddsa": jwt.encode(claims, ed, algorithm="EdDSA"),
        "hs256_kid": jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "hs-1"}),
        "eddsa_kid": jwt.encode(claims, ed, algorithm="EdDSA", headers={"kid": "ed-1"}),
        "es256_kid": jwt.encode(claims, p256, algorithm="ES256", headers={"kid": "p256-1"}),
        "expired": jwt.encode(dict(claims, exp=now - 3600, nbf=now - 7200, iat=now - 7200), ed,
                              algorithm="EdDSA", headers={"kid": "ed-1"}),
        "wrong_aud": jwt.encode(dict(claims, aud="someone-else"), ed, algorithm="EdDSA",
                                headers={"kid": "ed-1"}),
        "none": jwt.encode(claims, None, algorithm="none"),
    }
    # Several ES256 signatures: about half of them have a high s, which JWS allows.
    for i in range(16):
        t["es256_%d" % i] = jwt.encode(dict(claims, jti=str(i)), p256, algorithm="ES256")
    # PyJWT reads its own tokens back (a sanity check of this script, not of Ritma).
    jwt.decode(t["es256_0"], p256.public_key(), algorithms=["ES256"], audience="ritma-api")
    with open(os.path.join(out, "tokens.json"), "w") as f:
        json.dump(t, f, indent=1)


if __name__ == "__main__":
    main()
