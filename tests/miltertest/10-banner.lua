-- test: banner: tagged mail's body replaced (SMFIR_REPLBODY) with the banner on top, X-Moat-Banner once
--
-- Against the BANNER instance of run.sh: main's config plus [banner]
-- templates (a copy of conf/banners). Every message here keeps its new body
-- under 1 KB: miltertest reads each end-of-message request into a 1024-byte
-- stack buffer (mt_eom), and a longer SMFIR_REPLBODY smashes its stack.
--
-- miltertest can only compare a replaced body byte for byte
-- (mt.eom_check(conn, MT_BODYCHANGE, body)). So the new body is fetched a
-- second way, by a few lines of Python speaking the milter protocol to the
-- same moatd (FETCH below): miltertest must have seen exactly that body,
-- and that body is then checked for the banner: the text part starts with
-- the warning sign and the [banner] title of conf/banners/en.conf, names
-- the attachment, and ends with the text as sent; the attachment's part is
-- byte-identical.
local T = dofile(MTLIB)

-- FETCH: python3 FILE SOCKET MESSAGE: send MESSAGE (a file, CRLF) to the
-- milter on SOCKET (unix:PATH) as an MTA would; print the replaced body (raw)
-- and exit 0, or exit 3 when the filter did not replace it (2 on errors)
local FETCH = [==[
import socket, struct, sys
NAMES = {"C": 0x1, "H": 0x2, "M": 0x4, "R": 0x8, "B": 0x10, "L": 0x20, "N": 0x40}
NR = {"C": 0x1000, "H": 0x2000, "M": 0x4000, "R": 0x8000, "L": 0x80, "N": 0x40000, "B": 0x80000}
path = sys.argv[1].split(":", 1)[1]
data = open(sys.argv[2], "rb").read()
head, body = data.split(b"\r\n\r\n", 1)
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(path)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("fetch: connection closed")
        b += c
    return b
def read():
    n = struct.unpack(">I", recv(4))[0]
    d = recv(n)
    return d[:1].decode(), d[1:]
def send(cmd, payload=b""):
    s.sendall(struct.pack(">I", len(payload) + 1) + cmd.encode() + payload)
send("O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
c, d = read()
_, acts, prot = struct.unpack(">III", d[:12])
def step(cmd, payload=b"", macros=()):
    if macros:
        send("D", cmd.encode() + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in macros))
    if prot & NAMES.get(cmd, 0):
        return
    send(cmd, payload)
    if not prot & NR.get(cmd, 0):
        c, _ = read()
        if c not in "cs":
            sys.exit("fetch: reply %r to %r" % (c, cmd))
step("C", b"mx.example.net\0" + b"4" + struct.pack(">H", 25) + b"192.0.2.25\0",
     (("{daemon_name}", "MTA"), ("{client_addr}", "192.0.2.25")))
step("H", b"mx.example.net\0")
step("M", b"<noreply@example.net>\0", (("i", "5A2BmTxa0010FF"), ("{mail_addr}", "noreply@example.net")))
step("R", b"<tom.wright@example.com>\0", (("i", "5A2BmTxa0010FF"), ("{rcpt_addr}", "tom.wright@example.com")))
for line in head.replace(b"\r\n\t", b"\n\t").replace(b"\r\n ", b"\n ").split(b"\r\n"):
    name, value = line.split(b":", 1)
    if not prot & 0x100000 and value.startswith(b" "):
        value = value[1:]
    step("L", name + b"\0" + value + b"\0")
step("N", b"", (("i", "5A2BmTxa0010FF"),))
step("B", body)
send("D", b"E" + b"i\0" + b"5A2BmTxa0010FF\0")
send("E")
new = None
while True:
    c, d = read()
    if c == "b":
        new = (new or b"") + d
    elif c in "acdrty":
        break
s.close()
if new is None:
    sys.exit(3)
sys.stdout.buffer.write(new)
]==]

-- run CMD: its stdout and whether it exited 0, and its exit code
local function run(cmd)
	local p = assert(io.popen(cmd, "r"))
	local out = p:read("a")
	local ok, _, code = p:close()

	return out, ok, code
end

local function shq(s)
	return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- write PATH, TEXT
local function write(path, text)
	local f = assert(io.open(path, "wb"))

	f:write(text)
	f:close()
end

