#!/usr/bin/env python3
"""synthsigs.py OUTDIR [HASHES] [PATTERNS] - synthetic ClamAV databases

    OUTDIR/synth.hdb   HASHES (default 100,000) MD5 hash signatures,
                       md5:size:name
    OUTDIR/synth.hsb   HASHES SHA-256 hash signatures, sha256:size:name
    OUTDIR/synth.ndb   PATTERNS (default 20,000) body patterns,
                       name:0:*:hex (target any file, any offset), 8 to 32
                       random bytes each, a quarter of them with one
                       wildcard part (??, {n-m} or a two-way alternative)

The public databases cannot be downloaded here; these stand in for a site
that loads millions of signatures, to show how libclamav's load time, its
memory and its cost per scan grow with the database (tests/bench/run.sh).
Random but well-formed: libclamav loads every line. Sizes are random from
1 KB to 4 MB, so a hash signature practically never matches. Deterministic:
the same bytes on every run.
"""
import os
import random
import sys


def pattern(rng):
    """A random ndb body: hex bytes, sometimes with one wildcard part."""
    n = rng.randint(8, 32)
    parts = [rng.randbytes(n).hex()]
    if rng.random() < 0.25:
        kind = rng.randrange(3)
        tail = rng.randbytes(rng.randint(4, 12)).hex()
        if kind == 0:
            parts.append("??" + tail)
        elif kind == 1:
            lo = rng.randint(0, 8)
            parts.append("{%d-%d}%s" % (lo, lo + rng.randint(1, 16), tail))
        else:
            parts.append("(%s|%s)%s" % (rng.randbytes(2).hex(), rng.randbytes(2).hex(), tail))
    return "".join(parts)


def main():
    if len(sys.argv) not in (2, 3, 4):
        print("usage: synthsigs.py OUTDIR [HASHES] [PATTERNS]", file=sys.stderr)
        return 2
    out = sys.argv[1]
    hashes = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    patterns = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    os.makedirs(out, exist_ok=True)
    rng = random.Random(13)
    with open(os.path.join(out, "synth.hdb"), "w") as f:
        f.writelines("%s:%d:Moat.Synth.Hdb-%d\n" % (rng.randbytes(16).hex(),
                                                    rng.randint(1024, 4 << 20), i)
                     for i in range(hashes))
    with open(os.path.join(out, "synth.hsb"), "w") as f:
        f.writelines("%s:%d:Moat.Synth.Hsb-%d\n" % (rng.randbytes(32).hex(),
                                                    rng.randint(1024, 4 << 20), i)
                     for i in range(hashes))
    with open(os.path.join(out, "synth.ndb"), "w") as f:
        f.writelines("Moat.Synth.Ndb-%d:0:*:%s\n" % (i, pattern(rng)) for i in range(patterns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
