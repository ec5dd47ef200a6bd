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
    tamper.py set SEGMENT INDEX KEY VALUE
                                         in the ima-buf entry INDEX (bima's records:
                                         snapshot_aggregate, bima_seq), replace
                                         KEY=... in its buffer with KEY=VALUE, and
                                         give it the d-ng digest and the template
                                         hash of its new data (kept zero if it was)
    tamper.py rename SEGMENT INDEX FILE  give entry INDEX (ima-ng) the name FILE and
                                         FILE's sha256; its template hash is kept, so
                                         only a violation's (zero) still fits it
    tamper.py violate SEGMENT INDEX [SOURCE INDEX2]
                                         zero entry INDEX's template hash (a violation
                                         is extended as all 0xff, whatever its data);
                                         with SOURCE, first give it the template name
                                         and data of entry INDEX2 of segment SOURCE
    tamper.py pcr SEGMENT INDEX PCR      write PCR into entry INDEX's PCR field
    tamper.py snapshot SEGMENT INDEX     give entry INDEX the data of the snapshot_aggregate
                                         the daemon would take there (the next id, the
                                         entries, segment digests and PCR values before
                                         it, replayed from the segments before), keeping
                                         its template hash

Written from IMA's binary layout; shares no code with bima.
"""
import hashlib
import re
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
def entry(pcr, thash, name, data):
    """One entry's bytes, as IMA lays it out."""
    return bytearray(struct.pack("<I20sI", pcr, thash, len(name)) + name +
                     struct.pack("<I", len(data)) + data)


def parts(e):
    """An entry's PCR, template hash, template name and data."""
    nlen, = struct.unpack_from("<I", e, 24)
    return (struct.unpack_from("<I", e, 0)[0], bytes(e[4:24]), bytes(e[28:28 + nlen]),
            bytes(e[32 + nlen:]))


def split_fields(data):
    out, off = [], 0
    while off < len(data):
        n, = struct.unpack_from("<I", data, off)
        out.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return out


def join(fs):
    return b"".join(struct.pack("<I", len(f)) + f for f in fs)


def forge_snapshot(path, index):
    """The text of the snapshot the daemon would take before entry index of path."""
    import glob
    import os
    d = os.path.dirname(path)
    seg = int(os.path.basename(path)[8:14])
    reset, restart = os.path.basename(d)[6:].split("-")
    last, count, values = None, 0, None
    for s in range(1, seg + 1):
        with open(os.path.join(d, "segment-%06u.bin" % s), "rb") as f:
            data = f.read()
        es = split(data)
        if s == seg:
            es = es[:index]
        for off, e, _ in es:
            pcr, thash, name, edata = parts(e)
            fs = split_fields(edata)
            if name == b"ima-buf" and fs[1] == b"snapshot_aggregate\0" and thash != bytes(20):
                last = fs[2].decode()
            count += 1
    banks = [kv.split("=")[0] for kv in last.split() if kv.split("=")[0].startswith("sha")]
    values = {b: bytes(hashlib.new(b).digest_size) for b in banks}
    xor = bytearray(20)
    for s in range(1, seg + 1):
        with open(os.path.join(d, "segment-%06u.bin" % s), "rb") as f:
            data = f.read()
        es = split(data)
        if s == seg:
            es = es[:index]
            before = data[:es[-1][0] + len(es[-1][1])] if es else b""
        for _, e, _ in es:
            pcr, thash, name, edata = parts(e)
            for b in banks:
                size = hashlib.new(b).digest_size
                add = b"\xff" * size if thash == bytes(20) else hashlib.new(b, edata).digest()
                values[b] = hashlib.new(b, values[b] + add).digest()
            if s == seg:
                xor = bytearray(x ^ y for x, y in zip(xor, thash))
    prev = int(re.search(r"(^| )id=(\d+)", last).group(2))
    text = ("id=%d prev=%d epoch=%s-%s entries=%d seq=0 segment=%d segment_sha256=%s "
            "segment_xor=%s pcr=%d" % (prev + 1, prev, reset, restart, count, seg,
                                       hashlib.sha256(before).hexdigest(), bytes(xor).hex(), pcr))
    return (text + "".join(" %s=%s" % (b, values[b].hex()) for b in banks)).encode()


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
    elif op == "set":
        pcr, thash, name, data = parts(e)
        fs = split_fields(data)
        key, value = sys.argv[4].encode(), sys.argv[5].encode()
        fs[2] = re.sub(rb"(^| )" + re.escape(key) + rb"=[^ ]*",
                       lambda m: m.group(1) + key + b"=" + value, fs[2], count=1)
        fs[0] = b"sha256:\0" + hashlib.sha256(fs[2]).digest()
        data = join(fs)
        if thash != bytes(20):
            thash = hashlib.sha1(data).digest()
        entries[i] = (0, entry(pcr, thash, name, data), None)
    elif op == "rename":
        pcr, thash, name, data = parts(e)
        fs = split_fields(data)
        with open(sys.argv[4], "rb") as f:
            fs[0] = b"sha256:\0" + hashlib.sha256(f.read()).digest()
        fs[1] = sys.argv[4].encode() + b"\0"
        entries[i] = (0, entry(pcr, thash, name, join(fs)), None)
    elif op == "violate":
        pcr, _, name, data = parts(e)
        if len(sys.argv) > 5:
            with open(sys.argv[4], "rb") as f:
                _, _, name, data = parts(split(f.read())[int(sys.argv[5])][1])
        entries[i] = (0, entry(pcr, bytes(20), name, data), None)
    elif op == "snapshot":
        pcr, thash, _, _ = parts(e)
        text = forge_snapshot(path, i)
        data = join([b"sha256:\0" + hashlib.sha256(text).digest(), b"snapshot_aggregate\0",
                     text])
        entries[i] = (0, entry(pcr, thash, b"ima-buf", data), None)
    elif op == "pcr":
        e[0:4] = struct.pack("<I", int(sys.argv[4]))
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
