-- lib.lua - shared helpers for the miltertest scripts: talk to moatd the way Sendmail does
--
-- Loaded by every script with dofile(MTLIB); run.sh passes the globals
-- MTLIB, SAMPLES (samples/ of the tree), MAIN, BROKEN, POISON (sockets of
-- the three moatd instances) and MAIN_LOG, BROKEN_LOG, POISON_LOG (their
-- stderr logs). Not a test itself: run.sh skips it.
--
-- What "the way Sendmail does" means here (sendmail/milter.c, 8.14 and later):
--   * negotiation offers protocol 6 with every action and step
--     (SMFI_CURR_ACTS, SMFI_CURR_PROT); Sendmail before 8.14 offered
--     protocol 2 without SMFIP_HDR_LEADSPC or SMFIF_SETSYMLIST (M.OLD);
--   * macros go out before each command, as moatd asked for them with
--     smfi_setsymlist(): {daemon_name} {client_addr} at connect, {i}
--     {auth_authen} {mail_addr} at MAIL, {i} {rcpt_addr} at RCPT, {i} at
--     end of header and end of message. Before 8.14 they are the default
--     confMILTER_MACROS_* lists instead: {i} and {auth_authen} at MAIL only;
--   * the envelope addresses keep their <>;
--   * header values are Sendmail's h_value: everything after the colon,
--     leading space included, folded lines joined with a bare LF ("\n\t...").
--     With SMFIP_HDR_LEADSPC the value goes out as is, without it Sendmail
--     strips one leading space. miltertest's mt.header() puts a space back
--     itself when LEADSPC was negotiated, so both cases are sent here as
--     "value without its first space";
--   * the body goes out with CRLF line ends, in chunks of at most 65535 bytes.
--
-- A script is T.run(function () ... end). Every check goes through
-- M.check(), which raises an error with the message given: M.run() prints
-- it, the script stops and miltertest exits non-zero. On success M.run()
-- prints the number of checks passed.

local M = {}

M.checks = 0

-- protocol bits miltertest does not export
M.SMFIC_EOH = string.byte("N")
M.SMFIC_BODYEOB = string.byte("E")
M.OLD = { version = 2, prot = 0x7F, acts = 0x3F }	-- SMFI_V2_PROT, SMFI_V2_ACTS

local reply_names = {
	[string.byte("a")] = "SMFIR_ACCEPT", [string.byte("c")] = "SMFIR_CONTINUE",
	[string.byte("d")] = "SMFIR_DISCARD", [string.byte("r")] = "SMFIR_REJECT",
	[string.byte("t")] = "SMFIR_TEMPFAIL", [string.byte("y")] = "SMFIR_REPLYCODE",
	[0] = "no reply",
}

function M.reply_name(r)
	return reply_names[math.tointeger(r) or -1] or string.format("reply '%s'", string.char(r))
end

-- check COND, FMT, ...: one assertion; fails the script with the message
function M.check(cond, fmt, ...)
	if not cond then
		error("check failed: " .. string.format(fmt, ...), 2)
	end
	M.checks = M.checks + 1
end

-- step ERR, WHAT: a miltertest call returned an error string
local function step(err, what)
	if err ~= nil then
		error(what .. ": " .. tostring(err), 3)
	end
end

-- expect_reply S, WANT, WHAT: the filter's last reply is WANT
local function expect_reply(s, want, what)
	local got = mt.getreply(s.conn)
	if got ~= want then
		error(string.format("%s: moatd answered %s, expected %s", what,
		    M.reply_name(got), M.reply_name(want)), 3)
	end
end

-- run F: the script's body. miltertest exits 1 on an error but never
-- prints it: print it here (with where it happened), then re-raise. On
-- success print the number of checks (run.sh reads this line).
function M.run(f)
	local ok, err = xpcall(f, debug.traceback)

	if not ok then
		io.stderr:write(tostring(err), "\n")
		error(err, 0)
	end
	print(string.format("checks: %d", M.checks))
