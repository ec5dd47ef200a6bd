#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Alter one segment of a bima log the way an attacker would, for the tamper tests.

    tamper.py flip SEGMENT INDEX FIELD   flip one byte of entry INDEX (from 0):
                                         FIELD is hash (the template hash column),
                                         digest (the d-ng file digest), name (the
                                         n-ng path) or buf (an ima-buf buffer)
    tamper.py delete SEGMENT INDEX       remove entry INDEX
    tamper.py dup SEGMENT INDEX          write entry INDEX twice
    tamper.py swap SEGMENT INDEX         exchange entries INDEX and INDEX+1
    tamper.py forge SEGMENT INDEX        change a PCR value in the snapshot_aggregate
                                         entry INDEX and give it the template hash
                                         of its new data: a well-formed forgery
    tamper.py index SEGMENT NAME         print the index of the first entry whose
                                         n-ng path is NAME

Written from IMA's binary layout; shares no code with bima.
"""
import hashlib
import struct
import sys


def split(data):
    """The entries of a segment, as (offset, bytes, fields) with field offsets."""
    out, off = [], 0
    while off < len(data):
        start = off
        nlen, = struct.unpack_from("<I", data, off + 24)
        off += 28 + nlen
        dlen, = struct.unpack_from("<I", data, off)
        off += 4
        fields, f = [], off
        while f < off + dlen:
            flen, = struct.unpack_from("<I", data, f)
            fields.append((f + 4 - start, flen))
            f += 4 + flen
        off += dlen
        out.append((start, bytearray(data[start:off]), fields))
    return out


def main():
    op, path, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path, "rb") as f:
        entries = split(f.read())
    if op == "index":
        for i, (_, e, fields) in enumerate(entries):
            at, n = fields[1]
            if e[at:at + n - 1].decode(errors="replace") == sys.argv[3]:
                print(i)
                return
        raise SystemExit("no entry named %s" % arg)
    i = int(arg)
    e = entries[i][1]
    if op == "flip":
        field = sys.argv[4]
        if field == "hash":
            at = 4
        elif field == "digest":
            at = entries[i][2][0][0] + entries[i][2][0][1] - 1  # the digest's last byte
        elif field == "name":
            at = entries[i][2][1][0]  # the path's first byte
        elif field == "buf":
            at = entries[i][2][-1][0] + 1
        else:
            raise SystemExit("unknown field %s" % field)
        e[at] ^= 0x01
    elif op == "forge":
        at, n = entries[i][2][-1]
        at = e.index(b"sha256=", at) + len("sha256=")
        e[at] = ord("1") if e[at] == ord("0") else ord("0")
        dstart = entries[i][2][0][0] - 4
        e[4:24] = hashlib.sha1(bytes(e[dstart:])).digest()
    elif op == "delete":
        del entries[i]
    elif op == "dup":
        entries.insert(i, entries[i])
    elif op == "swap":
        entries[i], entries[i + 1] = entries[i + 1], entries[i]
    else:
        raise SystemExit("unknown operation %s" % op)
    with open(path, "wb") as f:
        for _, e, _ in entries:
            f.write(e)


main()
