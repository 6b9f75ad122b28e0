#!/usr/bin/env python3
"""tests/integration/bannertool.py - the messages and checks of banner.sh

    bannertool.py make SAMPLES DIR TAG
        Write banner.sh's test messages into DIR, each with its own
        Message-ID <NAME.TAG@moat-banner.example>: plain.eml (the demo
        shortcut lure), alt.eml (multipart/alternative, text and HTML, plus
        the shortcut), html.eml (an HTML part and the shortcut), latin2.eml
        (ISO-8859-2 quoted-printable text and the shortcut), signed.eml (the
        shortcut inside multipart/signed), forged.eml (plain.eml with a
        forged X-Moat-Banner) and clean.eml (the demo clean text).
    bannertool.py check KIND SENT DELIVERED [--title LINE] [--templates FILE]
        Check the DELIVERED copy of SENT (a file banner.sh sent) for KIND:
          plain     the text part starts with the banner ("⚠"), the sent
                    text follows it unchanged, every attachment's decoded
                    SHA-256 is the sent one's;
          alt       as plain, and the HTML part has one <div data-moat-banner>
                    right after <body>, the sent HTML after it;
          html      the HTML part as in alt, the attachment unchanged;
          latin2    as plain, for a part sent in ISO-8859-2 quoted-printable:
                    still quoted-printable, decodes in the charset it declares;
          once      SENT was already bannered: one banner in every text part
                    (the title line once);
          external  the text starts with the external-sender notice alone,
                    then the sent text;
          title     print the banner's first line (for --title later).
        --title LINE: the banner's first line must not be LINE (another
        language). --templates FILE (LANG.conf): the banner says its
        [banner] title (external: its external notice and not the title).
        Prints what is wrong and exits 1, or exits 0.
    bannertool.py browser DELIVERED OUTDIR
        The bannered HTML part and the bannered text part (in <pre>, as a
        mail client shows it) as files in OUTDIR, each rendered by headless
        Chromium ($CHROMIUM, chromium) to OUTDIR/NAME-light.png and, with
        --force-dark-mode and Blink's automatic dark mode, NAME-dark.png;
        checks that the rendered DOM starts with the banner and that the
        screenshots show it at the top: for HTML a wide band of the banner's
        background colour (a strong colour) with text on it in enough
        contrast; for text dark ink at the top. Needs python3-pil.
"""

import argparse
import email
import email.policy
import hashlib
import html
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile

