-- test: quarantine: score 11 gives SMFIR_QUARANTINE with the reason, the verdict headers and SMFIR_ACCEPT
local T = dofile(MTLIB)

T.run(function ()
	local s = T.session(MAIN)
	local qid = "5A2BmTxa000401"
	local js = T.load("demo/lure-js-posing-as-jpg.eml")
	local r = T.send(s, js, { qid = qid, from = "sender@example.com" })

	T.check(r == SMFIR_ACCEPT, "lure-js-posing-as-jpg: %s, expected SMFIR_ACCEPT (the MTA holds it)",
	    T.reply_name(r))
	T.check(mt.eom_check(s.conn, MT_QUARANTINE), "lure-js-posing-as-jpg: no SMFIR_QUARANTINE")
	T.check(mt.eom_check(s.conn, MT_QUARANTINE, "moat: held, score 11 (name.conflict,attach.script)"),
	    "lure-js-posing-as-jpg: quarantine reason is not 'moat: held, score 11 (name.conflict,attach.script)'")
	T.check_verdict(s, "quarantine", 11, "name.conflict,attach.script")
	T.check(mt.eom_check(s.conn, MT_HDRCHANGE, "Subject", T.v(s, "[SUSPICIOUS] Photo from the team event")),
	    "lure-js-posing-as-jpg: Subject not tagged")
	T.check(not mt.eom_check(s.conn, MT_BODYCHANGE), "lure-js-posing-as-jpg: body replaced")
	T.check_log(MAIN_LOG, qid, "quarantine", js)
	T.close(s)
end)
