#!/usr/bin/env python3
"""tests/integration/authtool.py - helpers for auth.sh (sender authentication)

    authtool.py send --port PORT --addr IP --helo NAME [--from ADDR] [--to ADDR]
                     [--elapsed FILE] [--timeout S] MESSAGE
        One SMTP transaction to 127.0.0.1:PORT as if from the outside client
        IP: EHLO, XCLIENT ADDR=IP NAME=[UNAVAILABLE] HELO=NAME (Postfix's
        smtpd_authorized_xclient_hosts), EHLO NAME again (XCLIENT_README),
        MAIL FROM, RCPT TO, DATA with MESSAGE (line ends made CRLF, sent byte
        for byte otherwise). Prints the final reply, "CODE TEXT" on one line
        (the first non-2xx reply, or the reply to the end of DATA; "000 ..."
        on a connection error). --elapsed FILE: the milliseconds from MAIL
        FROM to the final reply go to FILE. Exit 0 whatever the reply.

    authtool.py txt SERVER NAME
        Ask SERVER (UDP 53, 2 s) for NAME's TXT records; print the rcode and
        each record's strings joined, one per line. Exit 1 on no answer.

    authtool.py blackhole IP SECONDS
        Bind UDP IP:53 and read what comes, never answering, for SECONDS: a
        DNS server that does not answer (rather than an ICMP port
        unreachable, which a resolver takes as a quick failure). Prints a
        line per query: "ADDR asked NAME, no answer".

    authtool.py dkim-b MESSAGE
        Print the first 8 characters of the b= tag of MESSAGE's first
        DKIM-Signature (RFC 6008's header.b).

    authtool.py ar MESSAGE AUTHSERV-ID [CLAUSE...]
        Check MESSAGE's Authentication-Results fields: exactly one claims
        AUTHSERV-ID (case-insensitive), and for each CLAUSE ("spf=pass
        smtp.mailfrom=a@b.test", "dkim=none", ...) it has a result clause
        with that method=result and at least those properties (comments and
        their order aside). Exit 0 when all hold; else print what is wrong
        and the fields, exit 1.

    authtool.py ar-ids MESSAGE
        Print the authserv-id of each Authentication-Results field, in order.

    authtool.py unchanged ORIGINAL RECEIVED AUTHSERV-ID
        Exit 0 when RECEIVED is ORIGINAL byte for byte (CRLF line ends) once
        the MTA's Received field on top and the Authentication-Results
        fields claiming AUTHSERV-ID are left out; else say where they
        differ, exit 1.
"""

import argparse
import random
import re
import smtplib
import socket
import struct
import sys
import time


def crlf(data):
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    return data.replace(b"\n", b"\r\n")


