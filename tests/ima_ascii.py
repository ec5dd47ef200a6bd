#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Read an IMA ASCII measurement list the way Keylime's verifier does, for the tests.

    ima_ascii.py replay FILE          check every line and print the sha1 and
                                      sha256 values PCR 10 reaches
    ima_ascii.py tail FILE STOPFILE   read FILE through one descriptor, as the
                                      Keylime agent does, until STOPFILE exists;
                                      print what it saw, fail on a bad line

A line is "PCR template-hash template-name fields": ima-ng "algo:hex name",
ima-sig "algo:hex name sighex" and ima-buf "algo:hex name bufhex" (an empty
last field keeps its space). The template data is rebuilt from the fields
and its SHA-1 must be the line's template hash. Written from IMA's
documented formats; shares no code with bima.
"""
import hashlib
import os
import struct
import sys
import time

TEMPLATES = {"ima-ng": 1, "ima-sig": 2, "ima-buf": 2}


def field(data):
    return struct.pack("<I", len(data)) + data


def parse(line):
    """(pcr, template data) of one line without its newline, or raise ValueError."""
    pcr, thash, name, rest = line.split(b" ", 3)
    if pcr != b"10" or len(thash) != 40 or name.decode() not in TEMPLATES:
        raise ValueError("bad head")
    if thash == b"0" * 40:
        # A violation (ToMToU, open_writers): Keylime's Entry.invalid records it as a
        # "tomtou" failure event, and the attestation that covers it fails.
        raise ValueError("tomtou: a violation entry, which Keylime counts as a failure")
    if TEMPLATES[name.decode()] == 1:
        digest, path = rest.split(b" ", 1)
        last = None
    else:
        digest, rest = rest.split(b" ", 1)
        path, last = rest.rsplit(b" ", 1)
    algo, hexd = digest.split(b":", 1)
    data = field(algo + b":\0" + bytes.fromhex(hexd.decode())) + field(path + b"\0")
    if last is not None:
        data += field(bytes.fromhex(last.decode()))
    if hashlib.sha1(data).hexdigest().encode() != thash:
        raise ValueError("template hash does not match the fields")
    path.decode("utf-8")  # the Rust agent reads the file as UTF-8
    return int(pcr), data


def replay(path):
    pcrs = {"sha1": bytes(20), "sha256": bytes(32)}
    with open(path, "rb") as f:
        text = f.read()
    if not text.endswith(b"\n"):
        raise SystemExit("the list does not end with a whole line")
    for n, line in enumerate(text.split(b"\n")[:-1]):
        try:
            _, data = parse(line)
        except (ValueError, UnicodeDecodeError) as e:
            raise SystemExit("line %d: %s: %r" % (n + 1, e, line[:200]))
        for bank in pcrs:
            pcrs[bank] = hashlib.new(bank, pcrs[bank] + hashlib.new(bank, data).digest()).digest()
    for bank, value in pcrs.items():
        print(bank, value.hex())


def tail(path, stop):
    fd = os.open(path, os.O_RDONLY)
    pending, lines, torn, bad = b"", 0, 0, 0
    while True:
        done = os.path.exists(stop)
        chunk = os.read(fd, 1 << 16)
        while chunk:
            pending += chunk
            chunk = os.read(fd, 1 << 16)
        *whole, pending = pending.split(b"\n")
        for line in whole:
            lines += 1
            try:
                parse(line)
            except (ValueError, UnicodeDecodeError) as e:
                bad += 1
                print("bad line %d: %s: %r" % (lines, e, line[:200]))
        torn += bool(pending)
        if done:
            break
        time.sleep(0.01)
    print("lines %d bad %d torn-reads %d left %d" % (lines, bad, torn, len(pending)))
    sys.exit(1 if bad or pending else 0)


if __name__ == "__main__":
    if sys.argv[1] == "replay":
        replay(sys.argv[2])
    else:
        tail(sys.argv[2], sys.argv[3])
