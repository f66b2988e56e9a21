#!/usr/bin/python3
"""Independent reader of Ritma's sealed store RITMA_OUT/.

Written from docs/FORMAT.md alone (no Ritma source was read): it proves that the
specification is enough to check one sealed window end to end.

    seal_reader.py RITMA_OUT [--window LOG_INDEX] [--pubkey NODE_PUB_FILE]

Dependencies: the Python standard library, cbor2, PyNaCl, and the `zstd` command-line tool.
Exit status: 0 when every check passes, 1 when one fails (the message names the file),
2 on a usage error or a missing dependency.

What it checks, with the FORMAT.md section of each rule:
  * the public key file (§4.1): name, key id = first 4 bytes of
    SHA-256(name || 0x0A || 0x01 || pk), base64(0x01 || pk)
  * _meta/store.cbor and its signature (§10.1, §10.2) when present
  * _meta/keys/keys.cbor (§10.9) when present: hand-overs, and that the pinned key is in it
  * log/windows.log and log/checkpoints.log framing (§6), every record's log_index (§10.5)
  * for the chosen window: strict canonical CBOR of the micro record (§3, §10.4); the micro
    file at the path derived from slot_start_ns / window_ns / part equals the log frame
    (§10.3, §10.5); the micro signature (§10.2); each block: name, size, a single zstd frame
    with declared content size and window <= 128 MiB (§8, §10.3), decompressed size; the
    atoms: strict canonical CBOR, the 37-field schema (§9), boot id of the run, seq
    contiguous from first_seq; event, loss, filtered, type and wall-time counts; the micro
    root (§2); seq continuity with the previous record of the same run (§10.5)
  * the window log's RFC 9162 root for size log_index+1 against the signed checkpoint of
    that size (§5, §10.6): note syntax, key name and id, Ed25519 signature, origin, size,
    root, no extension lines; and log/checkpoint (the newest copy) against the whole log.

What it cannot check: BLAKE3 digests (block `b3`, §10.4) - Python's hashlib has no BLAKE3
and this reader may not use packages beyond cbor2 and PyNaCl.
"""

import argparse
import base64
import datetime
import hashlib
import io
import os
import re
import subprocess
import sys

try:
    import cbor2
    import nacl.exceptions
    import nacl.signing
except ImportError as e:  # pragma: no cover - reported to the C++ test
    print(f"seal_reader: missing Python module: {e.name} (install python3-cbor2 and "
          f"python3-nacl; run with /usr/bin/python3)", file=sys.stderr)
    sys.exit(2)


class Failure(Exception):
    """A check failed; the message names the file."""


def fail(path, msg):
    raise Failure(f"{path}: {msg}")


