-- test: tag: X-Moat-Verdict, X-Moat-Score, X-Moat-Findings added once, Subject tagged once
local T = dofile(MTLIB)

T.run(function ()
	local lnk = T.load("demo/lure-lnk-in-mail.eml")
	local subject = "Your parcel could not be delivered"
	local s, r, qid

	-- tagged: reply SMFIR_ACCEPT, the three headers once each, no quarantine,
	-- nothing deleted (no X-Moat-* header came in)
	local function tagged(what)
		T.check(r == SMFIR_ACCEPT, "%s: %s, expected SMFIR_ACCEPT", what, T.reply_name(r))
		T.check_verdict(s, "tag", 8, "attach.shortcut")
		T.check(not mt.eom_check(s.conn, MT_QUARANTINE), "%s: quarantined, expected a tag only", what)
		T.check(not mt.eom_check(s.conn, MT_HDRDELETE), "%s: a header was deleted", what)
		T.check(not mt.eom_check(s.conn, MT_BODYCHANGE), "%s: the body was replaced", what)
	end

	-- 1. score 8: tagged, Subject changed in place (not added a second time)
	s = T.session(MAIN)
	qid = "5A2BmTxa000201"
	r = T.send(s, lnk, { qid = qid, from = "noreply@example.net" })
	tagged("lure-lnk")
	T.check(mt.eom_check(s.conn, MT_HDRCHANGE, "Subject", T.v(s, "[SUSPICIOUS] " .. subject)),
	    "lure-lnk: Subject not changed to '[SUSPICIOUS] %s'", subject)
	T.check(mt.getheader(s.conn, "Subject", 0) == nil, "lure-lnk: a second Subject was added")
	T.check_log(MAIN_LOG, qid, "tag", lnk)

	-- 2. same connection: the Subject already carries the tag: not tagged twice
	local pre = T.set_header(T.copy(lnk), "Subject", " [SUSPICIOUS] " .. subject)
	qid = "5A2BmTxa000202"
	r = T.send(s, pre, { qid = qid, from = "noreply@example.net" })
	tagged("lure-lnk, Subject already tagged")
	T.check(not mt.eom_check(s.conn, MT_HDRCHANGE, "Subject"),
	    "Subject already tagged: moatd changed it again")
	T.check(mt.getheader(s.conn, "Subject", 0) == nil, "Subject already tagged: a Subject was added")
	T.close(s)

	-- 3. folded header fields as Sendmail passes them (continuation joined with a
	-- bare LF): the boundary is on the continuation line of Content-Type, so
	-- moatd only finds the .lnk if it rebuilt the header right; the tagged
	-- Subject keeps the fold, with LF only, as Sendmail stores it.
	local folded = T.copy(lnk)
	local ct = T.header(folded, "Content-Type"):gsub("; ", ";\n\t", 1)
	T.set_header(folded, "Content-Type", ct)
	T.set_header(folded, "Subject", " Your parcel\n\tcould not be delivered")
	s = T.session(MAIN)
	qid = "5A2BmTxa000203"
	r = T.send(s, folded, { qid = qid, from = "noreply@example.net" })
	tagged("lure-lnk with folded Content-Type and Subject")
	T.check(mt.eom_check(s.conn, MT_HDRCHANGE, "Subject",
	    T.v(s, "[SUSPICIOUS] Your parcel\n\tcould not be delivered")),
	    "folded Subject: not changed to '[SUSPICIOUS] Your parcel<LF><TAB>could not be delivered'")
	T.check_log(MAIN_LOG, qid, "tag", folded)	-- each fold rebuilt as CRLF TAB

	-- 4. no Subject at all: one is added, with the tag alone
	local nosubj = T.remove_header(T.copy(lnk), "Subject")
	qid = "5A2BmTxa000204"
	r = T.send(s, nosubj, { qid = qid, from = "noreply@example.net" })
	tagged("lure-lnk without Subject")
	T.check(mt.getheader(s.conn, "Subject", 0) == T.v(s, "[SUSPICIOUS]"),
	    "no Subject: added '%s', expected '%s'", tostring(mt.getheader(s.conn, "Subject", 0)),
	    T.v(s, "[SUSPICIOUS]"))
	T.check(not mt.eom_check(s.conn, MT_HDRCHANGE, "Subject"), "no Subject: moatd changed a Subject")
	T.close(s)

	-- 5. score 6 (a disk image, ~94 KB: two body chunks): tagged too
	s = T.session(MAIN)
	qid = "5A2BmTxa000205"
	local iso = T.load("demo/lure-iso-image.eml")
	r = T.send(s, iso, { qid = qid, from = "legal@example.net" })
	T.check(r == SMFIR_ACCEPT, "lure-iso-image: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check_verdict(s, "tag", 6, "attach.disk_image")
	T.check(mt.eom_check(s.conn, MT_HDRCHANGE, "Subject", T.v(s, "[SUSPICIOUS] Contract for signature")),
	    "lure-iso-image: Subject not tagged")
	T.check_log(MAIN_LOG, qid, "tag", iso)	-- above spool_memory_bytes: the temp file
	T.close(s)
end)
