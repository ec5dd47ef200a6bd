#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Independent replay of a CEL-JSON log to the TPM's PCRs, for the tests.

Written from the TCG Canonical Event Log's JSON encoding and RFC 7464,
sharing no code with bima:
    cel_replay.py [--array] [--tcti TCTI] [--paths] FILE
reads FILE as JSON text sequences (each record after an RS, 0x1e, and
before a LF), or with --array as one JSON array; checks that the bytes are
UTF-8 and every record is strict JSON with recnum counting from 0, pcr,
digests (hashAlg, lowercase hex digest of the bank's size), content_type
ima_template and content (template_name, template_data in hex), and that
each digest is the bank's hash of the template data (or all 0xff, a
violation, or, for a bank a kernel extends so, the zero-padded SHA-1 of
the data: "padded BANK N" counts those). It replays every bank of every PCR from zero and prints
"PCR N BANK HEX" per PCR and bank; with --tcti it reads each of them with
tpm2_pcrread and prints "match" or "MISMATCH tpm HEX" after it, exiting 1
on a mismatch. --paths prints each entry's n-ng path (the template data's
second field), bytes above 0x7e as \\xHH.
"""
import hashlib
import json
import re
import subprocess
import sys

SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
PADDED = {}  # bank: records whose digest is the zero-padded SHA-1 of the data


def fail(msg):
    sys.exit("cel_replay: " + msg)


def no_constants(name):
    fail("not strict JSON: %s" % name)


def strict(text):
    return json.loads(text, parse_constant=no_constants)


def records(raw, array):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        fail("not UTF-8: %s" % e)
    if array:
        recs = strict(text)
        if not isinstance(recs, list):
            fail("not a JSON array")
        return recs
    if text and not text.startswith("\x1e"):
        fail("a JSON text sequence starts with RS")
    out = []
    for chunk in text.split("\x1e")[1:]:
        if not chunk.endswith("\n") or "\n" in chunk[:-1]:
            fail("a record is not one line ended by LF: %r" % chunk[:80])
        out.append(strict(chunk))
    return out


def fields(data):
    out, off = [], 0
    while off < len(data):
        n = int.from_bytes(data[off:off + 4], "little")
        out.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return out


def check(rec, want):
    if sorted(rec) != ["content", "content_type", "digests", "pcr", "recnum"]:
        fail("record %d: members %s" % (want, sorted(rec)))
    if rec["recnum"] != want:
        fail("recnum %r, expected %d" % (rec["recnum"], want))
    if rec["content_type"] != "ima_template":
        fail("record %d: content_type %r" % (want, rec["content_type"]))
    c = rec["content"]
    if sorted(c) != ["template_data", "template_name"]:
        fail("record %d: content members %s" % (want, sorted(c)))
    if not re.fullmatch(r"([0-9a-f]{2})*", c["template_data"]):
        fail("record %d: template_data is not lowercase hex" % want)
    data = bytes.fromhex(c["template_data"])
    for d in rec["digests"]:
        alg, hexd = d["hashAlg"], d["digest"]
        if alg not in SIZES or not re.fullmatch("[0-9a-f]{%d}" % (2 * SIZES[alg]), hexd):
            fail("record %d: digest %r" % (want, d))
        got = bytes.fromhex(hexd)
        padded = hashlib.sha1(data).digest().ljust(SIZES[alg], b"\0")
        if got == padded and alg != "sha1":
            PADDED[alg] = PADDED.get(alg, 0) + 1
        elif got != hashlib.new(alg, data).digest() and got != b"\xff" * SIZES[alg]:
            fail("record %d: %s digest is not the bank's hash of the data" % (want, alg))
    return data


def pcrread(tcti, bank, pcr):
    out = subprocess.run(["tpm2_pcrread", "-T", tcti, "%s:%d" % (bank, pcr)],
                         capture_output=True, text=True).stdout
    m = re.search(r"^\s*%d\s*:\s*0x([0-9A-Fa-f]+)" % pcr, out, re.M)
    return m.group(1).lower() if m else None


def main():
    args = sys.argv[1:]
    array = "--array" in args
    paths = "--paths" in args
    tcti = args[args.index("--tcti") + 1] if "--tcti" in args else None
    recs = records(open(args[-1], "rb").read(), array)
    pcrs = {}
    for i, rec in enumerate(recs):
        data = check(rec, i)
        if paths:
            f = fields(data)
            if len(f) > 1:
                print("path " + "".join(chr(b) if 0x20 <= b < 0x7f else "\\x%02x" % b
                                        for b in f[1].rstrip(b"\0")))
        for d in rec["digests"]:
            key = (rec["pcr"], d["hashAlg"])
            value = pcrs.get(key, bytes(SIZES[d["hashAlg"]]))
            pcrs[key] = hashlib.new(d["hashAlg"], value + bytes.fromhex(d["digest"])).digest()
    print("records %d" % len(recs))
    for alg, n in sorted(PADDED.items()):
        print("padded %s %d" % (alg, n))
    bad = 0
    for (pcr, bank), value in sorted(pcrs.items()):
        line = "PCR %d %s %s" % (pcr, bank, value.hex())
        if tcti:
            tpm = pcrread(tcti, bank, pcr)
            if tpm is None:
                line += " no-bank"
            elif tpm == value.hex():
                line += " match"
            else:
                line += " MISMATCH tpm " + tpm
                bad += 1
        print(line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
