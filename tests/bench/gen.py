#!/usr/bin/env python3
"""gen.py OUTDIR COUNT - a deterministic corpus of mixed mail for `make bench`.

Plain text, HTML, multipart/alternative and attachments (PDF-like, zip-like,
random binary, text), 2 KB to 2 MB, base64 or quoted-printable. Same seed,
same bytes: runs compare.
"""
import base64
import os
import random
import sys

WORDS = ("invoice meeting shipment report quarterly budget contract review "
         "please find attached regards schedule project update customer "
         "payment order delivery thanks team").split()


def text(rng, size):
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        out.append(line)
        n += len(line) + 1
    return "\n".join(out) + "\n"


def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76)) + "\n"


def attachment(rng, size):
    kind = rng.choice(["pdf", "zip", "bin", "txt"])
    if kind == "pdf":
        data = b"%PDF-1.4\n" + rng.randbytes(size)
    elif kind == "zip":
        data = b"PK\x03\x04" + rng.randbytes(size)
    elif kind == "bin":
        data = rng.randbytes(size)
    else:
        data = text(rng, size).encode()
    return "document-%d.%s" % (rng.randint(1, 9999), kind), data


def message(rng, i):
    size = int(2048 * (1024 ** (rng.random())))          # 2 KB .. 2 MB, log-uniform
    head = ("From: Sender %d <sender%d@example.com>\nTo: rcpt@example.org\n"
            "Subject: %s %d\nDate: Sat, 28 Nov 2026 10:00:00 +0000\n"
            "Message-ID: <bench%d@example.com>\nMIME-Version: 1.0\n"
            % (i, i, rng.choice(WORDS), i, i))
    shape = rng.choice(["plain", "html", "alt", "attach", "attach"])
    if shape == "plain":
        return head + "Content-Type: text/plain; charset=utf-8\n\n" + text(rng, size)
    if shape == "html":
        body = "<html><body><p>" + text(rng, size).replace("\n", "</p>\n<p>") + "</p></body></html>\n"
        return head + "Content-Type: text/html; charset=utf-8\n\n" + body
    if shape == "alt":
        t = text(rng, size // 2)
        return (head + "Content-Type: multipart/alternative; boundary=ALT\n\n--ALT\n"
                "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
                + t + "--ALT\nContent-Type: text/html\n\n<html><body>" + t +
                "</body></html>\n--ALT--\n")
    name, data = attachment(rng, size)
    return (head + "Content-Type: multipart/mixed; boundary=MIX\n\n--MIX\n"
            "Content-Type: text/plain\n\n" + text(rng, 600) + "--MIX\n"
            "Content-Type: application/octet-stream; name=\"%s\"\n"
            "Content-Disposition: attachment; filename=\"%s\"\n"
            "Content-Transfer-Encoding: base64\n\n%s--MIX--\n" % (name, name, b64(data)))


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261128)
    for i in range(count):
        with open(os.path.join(out, "gen-%04d.eml" % i), "w") as f:
            f.write(message(rng, i))


if __name__ == "__main__":
    main()
