#!/usr/bin/env python3
"""diskimg_seeds.py - seed inputs for fuzz_diskimg, written into DIR

    python3 tests/fuzz/diskimg_seeds.py DIR

Small FAT volumes laid out the ways diskimg.c must understand: FAT12,
FAT16 and FAT32 (the last two claim more sectors than are stored, which
the reader allows), VFAT long names, a hidden folder three levels deep, a
fragmented file, a chain that loops; then the FAT12 volume behind an MBR,
behind a GPT, in a fixed VHD and in a dynamic VHD. Deterministic: the
same bytes on every run.
"""
import os
import struct
import sys

BPS = 512
EOC = {12: 0xFFF, 16: 0xFFFF, 32: 0x0FFFFFFF}


class Fat:
    """A FAT volume of TOTAL sectors of which STORED are kept."""

    def __init__(self, bits, total, stored, rsvd, fatsz, rootent):
        self.bits, self.fatsz, self.nfats = bits, fatsz, 2
        self.img = bytearray(stored * BPS)
        self.fat = rsvd * BPS
        self.root = self.fat + 2 * fatsz * BPS
        self.data = self.root + rootent * 32
        self.next = 3 if bits == 32 else 2
        b = self.img
        b[0:11] = b"\xEB\x3C\x90MSDOS5.0"
        struct.pack_into("<HBHBHHBH", b, 0x0B, BPS, 1, rsvd, 2, rootent,
                         total if total < 0x10000 else 0, 0xF8, 0 if bits == 32 else fatsz)
        struct.pack_into("<I", b, 0x20, total if total >= 0x10000 else 0)
        if bits == 32:
            struct.pack_into("<II", b, 0x24, fatsz, 0)
            struct.pack_into("<I", b, 0x2C, 2)
            b[0x52:0x5A] = b"FAT32   "
            self.set(2, EOC[32])
            self.rootdir = [self.cluster(2), BPS, 0]
        else:
            b[0x36:0x3E] = b"FAT12   " if bits == 12 else b"FAT16   "
            self.rootdir = [self.root, rootent * 32, 0]
        b[510:512] = b"\x55\xAA"
        self.set(0, EOC[bits] & 0x0FFFFFF8)
        self.set(1, EOC[bits])

    def cluster(self, c):
        return self.data + (c - 2) * BPS

    def set(self, c, v):
        for k in range(self.nfats):
            t = self.fat + k * self.fatsz * BPS
            if self.bits == 12:
                o = t + c + c // 2
                old = struct.unpack_from("<H", self.img, o)[0]
                new = (old & 0xF) | (v & 0xFFF) << 4 if c & 1 else (old & 0xF000) | (v & 0xFFF)
                struct.pack_into("<H", self.img, o, new)
            elif self.bits == 16:
                struct.pack_into("<H", self.img, t + 2 * c, v)
            else:
                struct.pack_into("<I", self.img, t + 4 * c, v)

    def add(self, d, short, attr, first, size, long=None):
        """long-name entries for LONG, then the 8.3 entry SHORT (11 bytes)"""
        if long is not None:
            units = list(struct.unpack("<%dH" % len(long), long.encode("utf-16-le")))
            count = (len(units) + 12) // 13
            s = 0
            for ch in short:
                s = (((s & 1) << 7) + (s >> 1) + ch) & 0xFF
            for seq in range(count, 0, -1):
                part = units[(seq - 1) * 13:seq * 13]
                if len(part) < 13:
                    part = part + [0] + [0xFFFF] * (12 - len(part))
                e = bytearray(32)
                e[0] = seq | (0x40 if seq == count else 0)
                e[11], e[13] = 0x0F, s
                struct.pack_into("<5H", e, 1, *part[0:5])
                struct.pack_into("<6H", e, 14, *part[5:11])
                struct.pack_into("<2H", e, 28, *part[11:13])
                self.put(d, e)
        e = bytearray(32)
        e[0:11] = short
        e[11] = attr
        struct.pack_into("<H", e, 20, first >> 16)
        struct.pack_into("<HI", e, 26, first & 0xFFFF, size)
        self.put(d, e)

    def put(self, d, e):
        assert d[2] + 32 <= d[1]
        self.img[d[0] + d[2]:d[0] + d[2] + 32] = e
        d[2] += 32

    def file(self, d, short, data, attr=0x20, long=None, gap=0):
        first, prev = (self.next if data else 0), 0
        for at in range(0, len(data), BPS):
            c = self.next
            chunk = data[at:at + BPS]
            self.img[self.cluster(c):self.cluster(c) + len(chunk)] = chunk
            if prev:
                self.set(prev, c)
            self.set(c, EOC[self.bits])
            prev = c
            self.next += 1 + gap
        self.add(d, short, attr, first, len(data), long)
        return first

    def mkdir(self, parent, short, attr=0x10, long=None):
        c = self.next
        self.next += 1
        self.set(c, EOC[self.bits])
        self.add(parent, short, attr | 0x10, c, 0, long)
        d = [self.cluster(c), BPS, 0]
        self.add(d, b".          ", 0x10, c, 0)
        self.add(d, b"..         ", 0x10, 0, 0)
        return d


