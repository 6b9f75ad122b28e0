#!/usr/bin/env python3
"""tests/integration/webtool.py - the messages, the browser and the HTTP checks of web.sh

    webtool.py make SAMPLES DIR TAG
        Write DIR/hostile.eml, DIR/second.eml and DIR/third.eml: the demo
        shortcut lure (attach.shortcut: held) with Message-IDs
        <NAME.TAG@moat-web.example>. hostile.eml has a Subject, a From
        display name and an attachment file name carrying <script>, an
        <img onerror> and U+202E (RLO); the others are plain copies.
    webtool.py browser URL USER PASSWORD ID FINDING SUBJECT OUTDIR
        Headless Chromium ($CHROMIUM, chromium), driven through its
        DevTools protocol on a pipe (--remote-debugging-pipe: no port, no
        module beyond python3): log in as USER, filter the list by FINDING,
        open item ID, check what it shows (the findings with their ATT&CK
        id, the attachment tree, the hostile texts as text: no script
        element, no image, no dialog, the RLO shown as a visible code), release
        it and see the page say so. Screenshots in OUTDIR: login.png,
        list.png, message.png, released.png. Prints what it did; exits 1
        with the reason on the first thing that is wrong.
    webtool.py http URL CHECK ARGS...
        One HTTP-level check against moat-web, without a browser:
          reviewer-delete USER PASSWORD ID   a reviewer's delete with a valid token: 403
          no-csrf USER PASSWORD ID           a POST without a CSRF token: 403
          after-logout USER PASSWORD ID      a logged-out session's cookie and token: refused
          release USER PASSWORD ID           release ID; prints the HTTP status
        Exits 1 with the reason when the answer is not the expected one.
"""

import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

RLO = "\u202e"
HOSTILE_SUBJECT = "Invoice <script>window.pwned=1</script> " + RLO + "fdp.exe"
HOSTILE_NAME = "Boss <img src=x onerror=alert(2)>"
HOSTILE_FILE = "Ship<script>x</script>" + RLO + "fdp.lnk"


# --- make ------------------------------------------------------------------------

def encode_word(text):
    return "=?utf-8?b?%s?=" % base64.b64encode(text.encode()).decode()


def cmd_make(samples, outdir, tag):
    with open(os.path.join(samples, "demo", "lure-lnk-in-mail.eml"), "rb") as f:
        base = f.read().decode("ascii")
    for name in ("hostile", "second", "third"):
        m = re.sub(r"(?m)^Message-ID: .*$", "Message-ID: <%s.%s@moat-web.example>" % (name, tag), base)
        if name == "hostile":
            m = re.sub(r"(?m)^Subject: .*$", "Subject: " + encode_word(HOSTILE_SUBJECT), m)
            m = re.sub(r"(?m)^From: .*$", "From: %s <boss@example.net>" % encode_word(HOSTILE_NAME), m)
            quoted = urllib.parse.quote(HOSTILE_FILE, safe="")
            m = m.replace('name="Shipping_Documents.lnk"', "name*=utf-8''" + quoted)
            m = m.replace('filename="Shipping_Documents.lnk"', "filename*=utf-8''" + quoted)
        else:
            m = re.sub(r"(?m)^Subject: .*$", "Subject: Parcel %s" % name, m)
        with open(os.path.join(outdir, name + ".eml"), "w", newline="") as f:
            f.write(m.replace("\r\n", "\n").replace("\n", "\r\n"))


# --- the browser, through the DevTools protocol on a pipe ----------------------------