-- wire MSG: the message as an MTA has it (CRLF, folds kept)
local function wire(msg)
	local t = {}

	for _, h in ipairs(msg.headers) do
		table.insert(t, h.name .. ":" .. h.value:gsub("\r?\n", "\r\n"))
	end
	return table.concat(t, "\r\n") .. "\r\n\r\n" .. msg.body:gsub("\r?\n", "\r\n")
end

-- fetch MSG: the body moatd (BANNER) replaces MSG's with, fetched by FETCH,
-- or nil and why
local function fetch(msg)
	local py, eml = os.tmpname(), os.tmpname()
	local out, ok, code

	write(py, FETCH)
	write(eml, wire(msg))
	out, ok, code = run("python3 " .. shq(py) .. " " .. shq(BANNER) .. " " .. shq(eml) .. " 2>&1")
	os.remove(py)
	os.remove(eml)
	if not ok then
		return nil, code == 3 and "no body change" or ("python3 fetch: exit " .. tostring(code) .. ": " .. out)
	end
	return out
end

-- template KEY: [banner] KEY of conf/banners/en.conf
local function template(key)
	local f = assert(io.open(SAMPLES .. "/../conf/banners/en.conf", "r"))
	local v

	for line in f:lines() do
		v = v or line:match("^" .. key .. "%s*=%s*(.-)%s*$")
	end
	f:close()
	return v
end

-- a tagged message under 1 KB bannered: text, and an empty shortcut
-- (attach.shortcut, 8: tagged; no shortcut bytes, no other finding)
local LNK_PART = "--=_b10\r\nContent-Type: application/octet-stream; name=\"a.lnk\"\r\n" ..
    "Content-Disposition: attachment; filename=\"a.lnk\"\r\n" ..
    "Content-Transfer-Encoding: base64\r\n\r\n\r\n--=_b10--\r\n"
local TEXT = "Please see the attached file.\r\n"

local function tagged_msg(ctype)
	return T.parse("From: \"Accounts\" <noreply@example.net>\r\n" ..
	    "To: Tom Wright <tom.wright@example.com>\r\n" ..
	    "Subject: Documents\r\n" ..
	    "Message-ID: <banner-10@example.net>\r\n" ..
	    "MIME-Version: 1.0\r\n" ..
	    "Content-Type: " .. (ctype or "multipart/mixed; boundary=\"=_b10\"") .. "\r\n" ..
	    "\r\n" ..
	    "--=_b10\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" ..
	    TEXT .. LNK_PART)
end

