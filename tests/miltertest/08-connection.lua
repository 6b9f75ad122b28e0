-- test: connection: accept, RSET mid-message, tag, reject on one SMTP connection, each judged on its own
local T = dofile(MTLIB)

T.run(function ()
	local s = T.session(MAIN)
	local r

	-- 1. clean: accepted untouched
	r = T.send(s, T.load("demo/clean-text.eml"), { qid = "5A2BmTxa000801", from = "anna.becker@example.com" })
	T.check(r == SMFIR_ACCEPT, "message 1 (clean): %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(T.unmodified(s), "message 1 (clean): changed")

	-- 2. a quarantine-worthy message with two forged verdicts and its own
	-- Subject, cut off by RSET after its header: Sendmail sends SMFIC_ABORT
	local aborted = T.load("demo/lure-js-posing-as-jpg.eml")
	T.add_header(aborted, "X-Moat-Verdict", " accept (score 0)", 1)
	T.add_header(aborted, "X-Moat-Verdict", " accept (score 0)")
	T.begin(s, aborted, { qid = "5A2BmTxa000802", from = "sender@example.com" })
	T.rset(s)

	-- 3. tag: nothing of message 2 leaks in (no deletion of its forged
	-- headers, its Subject not used, its findings not reported)
	r = T.send(s, T.load("demo/lure-lnk-in-mail.eml"), { qid = "5A2BmTxa000803", from = "noreply@example.net" })
	T.check(r == SMFIR_ACCEPT, "message 3 (tag): %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check_verdict(s, "tag", 8, "attach.shortcut")
	T.check(not mt.eom_check(s.conn, MT_HDRDELETE),
	    "message 3 (tag): a header was deleted: the aborted message's forged X-Moat-Verdict leaked in")
	T.check(mt.eom_check(s.conn, MT_HDRCHANGE, "Subject", T.v(s, "[SUSPICIOUS] Your parcel could not be delivered")),
	    "message 3 (tag): Subject not tagged with its own text")
	T.check(not mt.eom_check(s.conn, MT_QUARANTINE), "message 3 (tag): quarantined like the aborted message")

	-- 4. reject
	r = T.send(s, T.load("demo/lure-double-extension.eml"), { qid = "5A2BmTxa000804", from = "accounts@example.net" })
	T.check(r == SMFIR_REPLYCODE and mt.eom_check(s.conn, MT_SMTPREPLY, "550", "5.7.1",
	    "moat: message rejected (name.double_extension,attach.executable,type.mismatch)"),
	    "message 4 (reject): %s, expected 550 5.7.1 naming its findings", T.reply_name(r))
	T.check(not mt.eom_check(s.conn, MT_HDRADD) and not mt.eom_check(s.conn, MT_HDRCHANGE),
	    "message 4 (reject): header changes on a rejected message")
	T.close(s)

	-- one summary line per finished message, none for the aborted one
	T.check_log(MAIN_LOG, "5A2BmTxa000801", "accept")
	T.check_log(MAIN_LOG, "5A2BmTxa000803", "tag")
	T.check_log(MAIN_LOG, "5A2BmTxa000804", "reject")
	T.check(T.log_line(MAIN_LOG, "5A2BmTxa000802") == nil,
	    "the aborted message got a summary line: %s", tostring(T.log_line(MAIN_LOG, "5A2BmTxa000802")))
end)
