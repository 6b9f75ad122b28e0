-- test: old-sendmail: protocol 2 without SMFIP_HDR_LEADSPC (Sendmail < 8.14): values go back without a leading space
local T = dofile(MTLIB)

-- Sendmail before 8.14 offers milter protocol 2: no SMFIP_HDR_LEADSPC, so
-- it strips one space after the colon of each header it sends and puts one
-- back before each value a filter adds or changes; no SMFIF_SETSYMLIST, so
-- the macros are the default confMILTER_MACROS_* lists: {i} comes at MAIL
-- only (not at RCPT, end of header or end of message), and moatd must keep
-- it for the whole message.
T.run(function ()
	local s = T.session(MAIN, { old = true })
	local r

	T.check(not s.leadspc, "moatd negotiated SMFIP_HDR_LEADSPC, which was not offered")
	T.check(not mt.test_action(s.conn, SMFIF_SETSYMLIST), "moatd requested SMFIF_SETSYMLIST, which was not offered")
	T.check(mt.test_action(s.conn, SMFIF_ADDHDRS) and mt.test_action(s.conn, SMFIF_CHGHDRS) and
	    mt.test_action(s.conn, SMFIF_QUARANTINE), "moatd did not request header changes and quarantine")

	-- 1. tag, with a forged verdict: deleted, ours added without leading space
	local lnk = T.load("demo/lure-lnk-in-mail.eml")
	T.add_header(lnk, "X-Moat-Verdict", " accept (score 0)", 1)
	r = T.send(s, lnk, { qid = "5A2BmTxa000901", from = "noreply@example.net" })
	T.check(r == SMFIR_ACCEPT, "old protocol, tag: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(mt.eom_check(s.conn, MT_HDRDELETE, "X-Moat-Verdict", 1), "old protocol: forged X-Moat-Verdict not deleted")
	T.check_verdict(s, "tag", 8, "attach.shortcut")	-- T.v() gives no space here
	T.check(mt.eom_check(s.conn, MT_HDRCHANGE, "Subject", "[SUSPICIOUS] Your parcel could not be delivered"),
	    "old protocol: Subject not changed to '[SUSPICIOUS] Your parcel could not be delivered' (no leading space)")
	T.check_log(MAIN_LOG, "5A2BmTxa000901", "tag", lnk)	-- the space moatd puts back counts

	-- 2. quarantine on the same connection
	r = T.send(s, T.load("demo/lure-js-posing-as-jpg.eml"), { qid = "5A2BmTxa000902", from = "sender@example.com" })
	T.check(r == SMFIR_ACCEPT and mt.eom_check(s.conn, MT_QUARANTINE, "moat: held, score 11 (name.conflict,attach.script)"),
	    "old protocol, quarantine: %s, expected SMFIR_QUARANTINE and SMFIR_ACCEPT", T.reply_name(r))
	T.check_verdict(s, "quarantine", 11, "name.conflict,attach.script")

	-- 3. clean: untouched
	r = T.send(s, T.load("demo/clean-text.eml"), { qid = "5A2BmTxa000903", from = "anna.becker@example.com" })
	T.check(r == SMFIR_ACCEPT and T.unmodified(s), "old protocol, clean: %s or changed", T.reply_name(r))
	T.close(s)
end)
