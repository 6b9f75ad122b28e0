-- test: forged: X-Moat-* headers a sender wrote are deleted, on accept and on tag
local T = dofile(MTLIB)

T.run(function ()
	local s, r, qid

	-- 1. clean mail with a forged verdict, score and (lower-case) findings: each
	-- is deleted, nothing is added, the Subject stays
	local clean = T.load("demo/clean-text.eml")
	T.add_header(clean, "X-Moat-Verdict", " accept (score 0)", 1)
	T.add_header(clean, "X-Moat-Score", " 0")
	T.add_header(clean, "x-moat-findings", " none")
	s = T.session(MAIN)
	qid = "5A2BmTxa000301"
	r = T.send(s, clean, { qid = qid, from = "anna.becker@example.com" })
	T.check(r == SMFIR_ACCEPT, "forged clean: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	for _, name in ipairs({ "X-Moat-Verdict", "X-Moat-Score", "X-Moat-Findings" }) do
		T.check(mt.eom_check(s.conn, MT_HDRDELETE, name, 1), "forged clean: %s (index 1) not deleted", name)
		T.check(not mt.eom_check(s.conn, MT_HDRDELETE, name, 2),
		    "forged clean: %s index 2 deleted, the message has only one", name)
	end
	T.check(not mt.eom_check(s.conn, MT_HDRADD), "forged clean: moatd added a header to accepted mail")
	T.check(not mt.eom_check(s.conn, MT_HDRCHANGE, "Subject"), "forged clean: Subject changed")
	T.check(not mt.eom_check(s.conn, MT_QUARANTINE), "forged clean: quarantined")
	T.check_log(MAIN_LOG, qid, "accept", clean)

	-- 2. same connection: a lure with two forged "accept" verdicts, one at the
	-- top and one at the bottom: both deleted (index 2 and 1), ours added once
	local lnk = T.load("demo/lure-lnk-in-mail.eml")
	T.add_header(lnk, "X-Moat-Verdict", " accept (score 0)", 1)
	T.add_header(lnk, "X-Moat-Verdict", " accept (score 0)")
	qid = "5A2BmTxa000302"
	r = T.send(s, lnk, { qid = qid, from = "noreply@example.net" })
	T.check(r == SMFIR_ACCEPT, "forged lure: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(mt.eom_check(s.conn, MT_HDRDELETE, "X-Moat-Verdict", 1), "forged lure: X-Moat-Verdict 1 not deleted")
	T.check(mt.eom_check(s.conn, MT_HDRDELETE, "X-Moat-Verdict", 2), "forged lure: X-Moat-Verdict 2 not deleted")
	T.check(not mt.eom_check(s.conn, MT_HDRDELETE, "X-Moat-Verdict", 3), "forged lure: X-Moat-Verdict 3 deleted")
	T.check(not mt.eom_check(s.conn, MT_HDRDELETE, "X-Moat-Score"), "forged lure: X-Moat-Score deleted, none was sent")
	T.check_verdict(s, "tag", 8, "attach.shortcut")
	T.check(mt.eom_check(s.conn, MT_HDRCHANGE, "Subject", T.v(s, "[SUSPICIOUS] Your parcel could not be delivered")),
	    "forged lure: Subject not tagged")
	T.check_log(MAIN_LOG, qid, "tag", lnk)
	T.close(s)
end)
