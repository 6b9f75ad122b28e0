#!/usr/bin/env python3
"""pfmsg.py OUTDIR [VARIANTS] - the messages the Postfix benchmark sends

    OUTDIR/small-NN.eml  about 2 KB: the headers of mail that crossed two
                         relays (Received, DKIM-Signature, List-Unsubscribe,
                         ...) and a multipart/alternative text + HTML body
    OUTDIR/large-NN.eml  about 150 KB: the same headers, a text part and a
                         PDF-like attachment (a %PDF header, objects, a
                         binary stream, %%EOF) in base64

VARIANTS (default 20) of each, NN = 00, 01, ...: each variant has its own
random attachment bytes, and each carries the marker MOATBENCHTOKEN00 in
the Message-ID, in every text part (plain and HTML) and, four-aligned at
the start of a base64 line, twice in the attachment's binary stream.
pfinject replaces the marker with a token unique to each message it sends,
so no two messages of a benchmark are alike in any part, decoded bytes
included: a cache keyed on content gets no hits.

LF line ends (pfinject sends CRLF). Deterministic: same bytes on every
run. All are clean: moatd accepts them unchanged.
"""
import base64
import os
import random
import sys

MARKER = "MOATBENCHTOKEN00"

HEADERS = """\
Return-Path: <billing@supplier.example.com>
Received: from mail-out.supplier.example.com (mail-out.supplier.example.com [192.0.2.25])
	by mx1.example.org (Postfix) with ESMTPS id 4Xq1b2Cd3Fz9
	for <bench@example.org>; Tue, 14 May 2024 09:12:43 +0200 (CEST)
Received: from app01.internal.supplier.example.com (app01 [10.1.2.3])
	by mail-out.supplier.example.com (Postfix) with ESMTP id 4Xq1b20000aB
	for <bench@example.org>; Tue, 14 May 2024 09:12:42 +0200 (CEST)
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=supplier.example.com;
	s=mail2024; t=1715670762; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;
	h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;
	b=Kx3Jq0m1dZp4Q8c2Vb7nYt5Rw9Ls6Ae1Hf3Gk8Jm2Nq4Pr6St8Uv0Wx2Yz4Ab6Cd8Ef0Gh2
	 Ij4Kl6Mn8Op0Qr2St4Uv6Wx8Yz0Ab2Cd4Ef6Gh8Ij0Kl2Mn4Op6Qr8St0Uv2Wx4Yz6Ab8Cd0
From: "Supplier Billing" <billing@supplier.example.com>
To: "Bench Recipient" <bench@example.org>
Subject: Your May statement is ready
Date: Tue, 14 May 2024 09:12:42 +0200
Message-ID: <20240514071242.MOATBENCHTOKEN00@app01.supplier.example.com>
MIME-Version: 1.0
List-Unsubscribe: <mailto:unsubscribe@supplier.example.com?subject=unsubscribe>
X-Mailer: supplier-billing 4.2
"""

TEXT = """\
Hello,

your statement for May is ready. The total is 1,284.50 EUR, due on
31 May 2024. Nothing needs to be done if you pay by direct debit.

Questions about this statement: reply to this message or call us on
+49 30 1234 5678, Monday to Friday, 9:00 to 17:00.

Kind regards,
Supplier Billing

Reference: MOATBENCHTOKEN00
"""

HTML = """\
<html><body>
<p>Hello,</p>
<p>your statement for May is ready. The total is <b>1,284.50 EUR</b>, due on
31 May 2024. Nothing needs to be done if you pay by direct debit.</p>
<p>Questions about this statement: reply to this message or call us on
+49 30 1234 5678, Monday to Friday, 9:00 to 17:00.</p>
<p>Kind regards,<br>Supplier Billing</p>
<p style="color:#888">Reference: MOATBENCHTOKEN00</p>
</body></html>
"""


def small():
    return (HEADERS +
            'Content-Type: multipart/alternative; boundary="=_alt_8f3a"\n\n'
            "--=_alt_8f3a\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 7bit\n\n" + TEXT + "\n"
            "--=_alt_8f3a\n"
            "Content-Type: text/html; charset=utf-8\n"
            "Content-Transfer-Encoding: 7bit\n\n" + HTML + "\n"
            "--=_alt_8f3a--\n")


def pdf(rng, size):
    """Bytes that look like a small PDF: header, objects, one binary stream."""
    head = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
            b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
            b"3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>\nendobj\n")
    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    n = size - len(head) - len(tail) - 64
    return (head + b"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % n +
            rng.randbytes(n) + tail)


def large(rng):
    data = base64.b64encode(pdf(rng, 110 * 1024)).decode()
    split = [data[i:i + 76] for i in range(0, len(data), 76)]
    # Lines of 76 characters: each starts four-aligned, so 16 characters
    # there stand for 12 bytes of their own, here inside the binary stream.
    for at in (len(split) // 3, 2 * len(split) // 3):
        split[at] = MARKER + split[at][len(MARKER):]
    lines = "\n".join(split)
    return (HEADERS +
            'Content-Type: multipart/mixed; boundary="=_mix_51c0"\n\n'
            "--=_mix_51c0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 7bit\n\n" + TEXT + "\n"
            "--=_mix_51c0\n"
            'Content-Type: application/pdf; name="statement-2024-05.pdf"\n'
            'Content-Disposition: attachment; filename="statement-2024-05.pdf"\n'
            "Content-Transfer-Encoding: base64\n\n" + lines + "\n"
            "--=_mix_51c0--\n")


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: pfmsg.py OUTDIR [VARIANTS]", file=sys.stderr)
        return 2
    out = sys.argv[1]
    variants = int(sys.argv[2]) if len(sys.argv) == 3 else 20
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20240514)
    for k in range(variants):
        for name, text in (("small-%02d.eml" % k, small()), ("large-%02d.eml" % k, large(rng))):
            with open(os.path.join(out, name), "w") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
