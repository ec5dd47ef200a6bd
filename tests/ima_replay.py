#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Independent replay of IMA binary measurement lists, for the tests.

Written from the kernel's documented layout, sharing no code with bima:
    ima_replay.py BANK PCR FILE...
prints the hex value PCR reaches in BANK (sha1, sha256, ...) after every
entry of the FILEs, concatenated in order. With --entries it prints
"pcr template-hash name" per entry instead, and with --digests the
d-ng digest and path of each entry.
"""
import hashlib
import struct
import sys


def entries(data):
    off = 0
    while off < len(data):
        pcr, = struct.unpack_from("<I", data, off)
        thash = data[off + 4:off + 24]
        nlen, = struct.unpack_from("<I", data, off + 24)
        name = data[off + 28:off + 28 + nlen].decode()
        off += 28 + nlen
        dlen, = struct.unpack_from("<I", data, off)
        tdata = data[off + 4:off + 4 + dlen]
        if len(tdata) != dlen:
            raise SystemExit("truncated entry at byte %d" % off)
        off += 4 + dlen
        yield pcr, thash, name, tdata


def fields(tdata):
    out, off = [], 0
    while off < len(tdata):
        n, = struct.unpack_from("<I", tdata, off)
        out.append(tdata[off + 4:off + 4 + n])
        off += 4 + n
    return out


def main():
    mode = None
    args = sys.argv[1:]
    if args and args[0] in ("--entries", "--digests"):
        mode = args.pop(0)
    if mode:
        files = args
    else:
        bank, pcr, files = args[0], int(args[1]), args[2:]
    data = b"".join(open(f, "rb").read() for f in files)
    size = hashlib.new(bank).digest_size if not mode else 0
    value = bytes(size)
    for epcr, thash, name, tdata in entries(data):
        if mode == "--entries":
            print(epcr, thash.hex(), name)
            continue
        if mode == "--digests":
            d, n = fields(tdata)[:2]
            algo, digest = d.split(b":\0", 1)
            print("%s:%s %s" % (algo.decode(), digest.hex(), n.rstrip(b"\0").decode()))
            continue
        if epcr != pcr:
            continue
        if thash == bytes(20):
            ext = b"\xff" * size
        else:
            ext = hashlib.new(bank, tdata).digest()
        value = hashlib.new(bank, value + ext).digest()
    if not mode:
        print(value.hex())


if __name__ == "__main__":
    main()
