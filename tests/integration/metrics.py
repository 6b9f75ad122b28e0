#!/usr/bin/env python3
"""tests/integration/metrics.py - moatd's status endpoint, from the outside

    metrics.py get SPEC [PATH]          GET PATH (default /metrics) from SPEC
                                        (unix:/path or inet:PORT@HOST); the
                                        body on stdout, exit 1 unless 200
    metrics.py raw SPEC BYTES           send BYTES (Python escapes, e.g.
                                        'GET / HTTP/1.0\\r\\n\\r\\n'), print the
                                        status line of the answer ("" if none)
    metrics.py check FILE               FILE is valid Prometheus text 0.0.4:
                                        parsed by prometheus_client when it is
                                        installed (python3-prometheus-client),
                                        and always by the strict rules below;
                                        exit 1 with the reasons if not
    metrics.py value FILE NAME [LABEL=VALUE]
                                        the sum of the samples NAME (with that
                                        label), printed as an integer when it is one

Strict rules: every line is "# HELP name text", "# TYPE name type" (once
per family, after its HELP, before its samples) or a sample
name{label="value",...} value; samples belong to a declared family
(histograms: _bucket with le, _sum, _count); counter names end in _total;
names start with moat_; a histogram's buckets are cumulative and its +Inf
bucket equals its _count; the text ends with a newline.
"""

import re
import socket
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def connect(spec, timeout=5.0):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(spec.split(":", 1)[1])
        return s
    fam, rest = spec.split(":", 1)
    port, host = rest.split("@", 1)
    s = socket.socket(socket.AF_INET6 if fam == "inet6" else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, int(port)))
    return s


def exchange(spec, data):
    s = connect(spec)
    try:
        s.sendall(data)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b
    finally:
        s.close()


def labels_of(text):
    out, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError("bad labels: {%s}" % text)
        out[m.group(1)] = re.sub(r'\\(.)', lambda x: "\n" if x.group(1) == "n" else x.group(1),
                                 m.group(2))
        pos = m.end()
    return out


def number(v):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r'^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$', v):
        raise ValueError("not a number: %r" % v)
    return float(v)


def samples(text):
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("not a sample line: %r" % line)
        yield m.group(1), labels_of(m.group(3) or ""), number(m.group(4))


def strict(text):
    errs = []
    if not text.endswith("\n"):
        errs.append("no final newline")
    helped, types, buckets, counts = None, {}, {}, {}
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not parts[3].strip():
                errs.append("HELP without text: %r" % line)
            helped = parts[2] if len(parts) > 2 else None
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in ("counter", "gauge", "histogram", "summary",
                                                   "untyped"):
                errs.append("bad TYPE line: %r" % line)
                continue
            name, kind = parts[2], parts[3]
            if helped != name:
                errs.append("TYPE without its HELP before it: %r" % line)
            if name in types:
                errs.append("family declared twice: %s" % name)
            if kind == "counter" and not name.endswith("_total"):
                errs.append("counter not ending in _total: %s" % name)
            if not name.startswith("moat_"):
                errs.append("not a moat_ name: %s" % name)
            types[name] = kind
            continue
        if line.startswith("#"):
            errs.append("stray comment: %r" % line)
            continue
        try:
            (name, labels, value), = list(samples(line + "\n"))
        except ValueError as e:
            errs.append(str(e))
            continue
        family = name
        if name not in types:
            for sfx in ("_bucket", "_sum", "_count"):
                if name.endswith(sfx) and types.get(name[:-len(sfx)]) == "histogram":
                    family = name[:-len(sfx)]
        if family not in types:
            errs.append("sample of an undeclared family: %r" % line)
            continue
        if types[family] == "histogram":
            key = (family, tuple(sorted((k, v) for k, v in labels.items() if k != "le")))
            if name.endswith("_bucket"):
                if "le" not in labels:
                    errs.append("bucket without le: %r" % line)
                    continue
                buckets.setdefault(key, []).append((number(labels["le"]), value))
            elif name.endswith("_count"):
                counts[key] = value
    for key, bs in buckets.items():
        ordered = sorted(bs)
        if [v for _, v in ordered] != sorted(v for _, v in ordered):
            errs.append("%s: buckets not cumulative" % key[0])
        if not ordered or ordered[-1][0] != float("inf"):
            errs.append("%s: no +Inf bucket" % key[0])
        elif counts.get(key) != ordered[-1][1]:
            errs.append("%s: +Inf bucket %s != _count %s" % (key[0], ordered[-1][1],
                                                             counts.get(key)))
    return errs


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "get":
        path = sys.argv[3] if len(sys.argv) > 3 else "/metrics"
        out = exchange(sys.argv[2], ("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
        head, _, body = out.partition(b"\r\n\r\n")
        sys.stdout.write(body.decode("utf-8"))
        return 0 if head.startswith(b"HTTP/1.0 200 ") else 1
    if len(sys.argv) == 4 and sys.argv[1] == "raw":
        data = sys.argv[3].encode("latin-1").decode("unicode_escape").encode("latin-1")
        try:
            out = exchange(sys.argv[2], data)
        except OSError as e:
            out = b""
            print("(%s)" % e, file=sys.stderr)
        print(out.split(b"\r\n", 1)[0].decode("latin-1"))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        text = open(sys.argv[2], encoding="utf-8").read()
        errs = strict(text)
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            # Debian's package, seen from a python3 that is not Debian's (pyenv)
            sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            print("note: prometheus_client not installed (python3-prometheus-client); "
                  "strict rules only", file=sys.stderr)
        else:
            try:
                n = sum(len(f.samples) for f in text_string_to_metric_families(text))
                if n == 0:
                    errs.append("prometheus_client found no samples")
            except Exception as e:  # the parser raises ValueError and friends
                errs.append("prometheus_client: %s: %s" % (type(e).__name__, e))
        for e in errs:
            print(e)
        return 1 if errs else 0
    if len(sys.argv) in (4, 5) and sys.argv[1] == "value":
        text = open(sys.argv[2], encoding="utf-8").read()
        want = sys.argv[4].split("=", 1) if len(sys.argv) == 5 else None
        total = sum(v for n, ls, v in samples(text)
                    if n == sys.argv[3] and (want is None or ls.get(want[0]) == want[1]))
        print(int(total) if total == int(total) else total)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
