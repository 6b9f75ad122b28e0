-- test: poison: the same message failing [milter] poison_attempts (3) times is quarantined on the 3rd
local T = dofile(MTLIB)

-- POISON is a fresh moatd with the same broken spool as BROKEN, used by no
-- other script, so its poison table starts empty.
--
-- This found a real bug: a spool failure used to be tempfailed before it was
-- counted, so such a message looped in the sender's queue until it bounced.
-- moatd now hashes the body as it arrives, spool or no spool.
--
-- Each attempt comes as Sendmail retries it: a new connection, a new queue
-- id and a new Received: line of Sendmail's own on top (moatd must
-- recognise the message without it). Message B, different, fails in between
-- and must not add to A's count.
T.run(function ()
	local a = T.load("demo/clean-text.eml")
	local b = T.load("demo/clean-pdf-invoice.eml")

	local function attempt(msg, qid)
		local m = T.copy(msg)
		local s = T.session(POISON)

		T.add_header(m, "Received", " from mx.example.net (mx.example.net [192.0.2.25])\n" ..
		    "\tby mail.example.com (8.17.1/8.17.1) with ESMTP id " .. qid .. "\n" ..
		    "\tfor <tom.wright@example.com>; Mon, 2 Nov 2026 09:14:0" .. qid:sub(-1) .. " +0100", 1)
		local r = T.send(s, m, { qid = qid })
		return s, r
	end

	local function tempfailed(s, r, what, qid)
		T.check(r == SMFIR_TEMPFAIL or (r == SMFIR_REPLYCODE and
		    mt.eom_check(s.conn, MT_SMTPREPLY, "451", "4.3.0",
		    "moat: temporary failure (spool), try again later")),
		    "%s: %s, expected a tempfail (451 4.3.0)", what, T.reply_name(r))
		T.check(not mt.eom_check(s.conn, MT_QUARANTINE), "%s: quarantined too early", what)
		T.check_log(POISON_LOG, qid, "tempfail")
		T.close(s)
	end

	local s, r = attempt(a, "5A2BmTxa000701")
	tempfailed(s, r, "message A, attempt 1", "5A2BmTxa000701")
	s, r = attempt(b, "5A2BmTxa000702")
	tempfailed(s, r, "message B, attempt 1", "5A2BmTxa000702")
	s, r = attempt(a, "5A2BmTxa000703")
	tempfailed(s, r, "message A, attempt 2", "5A2BmTxa000703")

	s, r = attempt(a, "5A2BmTxa000704")
	T.check(r == SMFIR_ACCEPT and mt.eom_check(s.conn, MT_QUARANTINE),
	    "message A, attempt 3: %s%s, expected SMFIR_QUARANTINE and SMFIR_ACCEPT (poison_attempts = 3)",
	    T.reply_name(r), mt.eom_check(s.conn, MT_QUARANTINE) and " with a quarantine" or "")
	T.check_log(POISON_LOG, "5A2BmTxa000704", "quarantine")
	T.close(s)
end)
