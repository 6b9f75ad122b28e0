#!/usr/bin/env python3
"""gen.py OUTDIR - build the hostile inputs of the security review.

Every input is built here at test time (none is committed); run.sh scans
each and checks the verdict, the findings, peak RSS and time.  Python 3
standard library only; output is deterministic (random bytes come from a
fixed seed).

  av-bypass-qp-layers.eml   20 message/rfc822 layers, each "quoted-printable"
                            without a single '=', 3.4 MB of text at the
                            bottom, then an EICAR zip: the layers spend the
                            decoded-bytes budget before the zip is reached
  av-bypass-big-first.eml   two 3 MB random attachments before the EICAR zip
                            (run.sh scans it with max_decoded_bytes = 4M)
  long-filename-unseen.eml  a 1,000,000-byte RFC 2231 filename (filename*N*=
                            sections on 900-byte lines) on a zip of 3,000
                            central entries whose local offsets point nowhere
  nested-long-names.eml     10 stored zips nested through 60,000-byte member
                            names, 8,000 unseen entries at the bottom
  zip64-oob.eml             a 162-byte zip whose ZIP64 record puts the
                            directory at 0xFFFFFFFFFFFFFFF0 (size 0x100)
  zip64-oob-ff00.eml        the same at 0xFFFFFFFFFFFFFF00 (size 0x1000)
  tiny-body.eml             a text mail whose body is "ok"
  tiny-attach-{1,5,6}.eml   "ok" plus an attachment of 1, 5 or 6 bytes
"""

import base64
import io
import os
import random
import struct
import sys
import zipfile

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
         b"$H+H*")
# A fixed date, so the zips are byte-stable.
ZIP_DATE = (2026, 11, 2, 9, 0, 0)

HEAD = (b"From: Hostile Sender <sender@example.net>\n"
        b"To: Recipient <rcpt@example.org>\n"
        b"Date: Mon, 02 Nov 2026 09:00:00 +0000\n")


def b64_lines(data):
    """base64 in 76-character lines, each ending in LF."""
    enc = base64.b64encode(data)
    return b"".join(enc[i:i + 76] + b"\n" for i in range(0, len(enc), 76))


def mail(subject, boundary, parts):
    """A multipart/mixed message; PARTS are (header bytes, body bytes)."""
    out = [HEAD, b"Subject: " + subject + b"\n",
           b"Message-ID: <" + boundary + b"@hostile.example>\n",
           b"MIME-Version: 1.0\n",
           b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n\n',
           b"This is a multi-part message in MIME format.\n"]
    for hdr, body in parts:
        out += [b"\n--" + boundary + b"\n", hdr, b"\n", body]
        if not body.endswith(b"\n"):
            out.append(b"\n")
    out.append(b"\n--" + boundary + b"--\n")
    return b"".join(out)


def attachment(name, data, ctype=b"application/octet-stream"):
    """A base64 attachment part named NAME."""
    hdr = (b"Content-Type: " + ctype + b'; name="' + name + b'"\n'
           b"Content-Transfer-Encoding: base64\n"
           b'Content-Disposition: attachment; filename="' + name + b'"\n')
    return hdr, b64_lines(data)


TEXT_PART = (b"Content-Type: text/plain; charset=us-ascii\n"
             b"Content-Transfer-Encoding: 7bit\n")


def eicar_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("eicar.com", ZIP_DATE), EICAR)
    return buf.getvalue()


def plain_text(nbytes):
    """NBYTES of text in lines shorter than 76 characters, without '='."""
    words = [b"invoice", b"payment", b"quarterly", b"report", b"account",
             b"delivery", b"schedule", b"review", b"meeting", b"budget"]
    rnd = random.Random(1)
    out, size = [], 0
    while size < nbytes:
        line = b" ".join(rnd.choice(words) for _ in range(8)) + b".\n"
        out.append(line)
        size += len(line)
    return b"".join(out)


