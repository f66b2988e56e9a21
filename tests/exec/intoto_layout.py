#!/usr/bin/python3
"""Writes an in-toto root layout for Requiem's link test, with Debian's in-toto (1.3.x) API.

  intoto_layout.py DIR FUNCTIONARY_PUBHEX STEP_NAME MATERIAL PRODUCT CMD [ARG...]

Creates a fresh Ed25519 owner key, writes DIR/owner.pub (securesystemslib JSON, the format of
`in-toto-verify --layout-keys ... --key-types ed25519`) and DIR/root.layout: one step named
STEP_NAME, run by the functionary key (given as 64 hex digits), whose expected command is
CMD ARG..., which may use only MATERIAL and must create only PRODUCT; signed by the owner.
Prints the functionary's securesystemslib key id. Uses no project code.
"""
import json
import os
import sys

import securesystemslib.keys
from in_toto.models.layout import Layout, Step
from in_toto.models.metadata import Metablock


def main() -> int:
    if len(sys.argv) < 7:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, pub_hex, step_name, material, product = sys.argv[1:6]
    command = sys.argv[6:]

    owner = securesystemslib.keys.generate_ed25519_key()
    owner_public = securesystemslib.keys.format_keyval_to_metadata(
        owner["keytype"], owner["scheme"], owner["keyval"], private=False)
    with open(os.path.join(out_dir, "owner.pub"), "w", encoding="utf-8") as f:
        json.dump(owner_public, f)

    functionary, _ = securesystemslib.keys.format_metadata_to_key(
        {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub_hex}})

    layout = Layout()
    layout.set_relative_expiration(months=1)
    keyid = layout.add_functionary_key(functionary)["keyid"]
    step = Step(name=step_name)
    step.expected_command = command
    step.expected_materials = [["ALLOW", material], ["DISALLOW", "*"]]
    step.expected_products = [["CREATE", product], ["DISALLOW", "*"]]
    step.pubkeys = [keyid]
    step.threshold = 1
    layout.steps = [step]
    layout.validate()

    metablock = Metablock(signed=layout)
    metablock.sign(owner)
    metablock.dump(os.path.join(out_dir, "root.layout"))
    print(keyid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
