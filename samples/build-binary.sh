#!/bin/sh
# build-binary.sh OUTDIR
#
# Regenerates, in OUTDIR, every binary payload that is base64-encoded inside
# the fixture mails under samples/demo/ and samples/mime/, so a reader can
# see exactly how each one was made.  The decoded attachment bodies in the
# .eml files are byte-identical to these outputs.
#
#   pe-stub.exe      ~1 KB inert PE32 header stub ("MZ", e_lfanew -> "PE\0\0")
#   shortcut.lnk     200-byte Windows shell link (4C 00 00 00 + LNK CLSID)
#   invoice.pdf      minimal one-page PDF 1.4 ("Invoice 2026-11")
#   tiny.pdf         minimal one-page PDF 1.4 ("Test document")
#   photo.jpg        8x8 grey baseline JPEG, hand-assembled
#   winmail.dat      short TNEF stream (signature 78 9F 3E 22)
#   statement.zip    zip (Info-ZIP) holding statement.txt
#   vertraege.docx   minimal Word document (zip of three XML parts)
#   contract.iso     ISO 9660 image (xorriso) holding readme.txt
#   eicar.zip        zip holding eicar.txt, the 68-byte EICAR anti-virus
#                    test file (written here from two halves, so this
#                    script is not itself a test file)
#
# Needs only: a POSIX sh (dash), python3, zip, xorriso.  Output is
# deterministic (fixed timestamps, fixed modes), so re-running it is
# harmless and yields identical bytes.  It refuses to write inside samples/.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi

