#!/usr/bin/env python3
"""tests/integration/inject.py - send message files over SMTP, print the replies

    inject.py [--port 25] [--source IP] [--from ADDR] [--to ADDR]... [--retry-4xx N]
              [--pause-data S] FILE...

Sends each FILE (an RFC 5322 message; line ends are normalised to CRLF) to
127.0.0.1:PORT with smtplib: EHLO, MAIL FROM, RCPT TO, DATA. Several FILEs go
over one SMTP connection, one transaction each (RSET between them).

For each FILE prints one line: the final SMTP reply of its transaction, code
and text, e.g.
    250 2.0.0 Ok: queued as 4Xyz12
    550 5.7.1 message rejected: ...
The final reply is the first non-2xx reply (greeting, EHLO, MAIL, RCPT, DATA),
or the reply to the end of DATA. A connection error prints "000 <error>".
Always exits 0 whatever the replies (exit 2 on bad usage or an unreadable
file): the caller asserts on the printed code.

--source IP: connect from this local address (e.g. 127.0.0.2: all of
127.0.0.0/8 is local on Linux), so the milter sees another client.

--retry-4xx N: after a 4xx reply or a connection error, wait 1 s, reconnect
and send the same FILE again, up to N more times.

--pause-data S: send the first half of the message content, wait S seconds,
then the rest: the message stays in flight at the milter (which has seen its
MAIL FROM) all that time.
"""

import argparse
import re
import smtplib
import socket
import sys
import time


def crlf(data):
    """Normalise line ends to CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def fmt(code, text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "%03d %s" % (code, " ".join(str(text).split("\n")).strip())


class Client:
    def __init__(self, host, port, timeout, source=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.source = (source, 0) if source else None
        self.smtp = None
        self.pause = 0.0

    def close(self):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    self.smtp.close()
                except OSError:
                    pass
            self.smtp = None

    def send(self, sender, rcpts, data):
        """One transaction. Returns (code, text) of the final reply."""
        try:
            if self.smtp is None:
                smtp = smtplib.SMTP(timeout=self.timeout, source_address=self.source)
                code, text = smtp.connect(self.host, self.port)
                if code != 220:
                    smtp.close()
                    return code, text
                code, text = smtp.ehlo("inject.moat-test")
                if code != 250:
                    smtp.close()
                    return code, text
                self.smtp = smtp
            else:
                code, text = self.smtp.rset()
                if code != 250:
                    self.close()
                    return code, text
            s = self.smtp
            code, text = s.mail(sender)
            if code != 250:
                return self._fail(code, text)
            accepted = 0
            last = None
            for r in rcpts:
                code, text = s.rcpt(r)
                if code in (250, 251):
                    accepted += 1
                else:
                    last = (code, text)
            if accepted == 0:
                return self._fail(*last)
            if self.pause > 0:
                return self._data_paused(s, data)
            code, text = s.data(data)
            return code, text
        except smtplib.SMTPServerDisconnected as e:
            self.smtp = None
            return 0, "connection error: server disconnected: %s" % e
        except smtplib.SMTPResponseException as e:
            # raised by data() when the DATA command itself is refused
            self.close()
            return e.smtp_code, e.smtp_error
        except (OSError, smtplib.SMTPException) as e:
            self.smtp = None
            return 0, "connection error: %s: %s" % (type(e).__name__, e)

    def _data_paused(self, s, data):
        """DATA with a pause half way through the content."""
        code, text = s.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, text)
        q = re.sub(rb"(?m)^\.", b"..", data)
        if not q.endswith(b"\r\n"):
            q += b"\r\n"
        half = len(q) // 2
        s.send(q[:half])
        time.sleep(self.pause)
        s.send(q[half:] + b".\r\n")
        return s.getreply()

    def _fail(self, code, text):
        # a 421 closes the connection; otherwise reuse it after RSET
        if code == 421:
            self.close()
        return code, text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--source", default=None, metavar="IP",
                    help="local address to connect from (default: any)")
    ap.add_argument("--from", dest="sender", default="sender@example.com")
    ap.add_argument("--to", dest="rcpts", action="append",
                    help="envelope recipient (repeatable; default rcpt@example.org)")
    ap.add_argument("--retry-4xx", type=int, default=0, metavar="N")
    ap.add_argument("--pause-data", type=float, default=0.0, metavar="S",
                    help="wait S seconds half way through the message content")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="socket timeout in seconds (default 120)")
    ap.add_argument("files", nargs="+", metavar="FILE")
    args = ap.parse_args()
    rcpts = args.rcpts or ["rcpt@example.org"]

    messages = []
    for f in args.files:
        try:
            with open(f, "rb") as fh:
                messages.append(crlf(fh.read()))
        except OSError as e:
            print("inject.py: %s" % e, file=sys.stderr)
            return 2

    client = Client(args.host, args.port, args.timeout, args.source)
    client.pause = args.pause_data
    try:
        for data in messages:
            tries = 0
            while True:
                code, text = client.send(args.sender, rcpts, data)
                if (code == 0 or 400 <= code < 500) and tries < args.retry_4xx:
                    tries += 1
                    print("retry after: " + fmt(code, text), file=sys.stderr, flush=True)
                    client.close()
                    time.sleep(1)
                    continue
                break
            print(fmt(code, text), flush=True)
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
