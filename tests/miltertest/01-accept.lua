-- test: accept: clean mail gets SMFIR_ACCEPT and not one change, {i} names it in the log
local T = dofile(MTLIB)

T.run(function ()
	-- Negotiation against a Sendmail 8.14+ offer: moatd takes what it needs.
	local s = T.session(MAIN)
	T.check(s.leadspc, "moatd did not ask for SMFIP_HDR_LEADSPC (Sendmail offers it)")
	-- DATA is not skipped: with SMFIP_NODATA Postfix's DATA macros go unanswered and
	-- over TCP the next packet waits for a delayed ACK (40 ms a message).
	T.check(not mt.test_option(s.conn, SMFIP_NODATA), "moatd asked to skip DATA (SMFIP_NODATA)")
	-- No reply to connect, HELO, RCPT, headers, end of headers and body chunks: the
	-- MTA streams them; MAIL FROM stays answered (the drain's 451 is given there).
	for _, o in ipairs({ { SMFIP_NR_CONN, "SMFIP_NR_CONN" }, { SMFIP_NR_HELO, "SMFIP_NR_HELO" },
	    { SMFIP_NR_RCPT, "SMFIP_NR_RCPT" }, { SMFIP_NR_HDR, "SMFIP_NR_HDR" },
	    { SMFIP_NR_EOH, "SMFIP_NR_EOH" }, { SMFIP_NR_BODY, "SMFIP_NR_BODY" } }) do
		T.check(mt.test_option(s.conn, o[1]), "moatd did not ask for %s", o[2])
	end
	T.check(not mt.test_option(s.conn, SMFIP_NR_MAIL), "moatd asked not to answer MAIL FROM")
	-- SMFIF_CHGBODY: banners (10-banner.lua)
	for _, a in ipairs({ { SMFIF_ADDHDRS, "SMFIF_ADDHDRS" }, { SMFIF_CHGHDRS, "SMFIF_CHGHDRS" },
	    { SMFIF_CHGBODY, "SMFIF_CHGBODY" }, { SMFIF_QUARANTINE, "SMFIF_QUARANTINE" },
	    { SMFIF_SETSYMLIST, "SMFIF_SETSYMLIST" } }) do
		T.check(mt.test_action(s.conn, a[1]), "moatd did not request %s", a[2])
	end
	for _, a in ipairs({ { SMFIF_ADDRCPT, "SMFIF_ADDRCPT" },
	    { SMFIF_DELRCPT, "SMFIF_DELRCPT" }, { SMFIF_CHGFROM, "SMFIF_CHGFROM" } }) do
		T.check(not mt.test_action(s.conn, a[1]), "moatd requested %s, which it never uses", a[2])
	end

	-- 1. plain text, from an IPv4 client, authenticated sender
	local qid = "5A2BmTxa000101"
	local clean = T.load("demo/clean-text.eml")
	local r = T.send(s, clean, { qid = qid, from = "anna.becker@example.com", auth = "anna" })
	T.check(r == SMFIR_ACCEPT, "clean-text: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(T.unmodified(s), "clean-text: moatd changed the message (header, body or quarantine)")
	T.check_log(MAIN_LOG, qid, "accept", clean)
	T.close(s)

	-- 2. multipart with a real PDF, from an IPv6 client
	s = T.session(MAIN, { host = "mx6.example.org", ip = "2001:db8::25" })
	qid = "5A2BmTxa000102"
	local pdf = T.load("demo/clean-pdf-invoice.eml")
	r = T.send(s, pdf, { qid = qid, from = "billing@example.org" })
	T.check(r == SMFIR_ACCEPT, "clean-pdf-invoice: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(T.unmodified(s), "clean-pdf-invoice: moatd changed the message")
	T.check_log(MAIN_LOG, qid, "accept", pdf)
	T.close(s)

	-- 3. a local submission (sendmail -bs: no socket address, family unknown),
	-- two recipients
	s = T.session(MAIN, { host = "localhost", ip = "unspec" })
	qid = "5A2BmTxa000103"
	r = T.send(s, clean, { qid = qid, rcpts = { "tom.wright@example.com", "ap@example.com" } })
	T.check(r == SMFIR_ACCEPT, "local submission: %s, expected SMFIR_ACCEPT", T.reply_name(r))
	T.check(T.unmodified(s), "local submission: moatd changed the message")
	T.check_log(MAIN_LOG, qid, "accept", clean)
	T.check(T.log_line(MAIN_LOG, qid):find(" rcpts=2 ", 1, true) ~= nil,
	    "summary line does not count 2 recipients: %s", T.log_line(MAIN_LOG, qid))
	T.close(s)
end)