def lure(v, loop=False):
    """the lure's files on volume V"""
    root = v.rootdir
    v.file(root, b"README  TXT", b"hello, world\n")
    first = v.file(root, b"INVOIC~1EXE", b"MZ" + bytes(range(256)) * 4, long="Invoice 2024.pdf.exe")
    h = v.mkdir(root, b"HIDDEN     ", 0x12)
    a = v.mkdir(h, b"A          ")
    b = v.mkdir(a, b"B          ", long="b b")
    v.file(b, b"PAYLOAD DLL", b"MZ" + b"\x90" * 700, attr=0x26)
    v.file(root, b"FRAG    LNK", b"L\0\0\0" + b"\x01" * 1200, gap=1)
    if loop:
        v.set(first + 2, first)
        struct.pack_into("<I", v.img, root[0] + 1 * 32 + 2 * 32 + 28, 0x7FFFFFFF)
    return v


def fat12(loop=False):
    return lure(Fat(12, 128, 128, 1, 1, 16), loop).img


def fat16():
    return lure(Fat(16, 4200, 60, 1, 17, 16)).img


def fat32():
    return lure(Fat(32, 256, 64, 2, 2, 0)).img


def mbr(vol, ptype=0x06, lba=8):
    b = bytearray(lba * BPS)
    b[0] = 0xFA
    struct.pack_into("<B3xB3xII", b, 0x1BE, 0x80, ptype, lba, len(vol) // BPS)
    b[510:512] = b"\x55\xAA"
    return bytes(b) + vol


def gpt(vol):
    b = bytearray(34 * BPS)
    struct.pack_into("<B3xB3xII", b, 0x1BE, 0, 0xEE, 1, 0xFFFFFFFF)
    b[510:512] = b"\x55\xAA"
    b[BPS:BPS + 8] = b"EFI PART"
    struct.pack_into("<QII", b, BPS + 0x48, 2, 4, 128)
    b[2 * BPS:2 * BPS + 16] = bytes.fromhex("a2a0d0ebe5b9334487c068b6b72699c7")
    struct.pack_into("<Q", b, 2 * BPS + 32, 34)
    return bytes(b) + vol


def footer(dtype, size, nxt):
    f = bytearray(512)
    f[0:8] = b"conectix"
    struct.pack_into(">IIQ", f, 8, 2, 0x00010000, nxt)
    f[28:32], f[36:40] = b"moat", b"Wi2k"
    struct.pack_into(">QQ", f, 40, size, size)
    struct.pack_into(">I", f, 60, dtype)
    struct.pack_into(">I", f, 64, ~sum(f) & 0xFFFFFFFF)
    return bytes(f)


def vhd_fixed(disk):
    return disk + footer(2, len(disk), 0xFFFFFFFFFFFFFFFF)


def vhd_dynamic(disk, block=4096):
    n = (len(disk) + block - 1) // block
    bat = 1536
    start = bat + (n * 4 + 511) // 512 * 512
    head = bytearray(footer(3, len(disk), 512)) + bytearray(start - 512)
    head[512:520] = b"cxsparse"
    struct.pack_into(">QQIII", head, 520, 0xFFFFFFFFFFFFFFFF, bat, 0x00010000, n, block)
    out = bytearray()
    table = [0xFFFFFFFF] * n
    for i in reversed(range(n)):  # stored backwards: the map must be used
        chunk = disk[i * block:(i + 1) * block]
        if any(chunk):
            table[i] = (start + len(out)) // 512
            out += b"\xFF" * 512 + chunk.ljust(block, b"\0")
    struct.pack_into(">%dI" % n, head, bat, *table)
    return bytes(head) + bytes(out) + bytes(head[:512])


def seeds():
    f12 = fat12()
    yield "fat12.img", f12
    yield "fat12-loop.img", fat12(loop=True)
    yield "fat16.img", fat16()
    yield "fat32.img", fat32()
    yield "mbr-fat12.img", mbr(f12)
    yield "mbr-fat16.img", mbr(fat16(), 0x0E)
    yield "gpt-fat32.img", gpt(fat32())
    yield "fixed.vhd", vhd_fixed(f12)
    yield "dynamic.vhd", vhd_dynamic(f12)
    yield "dynamic-mbr.vhd", vhd_dynamic(mbr(f12))
    yield "vhdx.vhdx", b"vhdxfile" + bytes(504)
    yield "ntfs.img", b"\xEB\x52\x90NTFS    " + bytes(499) + b"\x55\xAA"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: diskimg_seeds.py DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
