-- test: reject: score 20 and more gives SMFIR_REPLYCODE 550 5.7.1 naming the findings, nothing else
local T = dofile(MTLIB)

T.run(function ()
	local s = T.session(MAIN)

	local function rejected(file, qid, findings)
		local msg = T.load(file)
		local r = T.send(s, msg, { qid = qid })
		local text = "moat: message rejected (" .. findings .. ")"

		T.check(r == SMFIR_REPLYCODE, "%s: %s, expected SMFIR_REPLYCODE", file, T.reply_name(r))
		T.check(mt.eom_check(s.conn, MT_SMTPREPLY, "550", "5.7.1", text),
		    "%s: reply is not '550 5.7.1 %s'", file, text)
		T.check(not mt.eom_check(s.conn, MT_HDRADD) and not mt.eom_check(s.conn, MT_HDRCHANGE),
		    "%s: rejected mail got header changes", file)
		T.check(not mt.eom_check(s.conn, MT_QUARANTINE), "%s: rejected and quarantined", file)
		T.check_log(MAIN_LOG, qid, "reject", msg)
	end

	rejected("demo/lure-double-extension.eml", "5A2BmTxa000501",
	    "name.double_extension,attach.executable,type.mismatch")
	-- Sendmail sends no ABORT after a final reply: the next MAIL starts afresh.
	rejected("demo/lure-rlo-name.eml", "5A2BmTxa000502", "name.bidi_control,attach.executable")
	T.close(s)
end)
