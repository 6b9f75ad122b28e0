#!/usr/bin/env python3
"""tests/integration/mailtool.py - small message helpers for run.sh

    mailtool.py find OUTDIR RCPT [MESSAGE-ID]
        Print the sink's OUTDIR/NNNN.eml files whose envelope (NNNN.env) has
        RCPT as a recipient (and, if given, whose Message-ID header is
        MESSAGE-ID), one per line, oldest first.
    mailtool.py header FILE NAME
        Print the value of each NAME header field in FILE's header section,
        unfolded, one per line (nothing if absent).
    mailtool.py body-equal ORIGINAL RECEIVED
        Exit 0 if the bodies (everything after the first empty line) are
        byte-identical once line ends are normalised to CRLF (a missing final
        line end counts as present); else print where they differ, exit 1.
    mailtool.py derive SRC DST (--add-header 'Name: value' |
                                --subject-prefix PREFIX | --grow BYTES)
        Write a variant of SRC to DST: a header field inserted before
        MIME-Version (or at the end of the header); the Subject prefixed; or
        plain-text lines appended to the first text part until the message
        exceeds BYTES (some filler lines start with "." to exercise
        dot-stuffing).
"""

import argparse
import os
import re
import sys


def crlf(data):
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    return data.replace(b"\n", b"\r\n")


def split(data):
    """(header, body) of CRLF data; header keeps its last CRLF."""
    data = crlf(data)
    if data.startswith(b"\r\n"):
        return b"", data[2:]
    i = data.find(b"\r\n\r\n")
    if i < 0:
        return data, b""
    return data[: i + 2], data[i + 4:]


def fields(header):
    """[(name, unfolded value)] of a header section."""
    out = []
    for line in header.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and out:
            out[-1][1] += b"\r\n" + line
        elif b":" in line:
            name, value = line.split(b":", 1)
            out.append([name.strip(), value])
    return [(n.decode("latin-1"), re.sub(rb"\r\n", b"", v).strip().decode("utf-8", "replace"))
            for n, v in out]


def header_values(path, name):
    with open(path, "rb") as f:
        header, _ = split(f.read())
    return [v for n, v in fields(header) if n.lower() == name.lower()]


def cmd_find(a):
    want = ("RCPT TO:<%s>" % a.rcpt).lower()
    try:
        names = sorted(n for n in os.listdir(a.outdir) if re.fullmatch(r"\d+\.eml", n))
    except OSError:
        return 0
    for n in names:
        eml = os.path.join(a.outdir, n)
        try:
            with open(eml[:-4] + ".env", "rb") as f:
                env = f.read().decode("utf-8", "replace").lower().splitlines()
        except OSError:
            continue
        if want not in env:
            continue
        if a.msgid is not None and a.msgid not in header_values(eml, "Message-ID"):
            continue
        print(eml)
    return 0


def cmd_header(a):
    for v in header_values(a.file, a.name):
        print(v)
    return 0


def cmd_body_equal(a):
    with open(a.original, "rb") as f:
        _, want = split(f.read())
    with open(a.received, "rb") as f:
        _, got = split(f.read())
    if want == got:
        return 0
    n = 0
    while n < min(len(want), len(got)) and want[n] == got[n]:
        n += 1
    print("bodies differ: original %d bytes, received %d bytes, first difference at byte %d:"
          " original %r, received %r" % (len(want), len(got), n, want[n:n + 40], got[n:n + 40]))
    return 1


def cmd_derive(a):
    with open(a.src, "rb") as f:
        data = crlf(f.read())
    header, body = split(data)
    if a.add_header is not None:
        new = a.add_header.encode() + b"\r\n"
        m = re.search(rb"^MIME-Version:", header, re.M | re.I)
        header = header[: m.start()] + new + header[m.start():] if m else header + new
    elif a.subject_prefix is not None:
        header, n = re.subn(rb"^(Subject:[ \t]*)", lambda m: m.group(1) + a.subject_prefix.encode(),
                            header, count=1, flags=re.M | re.I)
        if n != 1:
            sys.exit("mailtool.py: %s has no Subject" % a.src)
    elif a.grow is not None:
        # append to the first text/plain part: just before the boundary line
        # that ends it (or at the end of a single-part body)
        m = re.search(rb'boundary="?([^";\r\n]+)"?', header, re.I)
        filler = []
        size, i = len(header) + 2 + len(body), 0
        while size <= a.grow:
            i += 1
            dot = b"." if i % 50 == 0 else b""
            line = dot + b"Filler line %06d of the large-message test: the quick brown fox " \
                b"jumps over the lazy dog.\r\n" % i
            filler.append(line)
            size += len(line)
        filler = b"".join(filler)
        if m:
            delim = b"\r\n--" + m.group(1) + b"\r\n"
            first = body.find(delim)            # opens the first part
            end = body.find(delim, first + 1)   # opens the second part
            if first < 0 or end < 0:
                sys.exit("mailtool.py: cannot find the first part of %s" % a.src)
            body = body[: end + 2] + filler + body[end + 2:]
        else:
            body = body + filler
    with open(a.dst, "wb") as f:
        f.write(header + b"\r\n" + body)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("find")
    p.add_argument("outdir")
    p.add_argument("rcpt")
    p.add_argument("msgid", nargs="?")
    p.set_defaults(fn=cmd_find)
    p = sub.add_parser("header")
    p.add_argument("file")
    p.add_argument("name")
    p.set_defaults(fn=cmd_header)
    p = sub.add_parser("body-equal")
    p.add_argument("original")
    p.add_argument("received")
    p.set_defaults(fn=cmd_body_equal)
    p = sub.add_parser("derive")
    p.add_argument("src")
    p.add_argument("dst")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--add-header")
    g.add_argument("--subject-prefix")
    g.add_argument("--grow", type=int, metavar="BYTES")
    p.set_defaults(fn=cmd_derive)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