# ----------------------------------------------------------------------------- §2 Merkle

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth_of_leaf_hashes(hashes):
    """RFC 9162 MTH given the leaf hashes (not the leaf data)."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth_of_leaf_hashes(hashes[:k]), mth_of_leaf_hashes(hashes[k:]))


def mth(leaves):
    return mth_of_leaf_hashes([leaf_hash(d) for d in leaves])


# ----------------------------------------------------------------------------- §3 CBOR

ALLOWED_SCALARS = (int, bytes, str, bool, type(None))


def check_value_types(v, where, depth=1):
    """Only the §3 subset, and no maps (no schema in this reader allows one)."""
    if depth > 16:
        raise ValueError(f"{where}: nesting deeper than 16")
    if isinstance(v, list):
        for i, x in enumerate(v):
            check_value_types(x, f"{where}[{i}]", depth + 1)
    elif not isinstance(v, ALLOWED_SCALARS):
        raise ValueError(f"{where}: CBOR item of type {type(v).__name__} is not allowed")
    elif isinstance(v, int) and not isinstance(v, bool) and not -2**64 <= v < 2**64:
        # cbor2 turns bignum tags (2, 3) into ints; §3 allows no tags
        raise ValueError(f"{where}: integer {v} outside the CBOR major types 0/1 (a bignum tag)")


def decode_one(data, path, what):
    """Strictly decode exactly one canonical CBOR item from `data`."""
    fp = io.BytesIO(data)
    try:
        v = cbor2.CBORDecoder(fp).decode()
    except Exception as e:  # cbor2 raises several exception types
        fail(path, f"{what}: CBOR decode error: {e}")
    if fp.tell() != len(data):
        fail(path, f"{what}: {len(data) - fp.tell()} trailing bytes after the CBOR item")
    check_canonical(v, data, path, what)
    return v


def check_canonical(v, data, path, what):
    try:
        check_value_types(v, what)
    except ValueError as e:
        fail(path, str(e))
    # cbor2 always writes shortest heads and definite lengths; with the type subset above,
    # re-encoding gives back the input exactly when the input is the canonical encoding.
    if cbor2.dumps(v) != data:
        fail(path, f"{what}: not the canonical (core deterministic) CBOR encoding")


def split_sequence(data, path):
    """Split an RFC 8742 CBOR sequence into (offset, exact item bytes, value)."""
    fp = io.BytesIO(data)
    dec = cbor2.CBORDecoder(fp)
    out = []
    while fp.tell() < len(data):
        start = fp.tell()
        try:
            v = dec.decode()
        except Exception as e:
            fail(path, f"CBOR decode error in the item at decompressed offset {start}: {e}")
        end = fp.tell()
        raw = data[start:end]
        check_canonical(v, raw, path, f"atom at decompressed offset {start}")
        out.append((start, raw, v))
    return out


# ----------------------------------------------------------------------------- §6 framing

MAX_FRAME = 64 * 1024 * 1024


def read_frames(path, warnings):
    try:
        data = open(path, "rb").read()
    except OSError as e:
        fail(path, f"cannot read: {e}")
    frames = []
    off = 0
    while off < len(data):
        if len(data) - off < 4:
            warnings.append(f"{path}: torn tail at offset {off} "
                            f"({len(data) - off} bytes of a length)")
            break
        n = int.from_bytes(data[off:off + 4], "little")
        if n > MAX_FRAME:
            fail(path, f"corrupt frame at offset {off}: length {n} above the 64 MiB limit")
        if len(data) - off - 4 < n:
            warnings.append(f"{path}: torn tail at offset {off} (frame of {n} bytes, "
                            f"{len(data) - off - 4} present)")
            break
        frames.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return frames


# ----------------------------------------------------------------------------- §4 keys

NAME_RE = re.compile(r"^[^\s+\x00-\x1f\x7f]+$")


def key_id(name, pk):
    return hashlib.sha256(name.encode() + b"\x0a\x01" + pk).digest()[:4]


def b64decode_strict(s):
    return base64.b64decode(s.encode("ascii"), validate=True)


def read_public_key_file(path):
    try:
        text = open(path, "rb").read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(path, f"cannot read public key file: {e}")
    if not text.endswith("\n") or "\n" in text[:-1]:
        fail(path, "public key file must be one line ending in a single newline")
    parts = text[:-1].split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3:
        fail(path, "public key file is not <name>+<keyid>+<base64>")
    name, kid_hex, b64 = parts
    if not name or not NAME_RE.match(name):
        fail(path, f"invalid key name {name!r}")
    if not re.fullmatch(r"[0-9a-f]{8}", kid_hex):
        fail(path, f"key id {kid_hex!r} is not 8 lowercase hex digits")
    try:
        raw = b64decode_strict(b64)
    except Exception as e:
        fail(path, f"bad base64 key: {e}")
    if len(raw) != 33 or raw[0] != 0x01:
        fail(path, "key is not base64(0x01 || 32-byte Ed25519 public key)")
    pk = raw[1:]
    if key_id(name, pk).hex() != kid_hex:
        fail(path, f"key id {kid_hex} does not match the name and key "
                   f"(expected {key_id(name, pk).hex()})")
    return name, pk


def ed25519_verify(pk, msg, sig):
    try:
        nacl.signing.VerifyKey(pk).verify(msg, sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False


def fingerprint(pk):
    return hashlib.sha256(b"ritma-keyfp@1\x00\x01" + pk).hexdigest()


# ----------------------------------------------------------------------------- §5 notes

EM_DASH = "\u2014 "


def verify_note(text_bytes, path, known):
    """Verifies a signed note; `known` maps (name, keyid bytes) to a public key.

    Returns (body text, list of verified key names)."""
    try:
        text = text_bytes.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(path, f"note is not valid UTF-8: {e}")
    idx = text.rfind("\n\n")
    if idx < 0:
        fail(path, "note has no blank line before its signatures")
    body = text[:idx + 1]
    sigs = text[idx + 2:]
    if not body or body == "\n":
        fail(path, "note body is empty")
    if "\n\n" in body or body.startswith("\n"):
        fail(path, "note body contains a blank line")
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7f for c in body):
        fail(path, "note body contains a control character")
    if not sigs.endswith("\n"):
        fail(path, "note signature lines do not end in a newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > 100:
        fail(path, f"note has {len(lines)} signature lines (at most 100)")
    verified = []
    for line in lines:
        if not line.startswith(EM_DASH):
            fail(path, f"malformed signature line {line!r} (must start with an EM DASH and "
                       f"a space)")
        fields = line[len(EM_DASH):].split(" ")
        if len(fields) != 2 or not fields[0]:
            fail(path, f"malformed signature line {line!r}")
        name, b64 = fields
        try:
            raw = b64decode_strict(b64)
        except Exception as e:
            fail(path, f"bad base64 in signature line of {name}: {e}")
        if len(raw) != 68:
            # Signatures of other algorithms may have another length; we only know Ed25519
            # keys, so a line of another length cannot be from one of ours.
            continue
        pk = known.get((name, raw[:4]))
        if pk is None:
            continue  # unknown signer (e.g. a witness): ignored
        if not ed25519_verify(pk, body.encode("utf-8"), raw[4:]):
            fail(path, f"signature of known key {name} (id {raw[:4].hex()}) does not verify")
        verified.append(name)
    if not verified:
        fail(path, "no signature from a known key: " + ", ".join(
            f"{n}+{k.hex()}" for (n, k) in known))
    return body, verified


def parse_checkpoint_body(body, path):
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        fail(path, "checkpoint body has fewer than 3 lines")
    origin, size_s, root_b64 = lines[:3]
    if not re.fullmatch(r"0|[1-9][0-9]*", size_s):
        fail(path, f"checkpoint size {size_s!r} is not a decimal without leading zeros")
    try:
        root = b64decode_strict(root_b64)
    except Exception as e:
        fail(path, f"checkpoint root is not base64: {e}")
    if len(root) != 32:
        fail(path, f"checkpoint root has {len(root)} bytes, not 32")
    return origin, int(size_s), root, lines[3:]


# ----------------------------------------------------------------------------- §8 zstd

MAX_ZSTD_WINDOW = 128 * 1024 * 1024


def parse_zstd_frame(data, path):
    """Checks that `data` is exactly one zstd frame (RFC 8878 §3.1.1) with a declared
    content size; returns (content size, window size)."""
    if len(data) < 6 or data[:4] != b"\x28\xb5\x2f\xfd":
        fail(path, "not a zstd frame (bad magic number)")
    fhd = data[4]
    fcs_flag = fhd >> 6
    single_segment = (fhd >> 5) & 1
    if (fhd >> 3) & 1:
        fail(path, "zstd frame header: reserved bit set")
    checksum = (fhd >> 2) & 1
    did_size = [0, 1, 2, 4][fhd & 3]
    pos = 5
    window = None
    if not single_segment:
        wd = data[pos]
        pos += 1
        exp, mant = wd >> 3, wd & 7
        base = 1 << (10 + exp)
        window = base + (base // 8) * mant
    pos += did_size
    fcs_size = [1 if single_segment else 0, 2, 4, 8][fcs_flag]
    if fcs_size == 0:
        fail(path, "zstd frame does not declare its content size")
    if pos + fcs_size > len(data):
        fail(path, "zstd frame header truncated")
    fcs = int.from_bytes(data[pos:pos + fcs_size], "little")
    if fcs_size == 2:
        fcs += 256
    pos += fcs_size
    if window is None:
        window = fcs
    if window > MAX_ZSTD_WINDOW:
        fail(path, f"zstd frame needs a {window}-byte window (above 128 MiB)")
    while True:
        if pos + 3 > len(data):
            fail(path, "zstd frame truncated in a block header")
        bh = int.from_bytes(data[pos:pos + 3], "little")
        pos += 3
        last, btype, bsize = bh & 1, (bh >> 1) & 3, bh >> 3
        if btype == 3:
            fail(path, "zstd block of reserved type")
        pos += 1 if btype == 1 else bsize
        if pos > len(data):
            fail(path, "zstd frame truncated in a block")
        if last:
            break
    if checksum:
        pos += 4
    if pos != len(data):
        fail(path, f"{len(data) - pos} bytes after the zstd frame (a block is one frame)")
    return fcs, window


def zstd_decompress(data, path):
    try:
        r = subprocess.run(["zstd", "-d", "-c", "-q", "--memory=128MB"], input=data,
                           capture_output=True, check=False)
    except FileNotFoundError:
        print("seal_reader: the `zstd` command-line tool is not installed", file=sys.stderr)
        sys.exit(2)
    if r.returncode != 0:
        fail(path, f"zstd decompression failed: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout


# ----------------------------------------------------------------------------- schemas

def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and -2**64 <= v < 2**64


def is_bytes(v, n=None):
    return isinstance(v, bytes) and (n is None or len(v) == n)


def is_text(v):
    return isinstance(v, str)


def is_valid_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def check_kernel_string(v, where):
    """§9: text when valid UTF-8, else bytes; a byte string holding valid UTF-8 is wrong."""
    if isinstance(v, str):
        return None
    if isinstance(v, bytes):
        if is_valid_utf8(v):
            return f"{where} is a byte string but its content is valid UTF-8"
        return None
    return f"{where} is not a string"


MICRO_FIELDS = [
    ("tag", None), ("store_id", lambda v: is_bytes(v, 16)), ("node_id", is_text),
    ("log_index", is_uint), ("slot_start_ns", is_int), ("window_ns", is_uint),
    ("part", is_uint), ("first_seq", is_uint), ("event_count", is_uint),
    ("loss_count", is_uint), ("filtered_count", is_uint), ("min_wall_ns", is_int),
    ("max_wall_ns", is_int), ("micro_root", lambda v: is_bytes(v, 32)),
    ("blocks", lambda v: isinstance(v, list)), ("type_counts", lambda v: isinstance(v, list)),
    ("run", lambda v: isinstance(v, list)), ("privacy", is_text), ("sealed_ns", is_int),
]


def parse_micro(data, path):
    v = decode_one(data, path, "micro record")
    if not isinstance(v, list) or len(v) != len(MICRO_FIELDS):
        fail(path, f"micro record is not an array of {len(MICRO_FIELDS)} elements")
    if v[0] != "ritma-micro@1":
        fail(path, f"micro record tag is {v[0]!r}, not 'ritma-micro@1'")
    rec = {}
    for (name, check), x in zip(MICRO_FIELDS, v):
        if check is not None and not check(x):
            fail(path, f"micro record field {name} has the wrong type: {x!r}")
        rec[name] = x
    for i, b in enumerate(rec["blocks"]):
        if not (isinstance(b, list) and len(b) == 5 and is_text(b[0]) and is_bytes(b[1], 32)
                and is_uint(b[2]) and is_uint(b[3]) and is_uint(b[4])):
            fail(path, f"micro record blocks[{i}] is not [file, b3(32), zstd_bytes, "
                       f"raw_bytes, event_count]")
    for i, tc in enumerate(rec["type_counts"]):
        if not (isinstance(tc, list) and len(tc) == 2 and is_uint(tc[0]) and is_uint(tc[1])):
            fail(path, f"micro record type_counts[{i}] is not [type, count]")
    r = rec["run"]
    if not (len(r) == 4 and is_uint(r[0]) and is_bytes(r[1], 16) and is_text(r[2])
            and is_text(r[3])):
        fail(path, "micro record run is not [run_id, boot_id(16), sensor_version, "
                   "config_digest]")
    if rec["privacy"] not in ("raw", "hash-only"):
        fail(path, f"micro record privacy is {rec['privacy']!r}")
    return rec


# index: (name, checker) for the 37 atom fields (§9)
def _addr_ok(a):
    if not (isinstance(a, list) and len(a) == 4 and is_uint(a[0]) and isinstance(a[1], bytes)
            and is_uint(a[2])):
        return False
    fam, ip = a[0], a[1]
    if fam == 2:
        return len(ip) == 4
    if fam == 10:
        return len(ip) == 16
    return len(ip) == 0


ATOM_FIELDS = (
    [("tag", None), ("boot_id", lambda v: is_bytes(v, 16)), ("seq", is_uint),
     ("mono_ns", is_uint), ("wall_ns", is_int), ("type", is_uint), ("op", is_uint),
     ("flags", is_uint), ("result", is_int), ("actor", lambda v: is_bytes(v, 16))]
    + [(n, is_uint) for n in ("pid", "tid", "ppid", "uid", "gid", "euid", "egid", "start_ns")]
    + [("comm", "kstr"), ("exe", "kstr"), ("cgroup_id", is_uint), ("container_id", is_text),
       ("unit", "kstr"), ("mntns", is_uint), ("pidns", is_uint), ("netns", is_uint),
       ("path", "kstr"), ("path2", "kstr"), ("argv", "argv")]
    + [(f"arg{i}", is_uint) for i in range(4)]
    + [("addr", _addr_ok), ("dns_name", is_text), ("dns_type", is_uint), ("count", is_uint)])
assert len(ATOM_FIELDS) == 37


def check_atom(v, path, where):
    if not isinstance(v, list) or len(v) != 37:
        fail(path, f"{where}: not an array of 37 elements")
    if v[0] != "ritma-ev@1":
        fail(path, f"{where}: tag is {v[0]!r}, not 'ritma-ev@1'")
    for i, ((name, check), x) in enumerate(zip(ATOM_FIELDS, v)):
        if check is None:
            continue
        if check == "kstr":
            err = check_kernel_string(x, f"field {i} ({name})")
        elif check == "argv":
            err = None
            if not isinstance(x, list):
                err = "field 28 (argv) is not an array"
            else:
                for j, s in enumerate(x):
                    err = err or check_kernel_string(s, f"argv[{j}]")
        else:
            err = None if check(x) else f"field {i} ({name}) has the wrong type: {x!r}"
        if err:
            fail(path, f"{where}: {err}")
    err = check_kernel_string(v[33][3], "addr unix_path")
    if err:
        fail(path, f"{where}: {err}")


# ----------------------------------------------------------------------------- §10 paths

HOUR_NS = 3600 * 10**9


def hour_dir(slot_start_ns):
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        microseconds=(slot_start_ns // HOUR_NS) * HOUR_NS // 1000)
    return os.path.join("windows", f"{t.year:04d}", f"{t.month:02d}", f"{t.day:02d}",
                        f"{t.hour:02d}")


def stem_of(rec):
    slot = (rec["slot_start_ns"] % HOUR_NS) // rec["window_ns"]
    stem = f"w{slot:03d}"
    if rec["part"]:
        stem += f"-{rec['part']}"
    return stem


# ----------------------------------------------------------------------------- main

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("out", metavar="RITMA_OUT")
    ap.add_argument("--window", type=int, metavar="LOG_INDEX",
                    help="log index of the window to check (default: the last sealed window "
                         "with events)")
    ap.add_argument("--pubkey", metavar="NODE_PUB_FILE",
                    help="public key file (§4.1) to trust (default: "
                         "RITMA_OUT/_meta/keys/node.pub)")
    args = ap.parse_args(argv)
    try:
        return run(args)
    except Failure as e:
        print(f"FAIL: {e}")
        return 1


def run(args):
    out = args.out
    P = lambda *parts: os.path.join(out, *parts)  # noqa: E731
    warnings = []
    say = print

    # --- keys (§4.1, §10.9)
    pub_path = args.pubkey or P("_meta", "keys", "node.pub")
    key_name, pk = read_public_key_file(pub_path)
    kid = key_id(key_name, pk)
    say(f"key        {key_name}+{kid.hex()} fingerprint {fingerprint(pk)} (from {pub_path})")
    # Keys trusted for signatures: (name, pk) -> (valid_from, valid_until) or None (no range).
    trusted = {(key_name, pk): None}
    keys_path = P("_meta", "keys", "keys.cbor")
    if os.path.exists(keys_path):
        trusted = check_keys_file(keys_path, key_name, pk, pinned=args.pubkey is not None)
        say(f"keys.cbor  hand-overs verified; {len(trusted)} key(s) trusted"
            + (" from the pinned key onwards" if args.pubkey else ""))
    else:
        say("keys.cbor  absent: trusting only the pinned key")

    def check_sig_file(sig_path, signed_bytes, when):
        try:
            data = open(sig_path, "rb").read()
        except OSError as e:
            fail(sig_path, f"cannot read: {e}")
        s = decode_one(data, sig_path, "signature")
        if not (isinstance(s, list) and len(s) == 4 and s[0] == "ritma-sig@1"
                and is_text(s[1]) and is_bytes(s[2], 32) and is_bytes(s[3], 64)):
            fail(sig_path, "not [\"ritma-sig@1\", key_name, public_key(32), signature(64)]")
        rng = trusted.get((s[1], s[2]), "missing")
        if rng == "missing":
            fail(sig_path, f"signed by {s[1]} {fingerprint(s[2])}, not a trusted key")
        if rng is not None:
            lo, hi = rng
            if when < lo or (hi is not None and when >= hi):
                fail(sig_path, f"signing key {s[1]} is not valid at {when} "
                               f"(valid {lo}..{hi})")
        if not ed25519_verify(s[2], b"ritma-sig@1\x00" + signed_bytes, s[3]):
            fail(sig_path, "Ed25519 signature does not verify")
        return s[1]

    # --- store identity (§10.1)
    store = None
    store_path = P("_meta", "store.cbor")
    if os.path.exists(store_path):
        data = open(store_path, "rb").read()
        v = decode_one(data, store_path, "store record")
        if not (isinstance(v, list) and len(v) == 6 and v[0] == "ritma-store@1"
                and v[1] == 1 and is_bytes(v[2], 16) and is_text(v[3]) and is_int(v[4])
                and is_uint(v[5]) and v[5] > 0):
            fail(store_path, "not [\"ritma-store@1\", 1, store_id(16), node_id, created_ns, "
                             "window_ns]")
        if (3600 * 10**9) % v[5] != 0:
            fail(store_path, f"window_ns {v[5]} does not divide 3600 s")
        check_sig_file(P("_meta", "store.sig"), data, v[4])
        store = {"store_id": v[2], "node_id": v[3], "window_ns": v[5]}
        say(f"store      {v[2].hex()} node {v[3]!r} window {v[5] / 1e9:g} s "
            f"(store.sig verified)")
    else:
        say("store      _meta/store.cbor absent: not checked")

    # --- window log (§10.5) and checkpoints (§10.6)
    wlog_path = P("log", "windows.log")
    clog_path = P("log", "checkpoints.log")
    wframes = read_frames(wlog_path, warnings)
    cframes = read_frames(clog_path, warnings)
    if not wframes:
        fail(wlog_path, "the window log holds no record")
    if len(cframes) > len(wframes):
        fail(clog_path, f"{len(cframes)} checkpoints for {len(wframes)} window records")
    sealed = len(cframes)
    if sealed < len(wframes):
        warnings.append(f"{wlog_path}: {len(wframes) - sealed} record(s) from index {sealed} "
                        f"have no checkpoint: unsealed tail, not sealed evidence")
    records = []
    for i, fr in enumerate(wframes):
        rec = parse_micro(fr, f"{wlog_path} frame {i}")
        if rec["log_index"] != i:
            fail(wlog_path, f"frame {i} holds a record with log_index {rec['log_index']}")
        records.append(rec)
    say(f"log        {len(wframes)} window record(s), {len(cframes)} checkpoint(s)")

    if args.window is not None:
        idx = args.window
        if not 0 <= idx < len(wframes):
            fail(wlog_path, f"no record with log index {idx} (log has {len(wframes)})")
        if idx >= sealed:
            fail(clog_path, f"record {idx} has no checkpoint: unsealed tail")
    else:
        with_events = [i for i in range(sealed) if records[i]["event_count"] > 0]
        if with_events:
            idx = with_events[-1]
        elif sealed:
            idx = sealed - 1
            say("window     no sealed window has events; checking the last one")
        else:
            fail(clog_path, "no sealed window (no checkpoint)")
    rec = records[idx]

    # --- the micro record (§10.4)
    hdir = hour_dir(rec["slot_start_ns"])
    stem = stem_of(rec)
    micro_rel = os.path.join(hdir, "micro", stem + ".cbor")
    micro_path = P(micro_rel)
    where = f"{micro_rel} (log index {idx})"
    say(f"window     {where}: slot {rec['slot_start_ns']} window {rec['window_ns']} ns, "
        f"{rec['event_count']} event(s) from seq {rec['first_seq']}")
    if rec["window_ns"] == 0 or HOUR_NS % rec["window_ns"] != 0:
        fail(micro_path, f"window_ns {rec['window_ns']} does not divide 3600 s")
    if rec["slot_start_ns"] % rec["window_ns"] != 0:
        fail(micro_path, "slot_start_ns is not a multiple of window_ns")
    if store is not None:
        for f in ("store_id", "node_id", "window_ns"):
            if rec[f] != store[f]:
                fail(micro_path, f"{f} {rec[f]!r} differs from _meta/store.cbor {store[f]!r}")
    try:
        micro_bytes = open(micro_path, "rb").read()
    except OSError as e:
        fail(micro_path, f"cannot read the micro file: {e}")
    if micro_bytes != wframes[idx]:
        fail(micro_path, f"micro file differs from frame {idx} of log/windows.log")
    say("  micro file equals its window-log frame")
    signer = check_sig_file(os.path.join(out, hdir, "micro", stem + ".sig"), micro_bytes,
                            rec["sealed_ns"])
    say(f"  micro signature verified ({signer})")

    # --- blocks (§10.3)
    atoms = []
    for k, (fname, b3, zbytes, rbytes, count) in enumerate(rec["blocks"]):
        expected_name = f"{stem}.b{k}.zst"
        if fname != expected_name:
            fail(micro_path, f"blocks[{k}] is named {fname!r}, expected {expected_name!r}")
        bpath = os.path.join(out, hdir, "blocks", fname)
        try:
            zdata = open(bpath, "rb").read()
        except OSError as e:
            fail(bpath, f"cannot read block: {e}")
        if len(zdata) != zbytes:
            fail(bpath, f"block has {len(zdata)} bytes, the micro record says {zbytes}")
        fcs, _ = parse_zstd_frame(zdata, bpath)
        if fcs != rbytes:
            fail(bpath, f"zstd frame declares {fcs} content bytes, the micro record says "
                        f"{rbytes}")
        raw = zstd_decompress(zdata, bpath)
        if len(raw) != rbytes:
            fail(bpath, f"decompressed to {len(raw)} bytes, the micro record says {rbytes}")
        items = split_sequence(raw, bpath)
        if len(items) != count:
            fail(bpath, f"holds {len(items)} atoms, the micro record says {count}")
        if count > 65536:
            fail(bpath, f"{count} events in one block (at most 65,536)")
        for off, atom_raw, v in items:
            check_atom(v, bpath, f"atom at decompressed offset {off}")
            atoms.append((bpath, off, atom_raw, v))
        say(f"  block {fname}: {zbytes} B zstd, {rbytes} B raw, {count} atom(s) "
            f"(BLAKE3 b3 {b3.hex()[:16]}... NOT checked: no BLAKE3 in Python's hashlib)")

    # --- atoms against the record
    if len(atoms) != rec["event_count"]:
        fail(micro_path, f"blocks hold {len(atoms)} atoms, event_count is "
                         f"{rec['event_count']}")
    loss = filtered = 0
    types = {}
    walls = []
    for i, (bpath, off, _, v) in enumerate(atoms):
        if v[2] != rec["first_seq"] + i:
            fail(bpath, f"atom at decompressed offset {off} has seq {v[2]}, expected "
                        f"{rec['first_seq'] + i} (seq must be contiguous from first_seq)")
        if v[1] != rec["run"][1]:
            fail(bpath, f"atom seq {v[2]}: boot_id {v[1].hex()} is not the run's "
                        f"{rec['run'][1].hex()}")
        types[v[5]] = types.get(v[5], 0) + 1
        if v[5] == 100:
            loss += v[36]
        elif v[5] == 101:
            filtered += v[36]
        walls.append(v[4])
    say(f"  {len(atoms)} atom(s): canonical CBOR, 37 fields each, seq "
        f"{rec['first_seq']}..{rec['first_seq'] + len(atoms) - 1} contiguous")
    checks = [
        ("loss_count", loss), ("filtered_count", filtered),
        ("type_counts", [[t, c] for t, c in sorted(types.items())]),
        ("min_wall_ns", min(walls) if walls else 0), ("max_wall_ns", max(walls) if walls else 0),
    ]
    from_blocks = "the atoms of " + (", ".join(b[0] for b in rec["blocks"]) or "no block")
    for f, got in checks:
        if rec[f] != got:
            fail(micro_path, f"{f} is {rec[f]!r}, {from_blocks} give {got!r}")
    say("  counts (loss, filtered, types, min/max wall time) match the atoms")

    root = mth([a[2] for a in atoms])
    if root != rec["micro_root"]:
        fail(micro_path, f"micro_root {rec['micro_root'].hex()} != {root.hex()} recomputed "
                         f"from {from_blocks}")
    say(f"  micro root {root.hex()} recomputed (RFC 9162, SHA-256)")

    # §10.5: contiguity with the previous record of the same run
    if idx > 0:
        prev = records[idx - 1]
        if prev["run"][0] == rec["run"][0] and prev["run"][1] == rec["run"][1]:
            if prev["first_seq"] + prev["event_count"] != rec["first_seq"]:
                fail(micro_path, f"first_seq {rec['first_seq']} does not continue record "
                                 f"{idx - 1} ({prev['first_seq']} + {prev['event_count']})")
            say(f"  first_seq continues record {idx - 1} of the same run")

    # --- checkpoint of size idx+1 (§5, §10.6)
    known = {(n, key_id(n, k)): k for (n, k) in trusted}
    origin = f"ritma-windows/{rec['node_id']}/{rec['store_id'].hex()}"
    leaf_hashes = [leaf_hash(f) for f in wframes[:sealed]]

    def check_checkpoint(note, cpath, size):
        body, signers = verify_note(note, cpath, known)
        o, n, r, ext = parse_checkpoint_body(body, cpath)
        if o != origin:
            fail(cpath, f"origin {o!r}, expected {origin!r}")
        if n != size:
            fail(cpath, f"checkpoint size {n}, expected {size}")
        if ext:
            fail(cpath, f"checkpoint has extension lines {ext!r} (none expected)")
        want = mth_of_leaf_hashes(leaf_hashes[:size])
        if r != want:
            fail(cpath, f"checkpoint root {r.hex()} != recomputed window-log root {want.hex()} "
                        f"for size {size}")
        return r, signers

    r, signers = check_checkpoint(cframes[idx], f"{clog_path} frame {idx}", idx + 1)
    say(f"checkpoint size {idx + 1} root {r.hex()} matches the window log; signed by "
        f"{', '.join(signers)}; origin {origin}")

    cp_path = P("log", "checkpoint")
    try:
        cp = open(cp_path, "rb").read()
    except OSError as e:
        fail(cp_path, f"cannot read: {e}")
    if cp == cframes[-1]:
        check_checkpoint(cp, cp_path, sealed)
        say(f"checkpoint log/checkpoint = newest (size {sealed}), verified")
    elif len(cframes) >= 2 and cp == cframes[-2]:
        check_checkpoint(cp, cp_path, sealed - 1)
        warnings.append(f"{cp_path}: one behind log/checkpoints.log (crash before the copy)")
    else:
        fail(cp_path, "differs from the last frame of log/checkpoints.log")

    for w in warnings:
        say(f"WARNING: {w}")
    say("NOTE: BLAKE3 digests (block b3) were NOT checked: Python's hashlib has no BLAKE3 "
        "and this reader uses only the standard library, cbor2 and PyNaCl.")
    say(f"OK: window {idx} ({micro_rel}) verified")
    return 0


def check_keys_file(path, pinned_name, pinned_pk, pinned):
    """§10.9: returns {(name, pk): (valid_from, valid_until)} for the keys the pinned key
    reaches (itself and the keys handed over from it onwards). Without a pin (--pubkey),
    node.pub must be the newest key and every key of the verified hand-over chain is
    trusted."""
    data = open(path, "rb").read()
    v = decode_one(data, path, "keys record")
    if not (isinstance(v, list) and len(v) == 2 and v[0] == "ritma-keys@1"
            and isinstance(v[1], list) and v[1]):
        fail(path, "not [\"ritma-keys@1\", [key, ...]]")
    keys = v[1]
    for i, k in enumerate(keys):
        if not (isinstance(k, list) and len(k) == 5 and is_text(k[0]) and is_bytes(k[1], 32)
                and is_int(k[2]) and (k[3] is None or is_int(k[3]))
                and (k[4] is None or (isinstance(k[4], list) and len(k[4]) == 2
                                      and is_bytes(k[4][0], 32) and is_bytes(k[4][1], 64)))):
            fail(path, f"key {i} is not [name, pk(32), from, until|null, handover|null]")
        if i == 0:
            if k[4] is not None:
                fail(path, "the first key has a hand-over")
        else:
            prev = keys[i - 1]
            if k[4] is None:
                fail(path, f"key {i} ({k[0]}) has no hand-over")
            if k[4][0] != prev[1]:
                fail(path, f"key {i} hand-over names another previous key")
            msg = b"ritma-sig@1\x00" + cbor2.dumps(["ritma-handover@1", k[0], k[1], k[2]])
            if not ed25519_verify(prev[1], msg, k[4][1]):
                fail(path, f"hand-over to key {i} ({k[0]}) does not verify")
            if prev[3] != k[2]:
                fail(path, f"key {i - 1} valid_until {prev[3]} != key {i} valid_from {k[2]}")
        if (k[3] is None) != (i == len(keys) - 1):
            fail(path, "only the last key has valid_until null")
    start = None
    for i, k in enumerate(keys):
        if k[0] == pinned_name and k[1] == pinned_pk:
            start = i
    if start is None:
        fail(path, f"the pinned key {pinned_name} {fingerprint(pinned_pk)} is not in it")
    if not pinned:
        if start != len(keys) - 1:
            fail(path, "node.pub is not the newest key of keys.cbor")
        start = 0
    return {(k[0], k[1]): (k[2], k[3]) for k in keys[start:]}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