def fmt(code, text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "%03d %s" % (code, " ".join(str(text).split("\n")).strip())


# --- send ---------------------------------------------------------------------

def cmd_send(a):
    with open(a.message, "rb") as f:
        data = crlf(f.read())
    t0 = None
    result = None
    smtp = smtplib.SMTP(timeout=a.timeout)
    try:
        code, text = smtp.connect("127.0.0.1", a.port)
        if code != 220:
            result = (code, text)
            return 0
        code, text = smtp.ehlo("xclient.moat-test")
        if code != 250:
            result = (code, text)
            return 0
        if not smtp.has_extn("xclient"):
            result = (0, "the server does not offer XCLIENT to us: %s" % smtp.ehlo_resp)
            return 0
        code, text = smtp.docmd("XCLIENT", "ADDR=%s NAME=[UNAVAILABLE] HELO=%s" % (a.addr, a.helo))
        if code != 220:
            result = (code, b"XCLIENT: " + text)
            return 0
        code, text = smtp.ehlo(a.helo)
        if code != 250:
            result = (code, text)
            return 0
        t0 = time.monotonic()
        code, text = smtp.mail(a.sender)
        if code != 250:
            result = (code, text)
            return 0
        code, text = smtp.rcpt(a.rcpt)
        if code not in (250, 251):
            result = (code, text)
            return 0
        code, text = smtp.data(data)
        result = (code, text)
    except smtplib.SMTPResponseException as e:
        result = (e.smtp_code, e.smtp_error)
    except (OSError, smtplib.SMTPException) as e:
        result = (0, "connection error: %s: %s" % (type(e).__name__, e))
    finally:
        if t0 is not None and a.elapsed:
            with open(a.elapsed, "w") as f:
                f.write("%d\n" % int((time.monotonic() - t0) * 1000))
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
        if result is not None:
            print(fmt(*result), flush=True)
    return 0


# --- DNS ----------------------------------------------------------------------

def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def skip_name(msg, i):
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def cmd_txt(a):
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname(a.name) + struct.pack(">HH", 16, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        s.sendto(q, (a.server, 53))
        msg, _ = s.recvfrom(65535)
    except OSError as e:
        print("no answer: %s" % e)
        return 1
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    if rid != qid:
        print("answer with another id")
        return 1
    rcode = flags & 0xF
    print({0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(rcode, "rcode %d" % rcode)
          + (" aa" if flags & 0x0400 else ""))
    i = 12
    for _ in range(qd):
        i = skip_name(msg, i) + 4
    for _ in range(an):
        i = skip_name(msg, i)
        typ, _, _, rdlen = struct.unpack(">HHIH", msg[i:i + 10])
        i += 10
        rdata = msg[i:i + rdlen]
        i += rdlen
        if typ != 16:
            continue
        strings, j = [], 0
        while j < len(rdata):
            n = rdata[j]
            strings.append(rdata[j + 1:j + 1 + n].decode("ascii", "replace"))
            j += 1 + n
        print("".join(strings))
    return 0


def cmd_blackhole(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.ip, 53))
    end = time.monotonic() + a.seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return 0
        s.settimeout(left)
        try:
            q, peer = s.recvfrom(65535)	# and never a word back
        except socket.timeout:
            return 0
        name = []
        i = 12
        while i < len(q) and q[i] != 0 and q[i] < 64:
            name.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
            i += 1 + q[i]
        print("%s asked %s, no answer" % (peer[0], ".".join(name)), flush=True)


# --- headers ------------------------------------------------------------------

def fields(path):
    """[(name, unfolded value)] of MESSAGE's header section."""
    with open(path, "rb") as f:
        data = crlf(f.read())
    end = data.find(b"\r\n\r\n")
    header = data if end < 0 else data[:end + 2]
    out = []
    for line in header.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and out:
            out[-1][1] += b" " + line.strip()
        elif b":" in line:
            n, v = line.split(b":", 1)
            out.append([n.strip(), v.strip()])
    return [(n.decode("latin-1"), v.decode("utf-8", "replace")) for n, v in out]


def uncomment(s):
    """S without RFC 5322 comments (nested; quoted strings kept)."""
    out, depth, quoted, esc = [], 0, False, False
    for c in s:
        if esc:
            esc = False
            if depth == 0:
                out.append(c)
            continue
        if c == "\\":
            esc = True
            if depth == 0:
                out.append(c)
            continue
        if quoted:
            out.append(c)
            if c == '"':
                quoted = False
            continue
        if c == "(":
            depth += 1
        elif c == ")" and depth > 0:
            depth -= 1
        elif depth == 0:
            if c == '"':
                quoted = True
            out.append(c)
    return "".join(out)


def split_semis(s):
    parts, cur, quoted = [], [], False
    for c in s:
        if c == '"':
            quoted = not quoted
        if c == ";" and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def parse_ar(value):
    """(authserv-id, [(method=result, {prop: value})]) of an A-R value."""
    parts = split_semis(uncomment(value))
    head = parts[0].split()
    authserv = head[0] if head else ""
    clauses = []
    for p in parts[1:]:
        # "method = result" may carry blanks around "="
        toks = re.sub(r"\s*=\s*", "=", p.strip()).split()
        if not toks:
            continue
        props = {}
        for t in toks[1:]:
            if "=" in t:
                k, v = t.split("=", 1)
                props[k.lower()] = v
        clauses.append((toks[0].lower(), props))
    return authserv, clauses


def spec(s):
    toks = s.split()
    props = {}
    for t in toks[1:]:
        k, v = t.split("=", 1)
        props[k.lower()] = v
    return toks[0].lower(), props


def cmd_ar(a):
    ars = [v for n, v in fields(a.message) if n.lower() == "authentication-results"]
    ours = [v for v in ars if parse_ar(v)[0].lower() == a.authserv.lower()]
    problems = []
    if len(ours) != 1:
        problems.append("%d Authentication-Results fields claim %s, not 1" % (len(ours), a.authserv))
    else:
        _, clauses = parse_ar(ours[0])
        for want in a.clauses:
            m, props = spec(want)
            if not any(cm == m and all(cp.get(k) is not None and cp.get(k).lower() == v.lower()
                                       for k, v in props.items())
                       for cm, cp in clauses):
                problems.append("no clause '%s'" % want)
    if not problems:
        return 0
    print("; ".join(problems))
    for v in ars:
        print("Authentication-Results: " + v)
    return 1


def cmd_ar_ids(a):
    for n, v in fields(a.message):
        if n.lower() == "authentication-results":
            print(parse_ar(v)[0])
    return 0


def raw_fields(data):
    """(header fields as raw CRLF byte strings, folding kept; body)"""
    end = data.find(b"\r\n\r\n")
    header, body = (data, b"") if end < 0 else (data[:end + 2], data[end + 4:])
    out = []
    for line in header.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and out:
            out[-1] += line + b"\r\n"
        else:
            out.append(line + b"\r\n")
    return out, body


def cmd_unchanged(a):
    with open(a.original, "rb") as f:
        want_f, want_b = raw_fields(crlf(f.read()))
    with open(a.received, "rb") as f:
        got_f, got_b = raw_fields(crlf(f.read()))
    # the MTA's Received: the first one (ours may come above it)
    rcvd = [i for i, x in enumerate(got_f) if x.lower().startswith(b"received:")]
    if rcvd:
        del got_f[rcvd[0]]
    kept = []
    for x in got_f:
        n, _, v = x.partition(b":")
        if n.strip().lower() == b"authentication-results" and \
                parse_ar(v.decode("utf-8", "replace").replace("\r\n", ""))[0].lower() == a.authserv.lower():
            continue
        kept.append(x)
    if kept == want_f and got_b == want_b:
        return 0
    for i in range(max(len(kept), len(want_f))):
        w = want_f[i] if i < len(want_f) else None
        g = kept[i] if i < len(kept) else None
        if w != g:
            print("header field %d: sent %r, delivered %r" % (i + 1, w, g))
            return 1
    print("bodies differ: sent %d bytes, delivered %d" % (len(want_b), len(got_b)))
    return 1


def cmd_dkim_b(a):
    for n, v in fields(a.message):
        if n.lower() == "dkim-signature":
            m = re.search(r"(?:^|;)\s*b\s*=\s*([A-Za-z0-9+/=\s]+)", v)
            if m:
                print(re.sub(r"\s+", "", m.group(1))[:8])
                return 0
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("send")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--addr", required=True)
    p.add_argument("--helo", required=True)
    p.add_argument("--from", dest="sender", default="")
    p.add_argument("--to", dest="rcpt", default="rcpt@example.test")
    p.add_argument("--elapsed", default=None)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("message")
    p.set_defaults(fn=cmd_send)
    p = sub.add_parser("txt")
    p.add_argument("server")
    p.add_argument("name")
    p.set_defaults(fn=cmd_txt)
    p = sub.add_parser("blackhole")
    p.add_argument("ip")
    p.add_argument("seconds", type=float)
    p.set_defaults(fn=cmd_blackhole)
    p = sub.add_parser("dkim-b")
    p.add_argument("message")
    p.set_defaults(fn=cmd_dkim_b)
    p = sub.add_parser("ar")
    p.add_argument("message")
    p.add_argument("authserv")
    p.add_argument("clauses", nargs="*")
    p.set_defaults(fn=cmd_ar)
    p = sub.add_parser("unchanged")
    p.add_argument("original")
    p.add_argument("received")
    p.add_argument("authserv")
    p.set_defaults(fn=cmd_unchanged)
    p = sub.add_parser("ar-ids")
    p.add_argument("message")
    p.set_defaults(fn=cmd_ar_ids)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
