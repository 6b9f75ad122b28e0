#!/usr/bin/env python3
"""web_seeds.py - seed inputs for fuzz_web, written into DIR

    python3 tests/fuzz/web_seeds.py DIR

What moat-web's own parsing reads: login and action form bodies, list
query strings (filters, dates, pages), Cookie headers, and texts with
markup, controls and bidi characters for the escaper. Deterministic.
"""
import os
import sys

SEEDS = [
    b"token=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&user=admin&password=a+b%2Bc",
    b"csrf=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    b"status=all&from=a%40b.example&rcpt=x%40y&finding=attach.shortcut&since=2026-12-01&until=2026-12-31&page=2",
    b"status=held&page=0&since=2026-02-30",
    b"moat_login=abc; moat_session=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef; x=1",
    b"a=%zz&b=%4&c=%&d=%00&e=%ff&&==&f",
    "Invoice <script>alert(1)</script> \u202efdp.exe \"q\" 'a' &amp;\x07\ufeff\u2066".encode(),
    b"\xff\xfe\xc3(\xe2\x82",
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for i, s in enumerate(SEEDS):
        with open(os.path.join(out, "seed%02d" % i), "wb") as f:
            f.write(s)


if __name__ == "__main__":
    main()
