#!/usr/bin/env python3
"""decrypt_seeds.py - seed inputs for fuzz_decrypt, written into DIR

    python3 tests/fuzz/decrypt_seeds.py DIR

Each seed is what fuzz_decrypt.c reads: a byte N, N candidates (a length
byte, the bytes), then a ZIP. The ZIPs carry traditional PKWARE encryption
(ZipCrypto, APPNOTE.TXT 6.1) written here with a fixed 12-byte header, so
the seeds are the same bytes on every run: stored and deflated entries, a
data descriptor, two entries of one name, a plain entry beside encrypted
ones. With 7z installed, one WinZip AES ZIP is added (its salt is random).
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

CRC_TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
    CRC_TABLE.append(c)


def crc_byte(crc, b):
    return (crc >> 8) ^ CRC_TABLE[(crc ^ b) & 0xFF]


class ZipCrypto:
    """The keys of APPNOTE 6.1.5 after the password."""

    def __init__(self, password):
        self.k = [0x12345678, 0x23456789, 0x34567890]
        for b in password:
            self.update(b)

    def update(self, b):
        k = self.k
        k[0] = crc_byte(k[0], b)
        k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k[2] = crc_byte(k[2], k[1] >> 24)

    def encrypt(self, data):
        out = bytearray()
        for b in data:
            t = (self.k[2] | 2) & 0xFFFF
            out.append(b ^ (((t * (t ^ 1)) >> 8) & 0xFF))
            self.update(b)
        return bytes(out)


def entry(name, data, password=None, deflate=False, descriptor=False):
    """(name, local header + data, central record) of one entry at offset 0 (fixed later)."""
    crc = zlib.crc32(data) & 0xFFFFFFFF
    body = data
    method = 0
    if deflate:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = c.compress(data) + c.flush()
        method = 8
    flags = 0
    if password is not None:
        flags |= 1
        check = (0x8000 >> 8) if descriptor else crc >> 24   # time's high byte with bit 3
        head = bytes((i * 37 + 11) & 0xFF for i in range(11)) + bytes([check])
        body = ZipCrypto(password.encode()).encrypt(head + body)
    if descriptor:
        flags |= 8
    nm = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0x8000, 0x5A21,
                        0 if descriptor else crc, 0 if descriptor else len(body),
                        0 if descriptor else len(data), len(nm), 0) + nm + body
    if descriptor:
        local += struct.pack("<IIII", 0x08074B50, crc, len(body), len(data))
    central = (flags, method, crc, len(body), len(data), nm)
    return local, central


def make_zip(entries):
    out = bytearray()
    cd = bytearray()
    for local, (flags, method, crc, csize, size, nm) in entries:
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0x8000,
                          0x5A21, crc, csize, size, len(nm), 0, 0, 0, 0, 0x20, len(out)) + nm
        out += local
    at = len(out)
    out += cd
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), at, 0)
    return bytes(out)


def seed(cands, archive):
    out = bytes([len(cands)])
    for c in cands:
        b = c.encode()
        out += bytes([len(b)]) + b
    return out + archive


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: decrypt_seeds.py DIR\n")
        return 2
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    exe = b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + bytes(range(256)) * 4
    text = b"invoice 0412, total 1,234.00 EUR\r\n" * 20
    pw = "infected"
    zips = {
        "two": make_zip([entry("payload.exe", exe, pw, deflate=True),
                         entry("notes.txt", text, pw)]),
        "descriptor": make_zip([entry("Invoice.pdf.lnk", exe[:300], pw, deflate=True,
                                      descriptor=True)]),
        "same-name": make_zip([entry("a/report.pdf", text, pw), entry("a/report.pdf", exe, "other"),
                               entry("b/readme.txt", text)]),
        "empty-entry": make_zip([entry("empty.txt", b"", pw), entry("x.bin", exe, pw)]),
    }
    seeds = {
        "right-second": seed(["wrong", pw], zips["two"]),
        "wrong-only": seed(["Infected", "infected1", "inf"], zips["two"]),
        "none": seed([], zips["two"]),
        "descriptor": seed([pw], zips["descriptor"]),
        "same-name": seed([pw, "other"], zips["same-name"]),
        "empty-entry": seed(["x", pw], zips["empty-entry"]),
        "truncated": seed([pw], zips["two"][:len(zips["two"]) // 2] + zips["two"][-22:]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "Invoice.pdf.exe")
        with open(src, "wb") as f:
            f.write(exe)
        aes = os.path.join(tmp, "aes.zip")
        try:
            subprocess.run(["7z", "a", "-bd", "-tzip", "-mem=AES256", "-p" + pw, aes, src],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(aes, "rb") as f:
                seeds["aes"] = seed(["nope", pw], f.read())
        except (OSError, subprocess.CalledProcessError):
            pass        # no 7z: the ZipCrypto seeds still cover the reader
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