def qp_layers(depth, text):
    """DEPTH message/rfc822 layers, each declared quoted-printable, around TEXT."""
    inner = (HEAD + b"Subject: layer %d\nMIME-Version: 1.0\n" % depth +
             b"Content-Type: text/plain\n\n" + text)
    for level in range(depth - 1, 0, -1):
        inner = (HEAD + b"Subject: layer %d\nMIME-Version: 1.0\n" % level +
                 b"Content-Type: message/rfc822\n"
                 b"Content-Transfer-Encoding: quoted-printable\n\n" + inner)
    hdr = (b"Content-Type: message/rfc822\n"
           b"Content-Transfer-Encoding: quoted-printable\n"
           b"Content-Disposition: inline\n")
    assert b"=" not in hdr + inner
    return hdr, inner


def av_bypass_qp_layers():
    return mail(b"Fwd: Fwd: Fwd: statement", b"qp-layers-b0undary",
                [qp_layers(20, plain_text(3400 * 1000)),
                 attachment(b"invoice.zip", eicar_zip(), b"application/zip")])


def av_bypass_big_first():
    rnd = random.Random(2)
    big = [attachment(b"scan%d.bin" % i, rnd.randbytes(3 * 1024 * 1024))
           for i in (1, 2)]
    return mail(b"scans and invoice", b"big-first-b0undary",
                big + [attachment(b"invoice.zip", eicar_zip(), b"application/zip")])


def central_entry(name, local_offset):
    """A 46-byte central-directory header for a stored, empty-looking file
    NAME whose local header is said to be at LOCAL_OFFSET."""
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50,
                       20, 20, 0, 0, 0x4800, 0x5b62,  # made by, needed, flags, method, time, date
                       0, 16, 16,                     # crc, compressed, uncompressed
                       len(name), 0, 0, 0, 0, 0x20,   # name, extra, comment, disk, int attr, ext attr
                       local_offset) + name


def unseen_zip(count):
    """PK\\3\\4, then COUNT central entries whose local headers point past the
    end of the file, then an EOCD pointing at the first of them (offset 4)."""
    out = bytearray(b"PK\x03\x04")
    for i in range(count):
        out += central_entry(b"f%05d.txt" % i, 0x7FFF0000 + i * 64)
    dir_size = len(out) - 4
    out += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, count, count,
                       dir_size, 4, 0)
    return bytes(out)


def rfc2231_filename(total, line=900):
    """A Content-Disposition whose filename is TOTAL bytes, given as
    filename*N*= sections of about LINE bytes each."""
    name = b"A" * (total - 4) + b".zip"
    lines, pos, n = [], 0, 0
    while pos < len(name):
        prefix = b"\tfilename*%d*=" % n + (b"us-ascii''" if n == 0 else b"")
        chunk = name[pos:pos + line - len(prefix) - 1]
        pos += len(chunk)
        lines.append(prefix + chunk + (b";" if pos < len(name) else b""))
        n += 1
    return b"Content-Disposition: attachment;\n" + b"\n".join(lines) + b"\n"


def long_filename_unseen():
    hdr = (b'Content-Type: application/zip; name="archive.zip"\n'
           b"Content-Transfer-Encoding: base64\n" + rfc2231_filename(1000000))
    return mail(b"archive", b"long-name-b0undary",
                [(TEXT_PART, b"see attachment\n"),
                 (hdr, b64_lines(unseen_zip(3000)))])


def nested_long_names():
    data = unseen_zip(8000)
    for level in range(10, 0, -1):
        name = (b"%02d" % level) + b"n" * (60000 - 6) + b".zip"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr(zipfile.ZipInfo(name.decode(), ZIP_DATE), data)
        data = buf.getvalue()
    return mail(b"nested archive", b"nested-names-b0undary",
                [(TEXT_PART, b"see attachment\n"),
                 attachment(b"nested.zip", data, b"application/zip")])


def zip64_oob(dir_offset, dir_size):
    """162 bytes: PK\\3\\4 + 60 zeros, a ZIP64 end record at 64 (entries 1,
    DIR_SIZE at +40, DIR_OFFSET at +48), its locator at 120, and at 140 an
    EOCD whose every field is 0xFFFF/0xFFFFFFFF (so the ZIP64 one counts)."""
    out = b"PK\x03\x04" + bytes(60)
    out += struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0,
                       1, 1, dir_size, dir_offset)
    out += struct.pack("<IIQI", 0x07064b50, 0, 64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054b50, 0xFFFF, 0xFFFF, 0xFFFF,
                       0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF)
    assert len(out) == 162
    return mail(b"a.zip", b"zip64-b0undary",
                [(TEXT_PART, b"see attachment\n"),
                 attachment(b"a.zip", out, b"application/zip")])


