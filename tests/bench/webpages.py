#!/usr/bin/env python3
"""tests/bench/webpages.py - moat-web's page times and memory (tests/bench/web.sh)

    webpages.py URL PID ITEM USER PASSWORD [REPS]

Logs in at URL as USER, then asks for each page below REPS times (5)
and prints, per page, the median and the slowest answer in ms, the
page's bytes, and moat-web's (process PID) resident memory after it
(VmRSS) and at its peak so far (VmHWM), from /proc. The peak is reset
after the login (/proc/PID/clear_refs), whose Argon2id check alone takes
64 MiB for a moment: what is left is the pages'. ITEM is an item id for
the message page. Exits 1 when a page does not answer 200.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from webtool import Client  # noqa: E402  (the HTTP client web.sh's checks use)

PAGES = [
    ("list, page 1", "/list"),
    ("list, page 2", "/list?page=2"),
    ("list, page 150", "/list?page=150"),
    ("list, 1 sender", "/list?from=sender7%40example.net"),
    ("list, 1 finding", "/list?finding=lure.sideload"),
    ("list, every status", "/list?status=all"),
    ("statistics", "/stats"),
    ("chart (SVG)", "/stats/held.svg"),
    ("history", "/history"),
    ("message", "/msg/{item}"),
]


def memory(pid):
    """VmRSS and VmHWM of PID in MB"""
    got = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                got[k] = int(v.split()[0]) / 1024
    return got["VmRSS"], got["VmHWM"]


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    url, pid, item, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
        sys.argv[5]
    reps = int(sys.argv[6]) if len(sys.argv) == 7 else 5
    c = Client(url)
    c.login(user, password)
    print("%-20s %9s %9s %9s %9s %9s" % ("page", "median ms", "max ms", "KB", "RSS MB", "peak MB"))
    print("%-20s %9s %9s %9s %9.1f %9.1f" % (("(login)", "", "", "") + memory(pid)))
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")  # VmHWM back to VmRSS
    print("%-20s %9s %9s %9s %9.1f %9.1f" % (("(peak reset)", "", "", "") + memory(pid)))
    for name, path in PAGES:
        path = path.replace("{item}", item)
        times = []
        size = 0
        for _ in range(reps):
            t0 = time.monotonic()
            st, body = c.req("GET", path)
            times.append((time.monotonic() - t0) * 1000)
            if st != 200:
                sys.exit("GET %s: %d" % (path, st))
            size = len(body.encode())
        rss, hwm = memory(pid)
        print("%-20s %9.0f %9.0f %9.0f %9.1f %9.1f" % (name, statistics.median(times), max(times),
                                                       size / 1024, rss, hwm))


if __name__ == "__main__":
    main()
