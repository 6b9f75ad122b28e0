#!/usr/bin/env python3
"""auth_seeds.py - seed inputs for fuzz_auth, written into DIR

    python3 tests/fuzz/auth_seeds.py DIR

Each seed is an SPF record line, a DMARC record line, then a message:
the DKIM corpora's signed messages (from MOAT_TESTDATA, else
../shared/testdata, when there) and moat's demo samples, under records
that pass, fail and break. Deterministic: the same bytes on every run.
"""
import os
import sys

RECORDS = [
    (b"v=spf1 ip4:192.0.2.0/24 -all", b"v=DMARC1; p=reject; adkim=s; aspf=r"),
    (b"v=spf1 -all", b"v=DMARC1; p=quarantine; pct=50; sp=none"),
    (b"v=spf1 include:%{d}.%{i}.x exists:%{l1r+-}.%{o} redirect=%{d}", b"v=DMARC1; p="),
    (b"v=spf1 ip6:2001:db8::/0 a/24//64 mx:example.com/0 ~all", b"v=DMARC2; p=none"),
]
CORPORA = ["dkim-dkimpy", "dkim-mimekit", "dkim-mail-dkim-corpus/corpus"]


def messages():
    top = os.environ.get("MOAT_TESTDATA", "../shared/testdata")
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [os.path.join(top, c) for c in CORPORA]
    dirs.append(os.path.join(here, "..", "..", "samples", "demo"))
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".msg", ".eml", ".txt", ".message")):
                with open(os.path.join(d, name), "rb") as f:
                    yield name, f.read()[:200000]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for i, (name, msg) in enumerate(messages()):
        spf, dmarc = RECORDS[i % len(RECORDS)]
        with open(os.path.join(out, "%03d-%s" % (i, name)), "wb") as f:
            f.write(spf + b"\n" + dmarc + b"\n" + msg)
        n += 1
    print("auth seeds: %d in %s" % (n, out))


if __name__ == "__main__":
    main()
