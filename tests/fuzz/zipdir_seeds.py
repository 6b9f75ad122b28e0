#!/usr/bin/env python3
"""zipdir_seeds.py - seed inputs for fuzz_zipdir, written into DIR

    python3 tests/fuzz/zipdir_seeds.py DIR

Archives laid out the ways zipdir.c must understand (APPNOTE.TXT 4.3):
plain, empty, ZIP64 records, sizes in ZIP64 extra fields, a self-extractor
stub in front (offsets adjusted or not), a comment holding a decoy end
record, DOS attributes, encryption, and the 162-byte file whose ZIP64
directory offset 0xFFFFFFFFFFFFFFF0 once made the reader look before its
buffer. Deterministic: the same bytes on every run.
"""
import io
import os
import struct
import sys
import zipfile
import zlib

DT = (2020, 1, 1, 0, 0, 0)


def member(name, data, attr=0x20, system=0, flags=0):
    """(name, data, external attributes, host system, general purpose flags)"""
    return (name.encode(), data, attr, system, flags)


MEMBERS = [
    member("invoice.pdf", b"%PDF-1.4\n"),
    member("invoice.pdf .exe", b"MZ" + bytes(62), attr=0x22),  # hidden
    member("docs/", b"", attr=0x10),
    member("secret.txt", b"x", attr=0o100644 << 16, system=3, flags=1),
]


def build(members, zip64=False, big_sizes=False, stub=b"", adjust=False,
          comment=b"", lie=None):
    """A stored archive, written by hand so every field is chosen.

    zip64: ZIP64 end record and locator, the end record's fields all ones.
    big_sizes: sizes 0xFFFFFFFF in the central headers, the real ones in a
    ZIP64 extra field (id 1). stub: bytes in front; adjust: offsets count
    them (zip -A), else they do not. lie: dict overriding end record fields.
    """
    base = len(stub) if adjust else 0
    out = io.BytesIO()
    out.write(stub)
    local = []
    for name, data, attr, system, flags in members:
        local.append(out.tell() - len(stub) + base)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, 0, 0x5021,
                              zlib.crc32(data), len(data), len(data), len(name), 0))
        out.write(name + data)
    cd = out.tell() - len(stub) + base
    for (name, data, attr, system, flags), off in zip(members, local):
        extra = b""
        size = len(data)
        if big_sizes:
            extra = struct.pack("<HHQQ", 1, 16, size, size)
            size = 0xFFFFFFFF
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, system << 8 | 45, 45,
                              flags, 0, 0, 0x5021, zlib.crc32(data), size, size, len(name),
                              len(extra), 0, 0, 0, attr, off))
        out.write(name + extra)
    cd_end = out.tell() - len(stub) + base
    count, cd_size, cd_off = len(members), cd_end - cd, cd
    if zip64:
        rec = cd_end
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0,
                              count, count, cd_size, cd_off))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, rec, 1))
        count, cd_size, cd_off = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    f = {"count": count, "size": cd_size, "offset": cd_off}
    f.update(lie or {})
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, f["count"], f["count"],
                          f["size"], f["offset"], len(comment)))
    out.write(comment)
    return out.getvalue()


def hostile162():
    """The 162-byte file of the ZIP64 offset wrap (see tests/unit/check_zipdir.c)."""
    b = bytearray(162)
    b[0:4] = b"PK\x03\x04"
    b[64:120] = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0, 0, 0, 0, 0, 0,
                            0x100, 0xFFFFFFFFFFFFFFF0)
    b[120:140] = struct.pack("<IIQI", 0x07064B50, 0, 64, 1)
    b[140:162] = struct.pack("<I", 0x06054B50) + b"\xff" * 18
    return bytes(b)


def python_zip(**kw):
    """An archive as Python's zipfile writes it (deflated, extended timestamps absent)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, **kw) as z:
        for name, data in (("a.txt", b"hello\n" * 20), ("dir/b.bin", bytes(range(256)))):
            zi = zipfile.ZipInfo(name, DT)
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return out.getvalue()


def seeds():
    stub = b"MZ" + b"\x90" * 510  # a self-extractor's executable in front
    plain = build(MEMBERS)
    decoy = build(MEMBERS[:1])
    yield "plain.zip", plain
    yield "empty.zip", build([])
    yield "python.zip", python_zip()
    yield "zip64.zip", build(MEMBERS, zip64=True)
    yield "zip64-extra.zip", build(MEMBERS, zip64=True, big_sizes=True)
    yield "sfx.zip", build(MEMBERS, stub=stub)
    yield "sfx-adjusted.zip", build(MEMBERS, stub=stub, adjust=True)
    yield "sfx-zip64.zip", build(MEMBERS, zip64=True, big_sizes=True, stub=stub)
    # The comment ends with a whole one-member archive: its end record is
    # the last one in the file, but points to no directory in its place.
    yield "decoy-comment.zip", build(MEMBERS, comment=decoy)
    yield "count0.zip", build(MEMBERS, lie={"count": 0})
    yield "size-lies.zip", build(MEMBERS, lie={"size": 0x7FFFFFFF})
    yield "offset-past-end.zip", build(MEMBERS, lie={"offset": len(plain)})
    yield "hostile162.zip", hostile162()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: zipdir_seeds.py DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