case "$0" in
    */*) here=${0%/*} ;;
    *) here=. ;;
esac
here=$(cd "$here" && pwd -P)

# Resolve OUTDIR (it may not exist yet), refuse anything inside samples/,
# then create it.
out=$(python3 -c 'import os, sys; print(os.path.realpath(sys.argv[1]))' "$1")
case "$out/" in
    "$here"/*)
        echo "build-binary.sh: refusing to write inside $here" >&2
        exit 2 ;;
esac
python3 -c 'import os, sys; os.makedirs(sys.argv[1], exist_ok=True)' "$out"

work=$out/.work
# 2026-11-02 09:00:00 UTC: every timestamp that ends up in an output.
epoch=1793610000

# --- Files written directly by python3, plus staging trees for zip/xorriso.
python3 - "$out" "$work" "$epoch" <<'PY'
import os, shutil, struct, sys

out, work, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])

def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    os.utime(path, (epoch, epoch))

# Start from a clean slate so re-runs never append to old archives.
shutil.rmtree(work, ignore_errors=True)
for name in ("statement.zip", "vertraege.docx", "contract.iso", "eicar.zip"):
    try:
        os.remove(os.path.join(out, name))
    except FileNotFoundError:
        pass

# ---- pe-stub.exe: DOS header + DOS stub + PE signature + COFF + optional
# header, zero-padded to 1024 bytes.  No sections, no code to run.
dos = bytearray(64)
struct.pack_into("<2sHHHHHHHHHHHHH", dos, 0,
                 b"MZ", 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0)
struct.pack_into("<I", dos, 0x3C, 0x80)                  # e_lfanew
stub = (bytes.fromhex("0e1fba0e00b409cd21b8014ccd21")   # print msg, exit
        + b"This program cannot be run in DOS mode.\r\r\n$")
pe = bytearray(dos) + stub
pe += bytes(0x80 - len(pe))
pe += b"PE\0\0"
pe += struct.pack("<HHIIIHH", 0x014C, 0, 0, 0, 0, 0xE0, 0x0102)  # COFF, i386
opt = bytearray(0xE0)
struct.pack_into("<HBB", opt, 0, 0x10B, 14, 0)           # PE32 magic, linker
struct.pack_into("<I", opt, 28, 0x00400000)              # ImageBase
struct.pack_into("<II", opt, 32, 0x1000, 0x200)          # Section/FileAlign
struct.pack_into("<HH", opt, 40, 4, 0)                   # OS version
struct.pack_into("<HH", opt, 48, 4, 0)                   # Subsystem version
struct.pack_into("<II", opt, 56, 0x1000, 0x200)          # SizeOfImage/Headers
struct.pack_into("<H", opt, 68, 2)                       # Subsystem: GUI
struct.pack_into("<IIII", opt, 72, 0x100000, 0x1000, 0x100000, 0x1000)
struct.pack_into("<I", opt, 92, 16)                      # NumberOfRvaAndSizes
pe += opt
pe += bytes(1024 - len(pe))
write(os.path.join(out, "pe-stub.exe"), bytes(pe))

# ---- shortcut.lnk: 76-byte ShellLinkHeader, a NAME_STRING, the terminal
# ExtraData block, zero padding to 200 bytes.  It has no link target.
lnk = bytearray()
lnk += struct.pack("<I", 0x4C)                           # HeaderSize
lnk += bytes.fromhex("0114020000000000c000000000000046")  # LinkCLSID
lnk += struct.pack("<II", 0x04 | 0x80, 0x20)             # HasName|IsUnicode, ARCHIVE
lnk += bytes(24)                                         # three FILETIMEs
lnk += struct.pack("<IiI", 0, 0, 1)                      # size, icon, SW_SHOWNORMAL
lnk += bytes(2 + 2 + 4 + 4)                              # HotKey + reserved
assert len(lnk) == 0x4C
name = "Shipping documents"
lnk += struct.pack("<H", len(name)) + name.encode("utf-16-le")
lnk += bytes(4)                                          # TerminalBlock
lnk += bytes(200 - len(lnk))
write(os.path.join(out, "shortcut.lnk"), bytes(lnk))

# ---- PDFs: five objects, exact xref offsets, ASCII only.
def pdf(text):
    content = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET\n"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    doc = b"%PDF-1.4\n"
    offsets = []
    for num, body in enumerate(objs, 1):
        offsets.append(len(doc))
        doc += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(doc)
    doc += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    doc += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    doc += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1, xref)
    return doc

write(os.path.join(out, "invoice.pdf"), pdf(b"Invoice 2026-11"))
write(os.path.join(out, "tiny.pdf"), pdf(b"Test document"))

# ---- photo.jpg: one 8x8 block of flat mid-grey.  Both Huffman tables hold a
# single 1-bit code for symbol 0, so the scan is DC "0" + AC EOB "0", padded
# with 1-bits: one byte 0x3F.
def seg(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
huff = bytes([1] + [0] * 15) + b"\x00"
jpg = (b"\xFF\xD8"
       + seg(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00")
       + seg(0xDB, b"\x00" + bytes([1] * 64))
       + seg(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
       + seg(0xC4, b"\x00" + huff)
       + seg(0xC4, b"\x10" + huff)
       + seg(0xDA, b"\x01\x01\x00\x00\x3F\x00")
       + b"\x3F"
       + b"\xFF\xD9")
write(os.path.join(out, "photo.jpg"), jpg)

# ---- winmail.dat: TNEF signature, legacy key, three message attributes
# (level, id, length, data, 16-bit additive checksum).
def attr(attr_id, data):
    return (b"\x01" + struct.pack("<II", attr_id, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))
tnef = (struct.pack("<IH", 0x223E9F78, 0x0001)
        + attr(0x00089006, struct.pack("<I", 0x00010000))      # TnefVersion
        + attr(0x00069007, struct.pack("<II", 1252, 0))        # OemCodepage
        + attr(0x00078008, b"IPM.Microsoft Mail.Note\0"))     # MessageClass
write(os.path.join(out, "winmail.dat"), tnef)

# ---- staging trees for zip and xorriso (fixed content, mode, mtime).
write(os.path.join(work, "zip", "statement.txt"),
      b"Account statement, November 2026\n"
      b"Opening balance   1,204.50 EUR\n"
      b"Closing balance     987.10 EUR\n")

write(os.path.join(work, "docx", "[Content_Types].xml"),
      b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
      b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      b'<Default Extension="xml" ContentType="application/xml"/>'
      b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
      b'</Types>\n')
write(os.path.join(work, "docx", "_rels", ".rels"),
      b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
      b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
      b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
      b'</Relationships>\n')
write(os.path.join(work, "docx", "word", "document.xml"),
      b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
      b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
      b'<w:body><w:p><w:r><w:t>Contracts 2026</w:t></w:r></w:p></w:body>'
      b'</w:document>\n')

write(os.path.join(work, "iso", "readme.txt"),
      b"Contract draft 2026-11. Please review and sign.\n")
write(os.path.join(work, "eicar", "eicar.txt"),
      b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
for d in ("zip", "docx", "docx/_rels", "docx/word", "iso", "eicar"):
    os.utime(os.path.join(work, d), (epoch, epoch))
PY

# --- zip: -X no extra attributes, -D no directory entries; TZ pins the DOS
# timestamps.  Members are listed explicitly so their order is fixed.
(cd "$work/zip" && TZ=UTC zip -X -D -q "$out/statement.zip" statement.txt)
(cd "$work/docx" && TZ=UTC zip -X -D -q "$out/vertraege.docx" \
    '[Content_Types].xml' _rels/.rels word/document.xml)
(cd "$work/eicar" && TZ=UTC zip -X -D -q "$out/eicar.zip" eicar.txt)

# --- ISO 9660 (plain, no Rock Ridge/Joliet); -no-pad drops the 300 KiB tail
# padding so the image stays at its minimum (~68 KiB).
if ! TZ=UTC SOURCE_DATE_EPOCH=$epoch xorriso -no_rc -as mkisofs -quiet \
        -V CONTRACT -no-pad -o "$out/contract.iso" "$work/iso" \
        2>"$work/xorriso.log"; then
    while IFS= read -r line; do printf '%s\n' "$line" >&2; done <"$work/xorriso.log"
    exit 1
fi

python3 - "$out" "$work" <<'PY'
import hashlib, os, shutil, sys
out, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work)
for name in ("pe-stub.exe", "shortcut.lnk", "invoice.pdf", "tiny.pdf",
             "photo.jpg", "winmail.dat", "statement.zip", "vertraege.docx",
             "contract.iso", "eicar.zip"):
    with open(os.path.join(out, name), "rb") as f:
        data = f.read()
    print("%-16s %7d  sha256 %s" % (name, len(data), hashlib.sha256(data).hexdigest()))
PY
