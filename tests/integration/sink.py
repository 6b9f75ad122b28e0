#!/usr/bin/env python3
"""tests/integration/sink.py - a minimal SMTP server that keeps every message

    sink.py [--lifetime SECONDS] [--ready FILE] PORT OUTDIR

Listens on 127.0.0.1:PORT (threads, one per connection), accepts every
command of a plain SMTP/ESMTP session (EHLO/HELO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT) and every message. Each message is stored as OUTDIR/NNNN.eml
(0001, 0002, ...): the DATA content byte for byte after dot-unstuffing, CRLF
line ends kept, up to and including the CRLF before the final ".". Next to it
OUTDIR/NNNN.env holds the envelope: "MAIL FROM:<addr>" then one
"RCPT TO:<addr>" line per recipient. Both files are written under a temporary
name and renamed; the .env appears before the .eml, so a visible NNNN.eml is
always complete.

Exits by itself after --lifetime seconds (default 600). --ready FILE: once
listening, write the port to FILE (PORT 0 picks a free port).
"""

import argparse
import os
import re
import socketserver
import sys
import threading

MAX_LINE = 1 << 20


class Store:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lock = threading.Lock()
        self.n = 0

    def save(self, sender, rcpts, data):
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.outdir, "%04d" % n)
        env = "MAIL FROM:<%s>\r\n" % sender + "".join("RCPT TO:<%s>\r\n" % r for r in rcpts)
        self._atomic(base + ".env", env.encode("utf-8", "surrogateescape"))
        self._atomic(base + ".eml", data)
        return n

    def _atomic(self, path, data):
        tmp = os.path.join(self.outdir, ".tmp.%s" % os.path.basename(path))
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)


def addr(arg):
    """The <address> of a MAIL FROM:/RCPT TO: argument (ESMTP params ignored)."""
    m = re.match(rb"\s*<([^>]*)>", arg)
    if m:
        return m.group(1).decode("utf-8", "surrogateescape")
    return arg.split()[0].decode("utf-8", "surrogateescape") if arg.split() else ""


class Handler(socketserver.StreamRequestHandler):
    timeout = 300  # idle connections are dropped

    def reply(self, text):
        self.wfile.write(text.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self):
        store = self.server.store
        sender, rcpts = None, []
        self.reply("220 sink.moat-test ESMTP test sink")
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return
            cmdline = line.rstrip(b"\r\n")
            verb = cmdline[:4].upper()
            rest = cmdline[4:]
            if verb == b"EHLO":
                self.reply("250-sink.moat-test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                           "250-SMTPUTF8\r\n250-SIZE 0\r\n250 ENHANCEDSTATUSCODES")
                sender, rcpts = None, []
            elif verb == b"HELO":
                self.reply("250 sink.moat-test")
                sender, rcpts = None, []
            elif verb == b"MAIL" and rest[:5].upper() == b" FROM" and b":" in rest:
                sender, rcpts = addr(rest.split(b":", 1)[1]), []
                self.reply("250 2.1.0 Ok")
            elif verb == b"RCPT" and rest[:3].upper() == b" TO" and b":" in rest:
                if sender is None:
                    self.reply("503 5.5.1 Error: need MAIL command")
                else:
                    rcpts.append(addr(rest.split(b":", 1)[1]))
                    self.reply("250 2.1.5 Ok")
            elif verb == b"DATA":
                if sender is None or not rcpts:
                    self.reply("503 5.5.1 Error: need RCPT command")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    l = self.rfile.readline(MAX_LINE)
                    if not l:
                        return  # connection lost mid-DATA: message dropped
                    if l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    chunks.append(l)
                n = store.save(sender, rcpts, b"".join(chunks))
                self.reply("250 2.0.0 Ok: stored as %04d" % n)
                sender, rcpts = None, []
            elif verb == b"RSET":
                sender, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == b"NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == b"QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--lifetime", type=float, default=600.0)
    ap.add_argument("--ready", metavar="FILE")
    args = ap.parse_args()

    os.makedirs(args.outdir, exist_ok=True)
    server = Server(("127.0.0.1", args.port), Handler)
    server.store = Store(args.outdir)
    if args.ready:
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(tmp, args.ready)
    timer = threading.Timer(args.lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