def tiny_body():
    return (HEAD + b"Subject: tiny\nMessage-ID: <tiny@hostile.example>\n"
            b"MIME-Version: 1.0\n" + TEXT_PART + b"\nok")


def tiny_attach(n):
    data = b"hello!"[:n] if n > 1 else b"x"
    return mail(b"tiny attachment", b"tiny-b0undary",
                [(TEXT_PART, b"ok"), attachment(b"note.txt", data, b"text/plain")])


def lure_storm():
    """The lure detectors' worst case: 2,000 shortcuts, each with 1,000
    relative paths in its arguments that almost name a member, beside
    2,000 programs importing a DLL beside them and 64 DLLs, all in one
    folder: every shortcut token, every host and DLL is looked at."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    import lures  # the fixture builders: PE and LNK written field by field
    buf = io.BytesIO()
    args = " ".join("_\\x%04d\\p.exe" % i for i in range(1000))
    link = lures.lnk("C:\\Windows\\System32\\cmd.exe", args=args)
    host = lures.pe([("KERNEL32.dll", ["ExitProcess"]), ("d00.dll", ["Run"])])
    dll = lures.pe([("KERNEL32.dll", ["ExitProcess"])], dll=True)
    def member(name):
        info = zipfile.ZipInfo(name, ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(2000):
            z.writestr(member("_/s%04d.lnk" % i), link)
            z.writestr(member("_/h%04d.exe" % i), host)
        for i in range(64):
            z.writestr(member("_/d%02d.dll" % i), dll)
    return mail(b"documents", b"lure-storm-b0undary",
                [(TEXT_PART, b"see attachment\n"),
                 attachment(b"docs.zip", buf.getvalue(), b"application/zip")])


def sideload_churn():
    """The review's find: 64 DLLs, 200 signed programs and 240 blocks of
    64 KiB of zeros in one folder. Before, each (program, DLL) pair
    measured every block's entropy again: 13 s for 20 programs."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
    import lures
    buf = io.BytesIO()
    host = lures.pe([("KERNEL32.dll", ["ExitProcess"])], signed="Example Ltd")
    dll = lures.pe([("KERNEL32.dll", ["ExitProcess"])], dll=True)
    zeros = bytes(65536)

    def member(name):
        info = zipfile.ZipInfo(name, ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(64):
            z.writestr(member("d/l%02d.dll" % i), dll)
        for i in range(200):
            z.writestr(member("d/h%03d.exe" % i), host)
        for i in range(240):	# 15 MiB: under the bomb threshold (16 MiB out)
            z.writestr(member("d/z%03d.dat" % i), zeros)
    return mail(b"documents", b"sideload-churn-b0undary",
                [(TEXT_PART, b"see attachment\n"),
                 attachment(b"docs.zip", buf.getvalue(), b"application/zip")])


INPUTS = {
    "lure-storm.eml": lure_storm,
    "sideload-churn.eml": sideload_churn,
    "av-bypass-qp-layers.eml": av_bypass_qp_layers,
    "av-bypass-big-first.eml": av_bypass_big_first,
    "long-filename-unseen.eml": long_filename_unseen,
    "nested-long-names.eml": nested_long_names,
    "zip64-oob.eml": lambda: zip64_oob(0xFFFFFFFFFFFFFFF0, 0x100),
    "zip64-oob-ff00.eml": lambda: zip64_oob(0xFFFFFFFFFFFFFF00, 0x1000),
    "tiny-body.eml": tiny_body,
    "tiny-attach-1.eml": lambda: tiny_attach(1),
    "tiny-attach-5.eml": lambda: tiny_attach(5),
    "tiny-attach-6.eml": lambda: tiny_attach(6),
}


def main():
    if len(sys.argv) != 2 or not sys.argv[1]:
        sys.exit("usage: gen.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, build in INPUTS.items():
        tmp = os.path.join(out, "." + name)
        with open(tmp, "wb") as f:
            f.write(build())
        os.replace(tmp, os.path.join(out, name))


if __name__ == "__main__":
    main()