WARN = "\u26a0"
SIGNS = (WARN, "(!)")	# the banner's sign: "(!)" where the part's charset has no U+26A0
LNK_NAME = "Shipping_Documents.lnk"


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def lf(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_msg(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


# --- the messages -----------------------------------------------------------------

def lnk_part(samples):
    """The demo shortcut attachment as MIME text (headers and base64), from the sample."""
    with open(os.path.join(samples, "demo", "lure-lnk-in-mail.eml"), "rb") as f:
        data = lf(f.read().decode("ascii"))
    m = re.search(r"\n--=_demo_lnk_b1\n(Content-Type: application/octet-stream.*?)\n\n--=_demo_lnk_b1--",
                  data, re.S)
    if m is None:
        sys.exit("bannertool.py: no shortcut attachment in the demo sample")
    return m.group(1) + "\n"


def header(name, tag, subject, ctype, extra=""):
    return ("From: \"Accounts\" <billing@example.net>\n"
            "To: Tom Wright <tom.wright@example.com>\n"
            "Subject: %s\n"
            "Date: Mon, 07 Dec 2026 10:00:00 +0100\n"
            "Message-ID: <%s.%s@moat-banner.example>\n"
            "%s"
            "MIME-Version: 1.0\n"
            "Content-Type: %s\n" % (subject, name, tag, extra, ctype))


ALT_TEXT = ("Dear customer,\n\nyour invoice for November is attached. Please pay\n"
            "within 14 days.\n\nBilling team\n")
ALT_HTML = ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Invoice</title>\n</head>\n"
            "<body style=\"font-family: sans-serif\">\n<p>Dear customer,</p>\n"
            "<p>your invoice for November is attached. Please pay within <b>14 days</b>.</p>\n"
            "<p>Billing team</p>\n</body>\n</html>\n")
HTML_ONLY = ("<html><head><title>Document</title></head><body bgcolor=\"#ffffff\">"
             "<h2>Shared document</h2>\n<p>A document was shared with you. Open the attached "
             "shortcut to view it.</p>\n</body></html>\n")
LATIN2_TEXT = ("Dobrý den,\n\nv příloze posíláme dokumenty k zásilce. Zażółć gęślą jaźń.\n"
               "Árvíztűrő tükörfúrógép. Šťastný nový rok!\n\nZákaznický servis\n")


def qp(data):
    import quopri
    return quopri.encodestring(data).decode("ascii")


def cmd_make(a):
    lnk = lnk_part(a.samples)
    out = {}
    with open(os.path.join(a.samples, "demo", "lure-lnk-in-mail.eml"), "rb") as f:
        plain = lf(f.read().decode("ascii"))
    out["plain"] = re.sub(r"(?m)^Message-ID: .*$", "Message-ID: <plain.%s@moat-banner.example>" % a.tag,
                          plain, count=1)
    out["forged"] = re.sub(r"(?m)^Message-ID: .*$",
                           "Message-ID: <forged.%s@moat-banner.example>\n"
                           "X-Moat-Banner: forged.moat-banner.example" % a.tag, plain, count=1)
    b, ab = "=_banner_mixed", "=_banner_alt"
    out["alt"] = (header("alt", a.tag, "Invoice November", 'multipart/mixed; boundary="%s"' % b) +
                  "\nThis is a multi-part message in MIME format.\n\n--%s\n"
                  "Content-Type: multipart/alternative; boundary=\"%s\"\n\n"
                  "--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n%s\n"
                  "--%s\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n%s\n"
                  "--%s--\n\n--%s\n%s\n--%s--\n"
                  % (b, ab, ab, ALT_TEXT, ab, ALT_HTML, ab, b, lnk, b))
    out["html"] = (header("html", a.tag, "Shared document", 'multipart/mixed; boundary="%s"' % b) +
                   "\n--%s\nContent-Type: text/html; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n%s\n"
                   "--%s\n%s\n--%s--\n" % (b, HTML_ONLY, b, lnk, b))
    out["latin2"] = (header("latin2", a.tag, "Dokumenty k =?iso-8859-2?q?z=E1silce?=",
                            'multipart/mixed; boundary="%s"' % b) +
                     "\n--%s\nContent-Type: text/plain; charset=iso-8859-2\n"
                     "Content-Transfer-Encoding: quoted-printable\n\n%s\n"
                     "--%s\n%s\n--%s--\n" % (b, lf(qp(LATIN2_TEXT.encode("iso-8859-2"))), b, lnk, b))
    sb = "=_banner_signed"
    out["signed"] = (header("signed", a.tag, "Signed shipping documents",
                            'multipart/signed; protocol="application/pkcs7-signature"; '
                            'micalg=sha-256; boundary="%s"' % sb) +
                     "\n--%s\nContent-Type: multipart/mixed; boundary=\"%s\"\n\n"
                     "--%s\nContent-Type: text/plain; charset=us-ascii\n\nThe signed documents.\n\n"
                     "--%s\n%s\n--%s--\n\n"
                     "--%s\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\n"
                     "Content-Transfer-Encoding: base64\n"
                     "Content-Disposition: attachment; filename=\"smime.p7s\"\n\n"
                     "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAADGCAQAw\n"
                     "\n--%s--\n" % (sb, b, b, b, lnk, b, sb, sb))
    with open(os.path.join(a.samples, "demo", "clean-text.eml"), "rb") as f:
        clean = lf(f.read().decode("ascii"))
    out["clean"] = re.sub(r"(?m)^Message-ID: .*$", "Message-ID: <clean.%s@moat-banner.example>" % a.tag,
                          clean, count=1)
    for name, text in out.items():
        with open(os.path.join(a.dir, name + ".eml"), "wb") as f:
            f.write(crlf(text).encode("utf-8"))
    return 0


# --- the checks -----------------------------------------------------------------------

class Bad(Exception):
    pass


def text_parts(msg, subtype):
    """The text/SUBTYPE parts a reader is shown (not attachments)."""
    return [p for p in msg.walk() if p.get_content_type() == "text/" + subtype and
            p.get_content_disposition() != "attachment"]


def one_part(msg, subtype, what):
    parts = text_parts(msg, subtype)
    if len(parts) != 1:
        raise Bad("%s: %d text/%s parts, expected 1" % (what, len(parts), subtype))
    try:
        return parts[0], lf(parts[0].get_content())
    except (LookupError, UnicodeError) as e:
        raise Bad("%s: the text/%s part does not decode: %s" % (what, subtype, e))


def attachments(msg):
    return {p.get_filename(): hashlib.sha256(p.get_payload(decode=True) or b"").hexdigest()
            for p in msg.walk() if p.get_filename() is not None}


def check_attachments(sent, got):
    want, have = attachments(sent), attachments(got)
    if not want:
        raise Bad("the sent message has no attachment to compare")
    for name, digest in want.items():
        if have.get(name) != digest:
            raise Bad("attachment %s: SHA-256 %s, sent %s" % (name, have.get(name), digest))


def split_banner(new, old, what):
    """The banner in front of OLD in NEW (both decoded, LF), or Bad."""
    if not new.startswith(SIGNS):
        raise Bad("%s: the text does not start with the banner (%s or %s): %r"
                  % (what, SIGNS[0], SIGNS[1], new[:120]))
    old_ = old.strip("\n")
    new_ = new.rstrip("\n")
    if not new_.endswith(old_):
        raise Bad("%s: the sent text is not intact after the banner:\n  sent: %r\n  got:  %r"
                  % (what, old_[:200], new_[-len(old_) - 40:][:300]))
    banner = new_[: len(new_) - len(old_)]
    if not banner.strip():
        raise Bad("%s: nothing in front of the sent text" % what)
    return banner


def html_banner(new, old, what):
    """Check NEW: one banner block right after <body> (or at the start), OLD's
    body after it. Returns the block's start."""
    n = new.count('data-moat-banner="1"')
    if n != 1:
        raise Bad("%s: %d elements with data-moat-banner=\"1\", expected 1" % (what, n))
    m = re.search(r"<body\b[^>]*>", new, re.I)
    start = m.end() if m else 0
    rest = new[start:].lstrip()
    if not re.match(r'<div\b[^>]*\bdata-moat-banner="1"', rest, re.I):
        raise Bad("%s: no <div data-moat-banner=\"1\"> right after <body>: %r" % (what, rest[:160]))
    mo = re.search(r"<body\b[^>]*>", old, re.I)
    tail = old[mo.end():] if mo else old
    if tail.strip() not in new:
        raise Bad("%s: the sent HTML after <body> is not intact in the bannered part" % what)
    if mo and new[: m.start()].strip() != old[: mo.start()].strip():
        raise Bad("%s: what comes before <body> changed" % what)
    if re.search(r"<script|<style", rest[:rest.find('data-moat-banner') + 4000], re.I) and \
            not re.search(r"<script|<style", old, re.I):
        raise Bad("%s: the banner brought a <script> or <style>" % what)
    return start


def templates(path):
    """The [banner] rows of a template file (a GLib key file)."""
    import configparser
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",), strict=False)
    cp.optionxform = str
    with open(path, encoding="utf-8") as f:
        cp.read_file(f)
    return dict(cp["banner"])


def first_line(banner):
    return banner.lstrip("\n").split("\n", 1)[0]


def cmd_check(a):
    sent, got = read_msg(a.sent), read_msg(a.delivered)
    k = a.kind
    try:
        if k in ("plain", "latin2", "alt", "title", "external"):
            sp, old = one_part(sent, "plain", "sent")
            gp, new = one_part(got, "plain", "delivered")
            banner = split_banner(new, old, "text/plain")
            if k == "title":
                print(first_line(banner))
                return 0
            words = templates(a.templates) if a.templates else None
            flat = " ".join(banner.replace(WARN, " ").replace("(!)", " ").split())
            if k == "external" and words is not None:
                want = " ".join(words["external"].split())
                if want not in flat or " ".join(words["title"].split()) in flat:
                    raise Bad("not the external notice %r alone: %r" % (want, banner))
            elif words is not None and " ".join(words["title"].split()) not in flat:
                raise Bad("the banner does not say the title %r of %s: %r" % (words["title"], a.templates,
                                                                               banner))
            if k == "latin2":
                cte = (gp.get("Content-Transfer-Encoding") or "").strip().lower()
                if cte != "quoted-printable":
                    raise Bad("the part's transfer encoding is now %r, was quoted-printable" % cte)
            if a.title is not None and first_line(banner) == a.title:
                raise Bad("the banner's first line is the other language's: %r" % a.title)
        if k in ("alt", "html"):
            _, old = one_part(sent, "html", "sent")
            _, new = one_part(got, "html", "delivered")
            html_banner(new, old, "text/html")
        if k in ("plain", "alt", "html", "latin2"):
            check_attachments(sent, got)
        if k == "once":
            for sub in ("plain", "html"):
                for p in text_parts(got, sub):
                    t = lf(p.get_content())
                    if sub == "html":
                        n = t.count('data-moat-banner="1"')
                        if n != 1:
                            raise Bad("text/html: %d banners" % n)
                        continue
                    if not t.startswith(SIGNS):
                        raise Bad("text/plain: no banner at the top any more: %r" % t[:120])
                    title = t.split("\n", 1)[0]
                    n = t.split("\n").count(title)
                    if n != 1:
                        raise Bad("text/plain: the banner's first line %r is there %d times" % (title, n))
    except Bad as e:
        print(e)
        return 1
    return 0


# --- the browser ----------------------------------------------------------------------

DARK = ["--force-dark-mode", "--enable-features=WebContentsForceDark"]


def chromium(args, timeout=60):
    exe = os.environ.get("CHROMIUM", "chromium")
    # chromium writes its whole profile there: the caller's folder, or one of our own
    profile = os.environ.get("CHROMIUM_PROFILE")
    own = None if profile else tempfile.mkdtemp(prefix="moat-banner-chromium.")
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + (profile or own)]
    try:
        r = subprocess.run(base + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    finally:
        if own:
            shutil.rmtree(own, ignore_errors=True)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def screenshot(page, png, extra):
    if os.path.exists(png):
        os.unlink(png)
    rc, _, err = chromium(extra + ["--screenshot=" + png, "--window-size=900,700", "file://" + page])
    if rc != 0 or not os.path.exists(png):
        raise Bad("chromium --screenshot %s: exit %d: %s" % (page, rc, err.strip()[-400:]))


def dump_dom(page, extra=()):
    rc, out, err = chromium(list(extra) + ["--dump-dom", "file://" + page])
    if rc != 0 or "<body" not in out:
        raise Bad("chromium --dump-dom %s: exit %d: %s" % (page, rc, err.strip()[-400:]))
    return out


class FirstInBody(html.parser.HTMLParser):
    """The first element in <body> (tag, attrs), the text of the first data-moat-banner
    element, and the text of the first <pre>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_body = False
        self.first = None
        self.depth = 0		# inside the banner: element depth
        self.banner = None
        self.pre = None
        self.in_pre = False

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.in_body = True
            return
        if not self.in_body:
            return
        if self.first is None:
            self.first = (tag, dict(attrs))
        if self.depth:
            self.depth += 1
        elif self.banner is None and dict(attrs).get("data-moat-banner") == "1":
            self.depth, self.banner = 1, ""
        if tag == "pre" and self.pre is None:
            self.in_pre, self.pre = True, ""

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
        if tag == "pre":
            self.in_pre = False

    def handle_data(self, data):
        if self.in_body and self.first is None and data.strip():
            self.first = ("#text", data.strip())
        if self.depth:
            self.banner += data
        if self.in_pre:
            self.pre += data


def parse_colour(style):
    """The background colour in an inline STYLE, as (r, g, b), or None."""
    m = re.search(r"background(?:-color)?\s*:\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}|rgb\([^)]*\))", style or "")
    if m is None:
        return None
    c = m.group(1)
    if c.startswith("#"):
        c = c[1:]
        if len(c) == 3:
            c = "".join(x * 2 for x in c)
        return tuple(int(c[i:i + 2], 16) for i in (0, 2, 4))
    return tuple(int(float(x)) for x in re.findall(r"[\d.]+", c)[:3])


def luminance(c):
    def ch(v):
        v /= 255.0
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (ch(x) for x in c[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def near(a, b, tol):
    return all(abs(x - y) <= tol for x, y in zip(a[:3], b[:3]))


def band(img, top=150, colour=None):
    """The rows in the top TOP px where one colour (COLOUR within a small
    tolerance, or else the colour that does so in the most rows, not the
    page's) covers at least half the width: (first row, last row, colour,
    the page's colour), or None when fewer than 12 rows do."""
    w, h = img.size
    px = img.load()
    page = px[w - 3, h - 3][:3]
    samples = len(range(0, w, 2))
    rows = {}
    for y in range(min(top, h)):
        counts = {}
        for x in range(0, w, 2):
            c = px[x, y][:3]
            counts[c] = counts.get(c, 0) + 1
        if colour is not None:
            if 2 * sum(v for c, v in counts.items() if near(c, colour, 12)) >= samples:
                rows.setdefault(colour, []).append(y)
            continue
        best = max((c for c in counts if not near(c, page, 24)), key=lambda c: counts[c], default=None)
        if best is not None and 2 * counts[best] >= samples:
            rows.setdefault(best, []).append(y)
    if not rows:
        return None
    found = max(rows, key=lambda c: len(rows[c]))
    if len(rows[found]) < 12:
        return None
    return rows[found][0], rows[found][-1], found, page


def ink_contrast(img, y0, y1, bg):
    """The best contrast against BG of any pixel in rows Y0..Y1."""
    px = img.load()
    w = img.size[0]
    best = 1.0
    for y in range(y0, y1 + 1):
        for x in range(w):
            c = px[x, y][:3]
            if not near(c, bg, 30):
                best = max(best, contrast(c, bg))
    return best


def check_html_png(png, want, mode):
    from PIL import Image
    img = Image.open(png).convert("RGB")
    b = band(img, colour=want if mode == "light" else None)
    if b is None:
        raise Bad("%s: no band of the banner's colour %s across the top 150 px" %
                  (png, want if mode == "light" else "(any strong colour)"))
    y0, y1, colour, page = b
    if y0 > 60:
        raise Bad("%s: the banner's band starts at row %d, not at the top" % (png, y0))
    if max(colour) - min(colour) < 40 or contrast(colour, page) < 1.3:
        raise Bad("%s: the band's colour %s is not a strong colour against the page %s" %
                  (png, colour, page))
    c = ink_contrast(img, y0, y1, colour)
    if c < 3.0:
        raise Bad("%s: the banner's text has a contrast of %.1f:1 on %s, below 3:1" % (png, c, colour))
    return "%s band rows %d-%d colour #%02x%02x%02x text contrast %.1f:1" % (
        os.path.basename(png), y0, y1, colour[0], colour[1], colour[2], c)


def check_plain_png(png):
    from PIL import Image
    img = Image.open(png).convert("RGB")
    w, h = img.size
    px = img.load()
    page = px[w - 3, h - 3]
    first = None
    best = 1.0
    for y in range(min(60, h)):
        for x in range(0, w // 2):
            c = px[x, y]
            if not near(c, page, 40):
                if first is None:
                    first = y
                best = max(best, contrast(c, page))
    if first is None or first > 30:
        raise Bad("%s: no text in the top 30 px" % png)
    if best < 4.5:
        raise Bad("%s: the text at the top has a contrast of %.1f:1, below 4.5:1" % (png, best))
    return "%s text from row %d contrast %.1f:1" % (os.path.basename(png), first, best)


def cmd_browser(a):
    got = read_msg(a.delivered)
    notes = []
    try:
        _, plain = one_part(got, "plain", "delivered")
        _, page = one_part(got, "html", "delivered")
        if not plain.startswith(SIGNS):
            raise Bad("the text part does not start with the banner")
        title = plain.split("\n", 1)[0]
        for sign in SIGNS:
            if title.startswith(sign):
                title = title[len(sign):].strip()
        os.makedirs(a.outdir, exist_ok=True)
        hfile = os.path.join(a.outdir, "banner-html.html")
        pfile = os.path.join(a.outdir, "banner-plain.html")
        with open(hfile, "w", encoding="utf-8") as f:
            # the part decoded, as the client shows it: in its charset (the
            # meta after <head> or a doctype: a page in standards mode stays so)
            m = re.search(r"<head\b[^>]*>|<!doctype[^>]*>", page, re.I)
            at = m.end() if m else 0
            f.write(page[:at] + '<meta charset="utf-8">' + page[at:])
        with open(pfile, "w", encoding="utf-8") as f:
            f.write('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>text/plain</title></head>'
                    '<body><pre style="white-space: pre-wrap">' + html.escape(plain) + "</pre></body></html>\n")

        # the rendered DOM: the banner first in <body>, with the title in it
        for mode, extra in (("light", []),):	# the DOM is the same in dark mode
            p = FirstInBody()
            p.feed(dump_dom(hfile, extra))
            if p.first is None or p.first[0] != "div" or p.first[1].get("data-moat-banner") != "1":
                raise Bad("html (%s): the first thing in the rendered <body> is %r, not the banner's div"
                          % (mode, p.first))
            text = " ".join((p.banner or "").split())
            if " ".join(title.split()) not in text:
                raise Bad("html (%s): the title %r is not in the rendered banner's text %r"
                          % (mode, title, text[:200]))
            want = parse_colour(p.first[1].get("style"))
            if want is None:
                raise Bad("html: no background colour in the banner's style %r" % p.first[1].get("style"))
            q = FirstInBody()
            q.feed(dump_dom(pfile, extra))
            if q.pre is None or not q.pre.startswith(SIGNS):
                raise Bad("plain (%s): the rendered <pre> does not start with the banner: %r"
                          % (mode, (q.pre or "")[:80]))
        for mode, extra in (("light", []), ("dark", DARK)):
            png = os.path.join(a.outdir, "html-%s.png" % mode)
            screenshot(hfile, png, extra)
            notes.append(check_html_png(png, want, mode))
            png = os.path.join(a.outdir, "plain-%s.png" % mode)
            screenshot(pfile, png, extra)
            notes.append(check_plain_png(png))
    except (Bad, subprocess.TimeoutExpired) as e:
        print(e)
        return 1
    for n in notes:
        print(n)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make")
    p.add_argument("samples")
    p.add_argument("dir")
    p.add_argument("tag")
    p.set_defaults(fn=cmd_make)
    p = sub.add_parser("check")
    p.add_argument("kind", choices=["plain", "alt", "html", "latin2", "once", "external", "title"])
    p.add_argument("sent")
    p.add_argument("delivered")
    p.add_argument("--title")
    p.add_argument("--templates")
    p.set_defaults(fn=cmd_check)
    p = sub.add_parser("browser")
    p.add_argument("delivered")
    p.add_argument("outdir")
    p.set_defaults(fn=cmd_browser)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