class Chromium:
    """Chromium with --remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4."""

    def __init__(self, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # the browser's ends as fds 8 and 9 for the shell (dash knows fds 0-9 only)
        for fd in (8, 9):
            try:
                os.fstat(fd)
                raise RuntimeError("fd %d is in use; webtool.py needs it for chromium's pipe" % fd)
            except OSError:
                pass
        os.dup2(to_r, 8)
        os.dup2(from_w, 9)
        os.close(to_r)
        os.close(from_w)
        exe = os.environ.get("CHROMIUM", "chromium")
        args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                "--user-data-dir=" + profile, "--remote-debugging-pipe", "--window-size=1280,900",
                "about:blank"]
        self.proc = subprocess.Popen(["sh", "-c", 'exec "$@" 3<&8 4>&9 8<&- 9>&-', "sh"] + args,
                                     pass_fds=(8, 9), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(8)
        os.close(9)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        self.dialogs = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise RuntimeError("no answer from chromium in time")
            import select
            r, _, _ = select.select([self.from_r], [], [], 0.5)
            if r:
                data = os.read(self.from_r, 1 << 20)
                if not data:
                    raise RuntimeError("chromium closed its pipe")
                self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        m = json.loads(msg)
        if m.get("method") == "Page.javascriptDialogOpening":
            self.dialogs.append(m["params"].get("message", ""))
        return m

    def call(self, method, params=None, timeout=20):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_load(self, timeout=20):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == "Page.loadEventFired":
                    del self.events[:i + 1]
                    return
            self.events.clear()
            self.events.append(self._read(deadline))

    def goto(self, url):
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_load()

    def js(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def click_and_load(self, selector):
        self.events.clear()
        self.js("document.querySelector(%s).click()" % json.dumps(selector))
        self.wait_load()

    def shot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def cmd_browser(url, user, password, item, finding, subject, outdir):
    # chromium writes its whole profile there: never a shared folder
    own = None
    profile = os.environ.get("CHROMIUM_PROFILE")
    if not profile:
        profile = own = tempfile.mkdtemp(prefix="moat-web-chromium.")
    b = Chromium(profile)
    try:
        b.goto(url + "/login")
        b.shot(os.path.join(outdir, "login.png"))
        b.js("document.getElementById('user').value = %s; document.getElementById('password').value = %s"
             % (json.dumps(user), json.dumps(password)))
        b.click_and_load("#login")
        path = b.js("location.pathname")
        expect(path == "/list", "after the login the browser is at %s, not /list: %s"
               % (path, b.js("document.body.innerText")[:300]))
        print("logged in as %s: %s" % (user, b.js("document.getElementById('total').textContent")))
        # filter by the finding
        b.js("document.querySelector('#filters input[name=finding]').value = %s" % json.dumps(finding))
        b.click_and_load("#filter")
        q = urllib.parse.parse_qs(b.js("location.search")[1:])
        expect(q.get("finding") == [finding], "filter: the query is %s" % q)
        rows = b.js("Array.from(document.querySelectorAll('#items tbody tr')).map(r => r.innerText)")
        expect(any(finding in r for r in rows), "filter: no row with %s: %s" % (finding, rows))
        b.shot(os.path.join(outdir, "list.png"))
        print("filtered by %s: %d rows" % (finding, len(rows)))
        # the hostile subject is text in the list, and nothing ran
        expect(b.js("document.scripts.length") == 0, "a script element in the list page")
        expect(b.js("window.pwned === undefined"), "the Subject's script ran")
        # open the message
        b.click_and_load("a[href='/msg/%s']" % item)
        expect(b.js("location.pathname") == "/msg/" + item, "not on the message page")
        # as text: the tags as typed, the RLO as a code (web_esc's U+202E, or moatd's
        # own <U+202E> in the index row), never the character itself
        shown = b.js("document.getElementById('subject').innerText")
        want = subject.split(RLO)[0]
        expect(shown.startswith(want) and "U+202E" in shown and shown.endswith("fdp.exe"),
               "the Subject shows as %r" % shown)
        frm = b.js("document.getElementById('from').innerText")
        expect(HOSTILE_NAME in frm, "the From display name shows as %r" % frm)
        tree = b.js("document.getElementById('tree').innerText")
        name = HOSTILE_FILE.split(RLO)[0]
        expect(name in tree and "U+202E" in tree, "the file name shows as %r" % tree)
        expect(RLO not in b.js("document.body.innerText"), "an RLO character reached the page")
        findings = b.js("document.getElementById('findings').innerText")
        expect(finding in findings and "T1204" in findings, "findings table: %r" % findings)
        expect(b.js("document.scripts.length") == 0, "a script element in the message page")
        expect(b.js("document.querySelectorAll('main img').length") == 0, "an image in the message page")
        expect(b.js("document.querySelectorAll('.cc').length") >= 1, "no control shown as a code")
        expect(b.js("window.pwned === undefined"), "a script from the message ran")
        expect(not b.dialogs, "a dialog opened: %s" % b.dialogs)
        b.shot(os.path.join(outdir, "message.png"))
        print("message page: Subject, display name and file name shown as text; findings: %s"
              % " ".join(findings.split()[:12]))
        # release
        b.click_and_load("#release")
        notice = b.js("(document.getElementById('notice') || {}).innerText")
        status = b.js("document.getElementById('status').innerText")
        expect(notice == "Released to its recipients." and status == "released",
               "after release: notice %r, status %r: %s" % (notice, status,
                                                            b.js("document.body.innerText")[:400]))
        b.shot(os.path.join(outdir, "released.png"))
        print("released from the browser: %s" % status)
    finally:
        b.close()
        if own:
            shutil.rmtree(own, ignore_errors=True)


# --- HTTP checks without a browser -------------------------------------------------------

class Client:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.cookies = {}

    def req(self, method, path, form=None, cookies=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {}
        jar = self.cookies if cookies is None else cookies
        if jar:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, val = v.split(";", 1)[0].split("=", 1)
                if val:
                    self.cookies[name] = val
                else:
                    self.cookies.pop(name, None)
        c.close()
        return r.status, text

    def login(self, user, password):
        st, page = self.req("GET", "/login")
        token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
        st, _ = self.req("POST", "/login", {"token": token, "user": user, "password": password})
        expect(st == 303 and "moat_session" in self.cookies, "login of %s: %d" % (user, st))

    def csrf(self, item):
        st, page = self.req("GET", "/msg/" + item)
        expect(st == 200, "GET /msg/%s: %d" % (item, st))
        return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def cmd_http(url, check, user, password, item):
    c = Client(url)
    c.login(user, password)
    if check == "reviewer-delete":
        st, _ = c.req("POST", "/msg/%s/delete" % item, {"csrf": c.csrf(item)})
        expect(st == 403, "a reviewer's delete answered %d, not 403" % st)
    elif check == "no-csrf":
        c.csrf(item)
        st, _ = c.req("POST", "/msg/%s/delete" % item, {"x": "1"})
        expect(st == 403, "a delete without a CSRF token answered %d, not 403" % st)
    elif check == "after-logout":
        token = c.csrf(item)
        old = dict(c.cookies)
        st, _ = c.req("POST", "/logout", {"csrf": token})
        expect(st == 303, "logout answered %d" % st)
        st, _ = c.req("POST", "/msg/%s/delete" % item, {"csrf": token}, cookies=old)
        expect(st == 403, "the logged-out cookie's delete answered %d, not 403" % st)
        st, _ = c.req("GET", "/list", cookies=old)
        expect(st == 303, "the logged-out cookie's GET /list answered %d, not 303" % st)
    elif check == "release":
        st, _ = c.req("POST", "/msg/%s/release" % item, {"csrf": c.csrf(item)})
        print(st)
    else:
        sys.exit("webtool.py http: no check %s" % check)


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "make":
        cmd_make(*sys.argv[2:5])
    elif len(sys.argv) == 9 and sys.argv[1] == "browser":
        cmd_browser(*sys.argv[2:9])
    elif len(sys.argv) == 7 and sys.argv[1] == "http":
        cmd_http(*sys.argv[2:7])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, RuntimeError, OSError, KeyError, AttributeError) as e:
        sys.exit("%s: %s" % (type(e).__name__, e))