end

-- messages --------------------------------------------------------------------

-- parse TEXT: {headers = {{name=, value=}...}, body=} with Sendmail's header values
function M.parse(text)
	local head, body = text:match("^(.-)\r?\n\r?\n(.*)$")
	local msg = { headers = {}, body = body }

	if head == nil then
		error("no blank line between header and body")
	end
	for line in (head .. "\n"):gmatch("(.-)\r?\n") do
		if line:match("^[ \t]") then
			local h = msg.headers[#msg.headers]
			h.value = h.value .. "\n" .. line	-- Sendmail keeps folds as bare LF
		else
			local name, value = line:match("^([^:]+):(.*)$")
			if name == nil then
				error("not a header line: " .. line)
			end
			table.insert(msg.headers, { name = name, value = value })
		end
	end
	return msg
end

-- load NAME: samples/NAME parsed
function M.load(name)
	local f = assert(io.open(SAMPLES .. "/" .. name, "rb"))
	local text = f:read("a")

	f:close()
	return M.parse(text)
end

-- copy MSG: a deep copy, to derive variants from
function M.copy(msg)
	local c = { headers = {}, body = msg.body }

	for _, h in ipairs(msg.headers) do
		table.insert(c.headers, { name = h.name, value = h.value })
	end
	return c
end

-- header MSG, NAME: the first value of NAME (raw, with its leading space), or nil
function M.header(msg, name)
	for _, h in ipairs(msg.headers) do
		if h.name:lower() == name:lower() then
			return h.value
		end
	end
	return nil
end

-- set_header MSG, NAME, VALUE: replace the first NAME (VALUE raw, " text")
function M.set_header(msg, name, value)
	for _, h in ipairs(msg.headers) do
		if h.name:lower() == name:lower() then
			h.value = value
			return msg
		end
	end
	error("no header " .. name)
end

-- add_header MSG, NAME, VALUE[, POS]: insert at POS (1 = top), default at the end
function M.add_header(msg, name, value, pos)
	table.insert(msg.headers, pos or (#msg.headers + 1), { name = name, value = value })
	return msg
end

-- remove_header MSG, NAME: drop every NAME
function M.remove_header(msg, name)
	for i = #msg.headers, 1, -1 do
		if msg.headers[i].name:lower() == name:lower() then
			table.remove(msg.headers, i)
		end
	end
	return msg
end

-- sessions --------------------------------------------------------------------

-- session SOCK[, OPTS]: a connected, negotiated milter session at HELO state.
-- OPTS: old (negotiate like Sendmail before 8.14), host, ip ("unspec" for a
-- local submission), helo.
function M.session(sock, opts)
	opts = opts or {}
	local conn = mt.connect(sock, 50, 0.1)
	local s

	if conn == nil then
		error("cannot connect to moatd at " .. sock)
	end
	s = { conn = conn, sock = sock, old = opts.old }
	if opts.old then
		step(mt.negotiate(conn, M.OLD.version, M.OLD.prot, M.OLD.acts), "negotiate")
	else
		step(mt.negotiate(conn, nil, nil, nil), "negotiate")
	end
	s.leadspc = mt.test_option(conn, SMFIP_HDR_LEADSPC)
	if s.old then	-- confMILTER_MACROS_CONNECT: j, _, {daemon_name}, {if_name}, {if_addr}
		step(mt.macro(conn, SMFIC_CONNECT, "j", "mail.example.com",
		    "_", (opts.host or "mx.example.net") .. " [" .. (opts.ip or "192.0.2.25") .. "]",
		    "{daemon_name}", "MTA", "{if_name}", "mail.example.com", "{if_addr}", "192.0.2.1"),
		    "connect macros")
	else
		step(mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", "MTA",
		    "{client_addr}", opts.ip or "192.0.2.25"), "connect macros")
	end
	step(mt.conninfo(conn, opts.host or "mx.example.net", opts.ip or "192.0.2.25"), "conninfo")
	expect_reply(s, SMFIR_CONTINUE, "connect")
	step(mt.helo(conn, opts.helo or "mx.example.net"), "helo")
	expect_reply(s, SMFIR_CONTINUE, "HELO")
	return s
end

-- v S, TEXT: a header value as moatd must hand it back on this session
-- (leading space when SMFIP_HDR_LEADSPC was negotiated)
function M.v(s, text)
	return (s.leadspc and " " or "") .. text
end

-- begin S, MSG, ENV: MAIL, RCPT and the header fields, as Sendmail sends them.
-- ENV: qid (the {i} macro), from, rcpts (list), auth ({auth_authen}).
function M.begin(s, msg, env)
	local conn = s.conn
	local from = env.from or "sender@example.net"
	local rcpts = env.rcpts or { "tom.wright@example.com" }

	if env.auth then
		step(mt.macro(conn, SMFIC_MAIL, "i", env.qid, "{auth_authen}", env.auth,
		    "{mail_addr}", from), "MAIL macros")
	else
		step(mt.macro(conn, SMFIC_MAIL, "i", env.qid, "{mail_addr}", from), "MAIL macros")
	end
	step(mt.mailfrom(conn, "<" .. from .. ">"), "MAIL FROM")
	expect_reply(s, SMFIR_CONTINUE, "MAIL FROM")
	for _, r in ipairs(rcpts) do
		if s.old then	-- confMILTER_MACROS_ENVRCPT has no i
			step(mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "esmtp", "{rcpt_host}",
			    r:match("@(.*)$") or "localhost", "{rcpt_addr}", r), "RCPT macros")
		else
			step(mt.macro(conn, SMFIC_RCPT, "i", env.qid, "{rcpt_addr}", r), "RCPT macros")
		end
		step(mt.rcptto(conn, "<" .. r .. ">"), "RCPT TO")
		expect_reply(s, SMFIR_CONTINUE, "RCPT TO")
	end
	for _, h in ipairs(msg.headers) do
		local value = h.value

		if value:sub(1, 1) == " " then
			value = value:sub(2)
		elseif s.leadspc and value ~= "" then
			-- mt.header() would add a space Sendmail would not send
			error("header " .. h.name .. " has no space after the colon: cannot be sent as Sendmail would")
		end
		if #h.name + #value > 1000 then
			error("header " .. h.name .. " is too long for miltertest's 1 KB buffer")
		end
		step(mt.header(conn, h.name, value), "header " .. h.name)
		expect_reply(s, SMFIR_CONTINUE, "header " .. h.name)
	end
end

-- finish S, MSG, ENV: end of header, the body in CRLF chunks, end of message.
-- Returns the final reply.
function M.finish(s, msg, env)
	local conn = s.conn
	local body = msg.body:gsub("\r?\n", "\r\n")

	if body:find("\0", 1, true) then
		error("a NUL in the body: mt.bodystring() cannot send it")
	end
	if not s.old then	-- no confMILTER_MACROS_EOH by default
		step(mt.macro(conn, M.SMFIC_EOH, "i", env.qid), "EOH macros")
	end
	step(mt.eoh(conn), "end of header")
	expect_reply(s, SMFIR_CONTINUE, "end of header")
	for i = 1, #body, 65535 do
		step(mt.bodystring(conn, body:sub(i, i + 65534)), "body chunk")
		expect_reply(s, SMFIR_CONTINUE, "body chunk")
	end
	if s.old then	-- confMILTER_MACROS_EOM: {msg_id}
		step(mt.macro(conn, M.SMFIC_BODYEOB, "{msg_id}", M.header(msg, "Message-ID") or ""),
		    "EOM macros")
	else
		step(mt.macro(conn, M.SMFIC_BODYEOB, "i", env.qid), "EOM macros")
	end
	step(mt.eom(conn), "end of message")
	return mt.getreply(conn)
end

-- send S, MSG, ENV: one whole message; returns the final reply
function M.send(s, msg, env)
	M.begin(s, msg, env)
	return M.finish(s, msg, env)
end

-- rset S: the SMTP client sent RSET mid-transaction: Sendmail aborts the filter
function M.rset(s)
	step(mt.abort(s.conn), "abort")
end

function M.close(s)
	mt.disconnect(s.conn)
end

-- what moatd did at end of message --------------------------------------------

-- unmodified S: no header added, changed, deleted or inserted, no body
-- change, no quarantine
function M.unmodified(s)
	local c = s.conn

	return not mt.eom_check(c, MT_HDRADD) and not mt.eom_check(c, MT_HDRCHANGE)
	    and not mt.eom_check(c, MT_HDRINSERT) and not mt.eom_check(c, MT_BODYCHANGE)
	    and not mt.eom_check(c, MT_QUARANTINE)
end

-- added_once S, NAME: the one value moatd added for NAME, or nil and a reason
function M.added_once(s, name)
	local v = mt.getheader(s.conn, name, 0)

	if v == nil then
		return nil, name .. " was not added"
	end
	if mt.getheader(s.conn, name, 1) ~= nil then
		return nil, name .. " was added more than once"
	end
	return v
end

-- check_verdict S, ACTION, SCORE, FINDINGS: the three X-Moat-* headers, once each
function M.check_verdict(s, action, score, findings)
	local want = {
		["X-Moat-Verdict"] = string.format("%s (score %d)", action, score),
		["X-Moat-Score"] = tostring(score),
		["X-Moat-Findings"] = findings,
	}

	for _, name in ipairs({ "X-Moat-Verdict", "X-Moat-Score", "X-Moat-Findings" }) do
		local got, why = M.added_once(s, name)

		M.check(got ~= nil, "%s", why or "")
		M.check(got == M.v(s, want[name]), "%s added as '%s', expected '%s'", name,
		    tostring(got), M.v(s, want[name]))
	end
end

-- log_line LOG, QID: moatd's summary line for the message with queue id QID, or nil
function M.log_line(log, qid)
	local f = io.open(log, "r")
	local found

	if f == nil then
		return nil
	end
	for line in f:lines() do
		if line:find(" moatd: " .. qid .. ": from=<", 1, true) then
			found = line
		end
	end
	f:close()
	return found
end

-- wire_size MSG: the message's size as delivered (CRLF line ends, folds
-- included, each header as "Name:" + value): what moatd must rebuild
function M.wire_size(msg)
	local n = 2	-- the blank line

	for _, h in ipairs(msg.headers) do
		n = n + #h.name + 1 + #(h.value:gsub("\r?\n", "\r\n")) + 2
	end
	return n + #(msg.body:gsub("\r?\n", "\r\n"))
end

-- check_log LOG, QID, ACTION[, MSG]: the summary line starts with the queue
-- id Sendmail sent in {i} and names ACTION; with MSG, its size= is MSG's
-- size on the wire (header spacing and folds rebuilt byte for byte)
function M.check_log(log, qid, action, msg)
	local line = M.log_line(log, qid)

	M.check(line ~= nil, "no summary line starting with queue id %s in %s (was {i} read?)", qid, log)
	M.check(line:find(" action=" .. action .. " ", 1, true) ~= nil,
	    "summary line for %s does not say action=%s: %s", qid, action, line)
	if msg ~= nil then
		local size = M.wire_size(msg)

		M.check(line:find(" size=" .. size .. " ", 1, true) ~= nil,
		    "summary line for %s: moatd rebuilt a message of another size than the %d bytes sent: %s",
		    qid, size, line)
	end
end

mt.set_timeout(30)	-- an ASan build scans slowly; a hang still fails

return M
