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
    tamper.py own-key DIR NONCE PUB.der  forge a bundle in DIR that brings its own
                                         key: DIR/ak.pub (PUB.der, a P-256
                                         SubjectPublicKeyInfo, as a TPM2B_PUBLIC),
                                         an invented one-entry log in DIR/epoch-1-0
                                         and DIR/quote.attest, a TPMS_ATTEST of a
                                         quote of PCR 11 (sha256) over NONCE that
                                         the log replays to; the caller signs it
    tamper.py pad FILE SIZE              append zero bytes to FILE up to SIZE

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


def own_key(out, nonce, pub_der):
    """A bundle no TPM ever saw: the attacker's key, log and quote."""
    import os
    with open(pub_der, "rb") as f:
        point = f.read()[-64:]  # the SubjectPublicKeyInfo ends with 04 || x || y
    area = struct.pack(">HHI", 0x0023, 0x000B, 0x00050072)  # ECC, sha256, restricted sign
    area += struct.pack(">H", 0)  # no auth policy
    area += struct.pack(">HHHHH", 0x0010, 0x0018, 0x000B, 0x0003, 0x0010)  # ECDSA P-256
    area += struct.pack(">H", 32) + point[:32] + struct.pack(">H", 32) + point[32:]
    with open(os.path.join(out, "ak.pub"), "wb") as f:
        f.write(struct.pack(">H", len(area)) + area)
    with open(os.path.join(out, "ak.priv"), "wb") as f:
        f.write(b"\0\2xx")  # read, never used
    path = b"/bin/evil\0"
    digest = b"sha256:\0" + hashlib.sha256(b"evil").digest()
    data = struct.pack("<I", len(digest)) + digest + struct.pack("<I", len(path)) + path
    entry = struct.pack("<I", 11) + hashlib.sha1(data).digest()
    entry += struct.pack("<I", 6) + b"ima-ng" + struct.pack("<I", len(data)) + data
    os.makedirs(os.path.join(out, "epoch-1-0"), exist_ok=True)
    with open(os.path.join(out, "epoch-1-0", "segment-000001.bin"), "wb") as f:
        f.write(entry)
    pcr = hashlib.sha256(b"\0" * 32 + hashlib.sha256(data).digest()).digest()
    nonce = bytes.fromhex(nonce)
    attest = struct.pack(">IH", 0xFF544347, 0x8018)  # TPM_GENERATED, ST_ATTEST_QUOTE
    attest += struct.pack(">H", 0)  # qualified signer
    attest += struct.pack(">H", len(nonce)) + nonce
    attest += struct.pack(">QIIB", 123456, 1, 0, 1)  # clock, reset 1, restart 0, safe
    attest += struct.pack(">Q", 0)  # firmware
    attest += struct.pack(">IHB3s", 1, 0x000B, 3, bytes([0, 1 << 3, 0]))  # PCR 11, sha256
    attest += struct.pack(">H", 32) + hashlib.sha256(pcr).digest()
    with open(os.path.join(out, "quote.attest"), "wb") as f:
        f.write(attest)


def main():
    op, path, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    if op == "own-key":
        own_key(path, arg, sys.argv[4])
        return
    if op == "pad":
        with open(path, "ab") as f:
            f.truncate(int(arg))
        return
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
