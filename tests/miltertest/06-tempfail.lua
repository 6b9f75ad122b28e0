-- test: tempfail: an internal error (the spool cannot be written) gives 451 4.3.0, never a verdict
local T = dofile(MTLIB)

-- BROKEN is a moatd whose spool_dir does not exist and whose
-- spool_memory_bytes is 0: the first header already fails to spool.
T.run(function ()
	local s = T.session(BROKEN)
	local text = "moat: temporary failure (spool), try again later"

	local function tempfailed(file, qid)
		local r = T.send(s, T.load(file), { qid = qid })

		if r == SMFIR_REPLYCODE then
			T.check(mt.eom_check(s.conn, MT_SMTPREPLY, "451", "4.3.0", text),
			    "%s: reply is not '451 4.3.0 %s'", file, text)
		else
			T.check(r == SMFIR_TEMPFAIL, "%s: %s, expected SMFIR_TEMPFAIL or a 451 reply",
			    file, T.reply_name(r))
		end
		T.check(T.unmodified(s), "%s: an unscanned message got header changes or a quarantine", file)
		T.check_log(BROKEN_LOG, qid, "tempfail")
	end

	-- clean mail is not accepted unscanned, a lure is not rejected unscanned
	tempfailed("demo/clean-text.eml", "5A2BmTxa000601")
	tempfailed("demo/lure-double-extension.eml", "5A2BmTxa000602")
	T.close(s)
	-- and moatd still serves the next connection
	s = T.session(BROKEN)
	tempfailed("demo/lure-lnk-in-mail.eml", "5A2BmTxa000603")
	T.close(s)
end)