-- check_body WHAT, BODY: the banner on top of the text part, the text after
-- it as sent, the attachment's part byte-identical
local function check_body(what, body)
	local title = template("title")
	local text = body:match("\r\n\r\n(.-)\r\n%-%-=_b10\r\n")

	T.check(#body < 1024, "%s: the new body has %d bytes: too long for miltertest's buffer", what, #body)
	T.check(body:sub(-#LNK_PART) == LNK_PART, "%s: the attachment's part changed: %q", what, body)
	T.check(text ~= nil, "%s: no text part in the new body: %q", what, body)
	T.check(text:sub(1, 3) == "\xe2\x9a\xa0" or text:sub(1, 3) == "(!)",
	    "%s: the text does not start with the warning sign: %q", what, text)
	T.check(title ~= nil and text:find(title, 1, true) ~= nil,
	    "%s: the text does not say the title '%s': %q", what, tostring(title), text)
	T.check(text:find("a.lnk", 1, true) ~= nil, "%s: the reason does not name a.lnk: %q", what, text)
	T.check(text:sub(-#TEXT) == TEXT or text:sub(-#TEXT + 2) == TEXT:sub(1, -3),
	    "%s: the sent text is not at the end of the part: %q", what, text)
end

local function hostname()
	local out = run("hostname 2>/dev/null")

	return (out or ""):match("^%s*(.-)%s*$")
end

T.run(function ()
	T.check(BANNER ~= nil and BANNER_LOG ~= nil,
	    "run.sh passes no BANNER instance (moatd with [banner] templates set)")
	local s, r, qid, body, why

	-- 1. tagged: SMFIR_REPLBODY with the banner, X-Moat-Banner once, the
	-- verdict headers as ever, no quarantine
	local msg = tagged_msg()
	body, why = fetch(msg)
	T.check(body ~= nil, "tagged: moatd did not replace the body for FETCH: %s", tostring(why))
	check_body("tagged", body)
	s = T.session(BANNER)
	qid = "5A2BmTxa001001"
	r = T.send(s, msg, { qid = qid, from = "noreply@example.net" })
	T.check(r == SMFIR_ACCEPT, "tagged: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check_verdict(s, "tag", 8, "attach.shortcut")
	T.check(mt.eom_check(s.conn, MT_BODYCHANGE), "tagged: no SMFIR_REPLBODY")
	T.check(mt.eom_check(s.conn, MT_BODYCHANGE, body),
	    "tagged: the body Sendmail got is not the one FETCH got (%d bytes)", #body)
	local v, err = T.added_once(s, "X-Moat-Banner")
	T.check(v ~= nil, "tagged: %s", err or "")
	local host = hostname()
	T.check(host == "" or v == T.v(s, host), "tagged: X-Moat-Banner '%s', expected the host name '%s'",
	    tostring(v), host)
	T.check(not mt.eom_check(s.conn, MT_QUARANTINE), "tagged: quarantined")
	-- multipart: the top-level Content-Type stays
	T.check(not mt.eom_check(s.conn, MT_HDRCHANGE, "Content-Type"), "tagged: Content-Type changed")
	T.check_log(BANNER_LOG, qid, "tag", msg)
	T.check(T.log_line(BANNER_LOG, qid):find(" banner=yes", 1, true) ~= nil,
	    "tagged: no banner=yes in the summary line: %s", T.log_line(BANNER_LOG, qid))

	-- 2. the same with a forged X-Moat-Banner: deleted, ours added, bannered
	local forged = T.add_header(T.copy(msg), "X-Moat-Banner", " forged.example", 5)
	qid = "5A2BmTxa001002"
	r = T.send(s, forged, { qid = qid, from = "noreply@example.net" })
	T.check(r == SMFIR_ACCEPT, "forged marker: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(mt.eom_check(s.conn, MT_HDRDELETE, "X-Moat-Banner", 1), "forged marker: not deleted")
	T.check(mt.eom_check(s.conn, MT_BODYCHANGE, body), "forged marker: not the same new body")
	v, err = T.added_once(s, "X-Moat-Banner")
	T.check(v ~= nil and not v:find("forged", 1, true), "forged marker: ours not added: %s",
	    tostring(v or err))
	T.close(s)

	-- 3. Sendmail before 8.14 (protocol 2): SMFIF_CHGBODY is in its actions too
	s = T.session(BANNER, { old = true })
	qid = "5A2BmTxa001003"
	r = T.send(s, msg, { qid = qid, from = "noreply@example.net" })
	T.check(r == SMFIR_ACCEPT, "old Sendmail: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(mt.eom_check(s.conn, MT_BODYCHANGE, body), "old Sendmail: not the same new body")
	T.close(s)

	-- 4. clean: not one change, no body replaced
	s = T.session(BANNER)
	local clean = T.load("demo/clean-text.eml")
	qid = "5A2BmTxa001004"
	r = T.send(s, clean, { qid = qid, from = "anna.becker@example.com" })
	T.check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "clean: %s", T.reply_name(r))
	T.check(not mt.eom_check(s.conn, MT_BODYCHANGE), "clean: the body was replaced")
	T.check(T.unmodified(s), "clean: moatd changed the message")
	T.check(mt.getheader(s.conn, "X-Moat-Banner", 0) == nil, "clean: X-Moat-Banner added")

	-- 5. tagged but signed (multipart/signed): headers only, the reason logged
	local signed = tagged_msg("multipart/signed; protocol=\"application/pkcs7-signature\"; " ..
	    "micalg=sha-256; boundary=\"=_s10\"")
	signed.body = "--=_s10\r\nContent-Type: multipart/mixed; boundary=\"=_b10\"\r\n\r\n" .. signed.body ..
	    "\r\n--=_s10\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n" ..
	    "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n--=_s10--\r\n"
	qid = "5A2BmTxa001005"
	r = T.send(s, signed, { qid = qid, from = "noreply@example.net" })
	T.check(r == SMFIR_ACCEPT, "signed: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check_verdict(s, "tag", 8, "attach.shortcut")
	T.check(not mt.eom_check(s.conn, MT_BODYCHANGE), "signed: the body was replaced")
	T.check(mt.getheader(s.conn, "X-Moat-Banner", 0) == nil, "signed: X-Moat-Banner added")
	local f = assert(io.open(BANNER_LOG, "r"))
	local said = false
	for line in f:lines() do
		said = said or (line:find(" moatd: " .. qid .. ": no banner: signed", 1, true) ~= nil)
	end
	f:close()
	T.check(said, "signed: no 'no banner: signed' line for %s in %s", qid, BANNER_LOG)
	T.close(s)
end)
