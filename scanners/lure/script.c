/*
 * script.c - what a script attachment does: download-and-run, obfuscation (T1059)
 *
 * A part Windows runs as a script (lure_kind_of() says LURE_SCRIPT: .js
 * .jse .vbs .vbe .wsf .wsh .hta .ps1 .bat .cmd .reg ..., or HTA/WSF bytes
 * under another name), a mail attachment or an archive member, is read as
 * text and checked for two things a script attachment's name alone
 * (attach.script) does not say:
 *
 * lure.script_downloader - it fetches code and runs it: IEX of a download
 * (DownloadString, Invoke-WebRequest), mshta/regsvr32/rundll32/msiexec
 * given a URL, WScript.Shell .Run of an interpreter with a URL,
 * XMLHTTP + ADODB.Stream SaveToFile, a hidden PowerShell that fetches, or
 * a fetch (curl, wget, certutil -urlcache, bitsadmin /transfer,
 * Invoke-WebRequest -OutFile, DownloadFile) whose output file is run
 * later in the script (start, call, Start-Process, .Run, & $f, or the
 * file as a command of its own). A base64 blob in the script (-enc,
 * FromBase64String) is decoded and read the same way; one that decodes to
 * a program is a dropper and counts too. The line: a script that only
 * downloads (an admin script's Invoke-WebRequest -OutFile) is no
 * downloader here; one that runs what it fetched is.
 *
 * lure.script_obfuscated - it hides what it does: VBE/JSE Script Encoder
 * text (#@~^), a long base64 blob handed to a decoder, code assembled
 * from char codes, a reversed URL, literals cut into short pieces and
 * glued together, carets or %VAR:~x,y% substrings in batch, backticks
 * or "{1}{0}" -f reordering in PowerShell, obfuscator.io's _0x names,
 * decoded text run by IEX/eval/Execute; weak signs (a reversal idiom, a
 * very long line, mostly punctuation, many \x escapes) count in pairs.
 *
 * The text: a BOM or the NULs of UTF-16 (PowerShell and .reg files often
 * are) are read; then one pass drops carets, backticks and the glue
 * between string literals ("Pow"+"erShell", "Pow" & "erShell") so that
 * the patterns match through them, and counts what it dropped. At most
 * SCRIPT_HEAD_MAX bytes from the start and SCRIPT_TAIL_MAX from the end
 * of a part are read (padding must not push the payload out of sight).
 * Every search is memmem() or a forward scan with a fixed window: linear
 * in the text, no backtracking. Reentrant; buffers live for one part.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/names.h"
#include "moat/sniff.h"

#define SCRIPT_HEAD_MAX		(1u << 20)	/* bytes read from a script's start */
#define SCRIPT_TAIL_MAX		(256u << 10)	/* ... and from its end, when it is larger */
#define SCRIPT_B64_MIN		200		/* base64 characters that make a blob */
#define SCRIPT_BLOBS_MAX	4		/* blobs decoded per script */
#define SCRIPT_DECODED_MAX	(64u << 10)	/* bytes of a blob decoded and read */
#define SCRIPT_HITS_MAX		1024		/* occurrences of one pattern looked at */
#define SCRIPT_NAME_MAX		128		/* bytes of a downloaded file's name */
#define SCRIPT_FOLLOW_MAX	(16u << 10)	/* bytes after a fetch searched for its file being run */
#define SCRIPT_NEAR		256		/* bytes between IEX and the download it runs */
#define SCRIPT_LINE_MAX		512		/* bytes of one statement read */
#define SCRIPT_SNIPPET		96		/* bytes of script quoted in evidence */
#define SCRIPT_LONG_LINE	10000		/* a line this long is a weak sign */
#define SCRIPT_WORK		256		/* bytes searched per byte of text, at most ... */
#define SCRIPT_WORK_MIN		(1u << 20)	/* ... plus this many */

enum script_lang { L_OTHER, L_POWERSHELL, L_BATCH, L_VBS, L_JS, L_HTA, L_WSF, L_REG };

static const char *const script_lang_names[] = {
	"script", "powershell", "batch", "vbscript", "jscript", "hta", "wsf", "reg",
};

/* The text of one script, squeezed, and what the squeeze saw. */
struct script_text {
	char *sq;		/* carets, backticks and literal glue dropped; case kept */
	char *low;		/* SQ in lower case: what the patterns are matched on */
	gsize len;
	enum script_lang lang;
	guint carets;		/* '^' between two letters or digits */
	guint ticks;		/* '`' between two letters (not an escape like `n) */
	guint short_joins;	/* "lit" + "lit" glue after a literal of at most 4 characters */
	gsize longest_line;
	gsize nonword, visible;	/* punctuation among the non-blank bytes */
	guint64 spent, budget;	/* bytes searched so far, and at most (script_find()) */
};

/* What a script was found to do (one of each kind is enough for the evidence). */
struct script_verdict {
	char *downloader;	/* evidence, or NULL */
	GString *obf;		/* strong signs, "; "-separated */
	GString *weak;		/* weak signs */
	guint nstrong, nweak;
};

/* Reading the text --------------------------------------------------------------- */

/* script_utf16 - 1: UTF-16LE, 2: UTF-16BE, 0: bytes; *SKIP gets the BOM's length */
static int
script_utf16(const guint8 *d, gsize len, gsize *skip)
{
	gsize n = MIN(len, 512) & ~(gsize)1, zodd = 0, zeven = 0;

	*skip = 0;
	if (len >= 2 && ((d[0] == 0xff && d[1] == 0xfe) || (d[0] == 0xfe && d[1] == 0xff))) {
		*skip = 2;
		return d[0] == 0xff ? 1 : 2;
	}
	if (len >= 3 && memcmp(d, "\xef\xbb\xbf", 3) == 0) {
		*skip = 3;
		return 0;
	}
	if (n < 16)
		return 0;
	for (gsize i = 0; i < n; i += 2) {
		zeven += d[i] == 0;
		zodd += d[i + 1] == 0;
	}
	/* ASCII text in UTF-16: the high byte of nearly every unit is 0, the low one never */
	if (zodd * 4 >= n / 2 * 3 && zeven * 8 < n / 2)
		return 1;
	if (zeven * 4 >= n / 2 * 3 && zodd * 8 < n / 2)
		return 2;
	return 0;
}

/* script_narrow - append the LEN bytes at D to OUT as 8-bit text (ENC as script_utf16()) */
static void
script_narrow(GByteArray *out, const guint8 *d, gsize len, int enc)
{
	if (enc == 0) {
		g_byte_array_append(out, d, (guint)len);
		return;
	}
	gsize at = out->len;

	g_byte_array_set_size(out, (guint)(at + len / 2));
	for (gsize i = 0; i + 1 < len; i += 2) {
		guint u = enc == 1 ? (guint)(d[i] | d[i + 1] << 8) : (guint)(d[i] << 8 | d[i + 1]);

		out->data[at++] = u < 0x80 ? (guint8)u : 0x80;	/* beyond ASCII: one letter-like byte */
	}
}

/*
 * script_read - the text of the LEN bytes at DATA as 8-bit characters: the
 * head, and the tail when the part is larger than both together (caller
 * g_byte_array_unref()s)
 */
static GByteArray *
script_read(const guint8 *data, gsize len)
{
	GByteArray *out = g_byte_array_sized_new((guint)MIN(len, SCRIPT_HEAD_MAX + SCRIPT_TAIL_MAX + 1));
	gsize skip;
	int enc = script_utf16(data, len, &skip);

	data += skip;
	len -= skip;
	if (len <= SCRIPT_HEAD_MAX + SCRIPT_TAIL_MAX) {
		script_narrow(out, data, len, enc);
	} else {
		gsize tail = len - SCRIPT_TAIL_MAX;

		script_narrow(out, data, SCRIPT_HEAD_MAX, enc);
		g_byte_array_append(out, (const guint8 *)"\n", 1);
		if (enc != 0 && (tail & 1) != 0)
			tail++;		/* stay on a UTF-16 unit */
		script_narrow(out, data + tail, len - tail, enc);
	}
	return out;
}

/*
 * script_glue - at quote T[I]: the bytes of `" + "` or `" & "` (a VBScript
 * `& _` line break too) up to and with the next literal's opening quote,
 * or 0 when no literal follows
 */
static gsize
script_glue(const guint8 *t, gsize i, gsize n)
{
	gsize j = i + 1, end = MIN(n, i + 32);

	while (j < end && (t[j] == ' ' || t[j] == '\t'))
		j++;
	if (j >= end || (t[j] != '+' && t[j] != '&'))
		return 0;
	j++;
	while (j < end && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n' || t[j] == '_'))
		j++;
	if (j >= end || (t[j] != '"' && t[j] != '\''))
		return 0;
	return j - i + 1;
}

static inline gboolean
script_alnum(guint8 c)
{
	return g_ascii_isalnum(c) || c >= 0x80;
}

/*
 * script_squeeze - fill T from the N bytes of text at S (one pass). String
 * literals are followed well enough to find glue only after a closing
 * quote: a quote opens one, the same quote not escaped by '\\' or '`'
 * closes it, a line ends it (an apostrophe in a comment spoils one line).
 */
static void
script_squeeze(struct script_text *t, const guint8 *s, gsize n)
{
	gsize o = 0, line = 0, opened = 0;
	guint8 in_str = 0;

	t->sq = g_malloc(n + 1);
	t->low = g_malloc(n + 1);
	for (gsize i = 0; i < n; i++) {
		guint8 c = s[i];
		gboolean between = i > 0 && i + 1 < n && script_alnum(s[i - 1]) && script_alnum(s[i + 1]);
		gsize g;

		line = c == '\n' ? 0 : line + 1;
		t->longest_line = MAX(t->longest_line, line);
		if (c == '\n')
			in_str = 0;
		if (c == '^') {
			t->carets += between;
			continue;
		}
		if (c == '`' && !(in_str != 0 && i + 1 < n && s[i + 1] == in_str)) {
			t->ticks += between && g_ascii_isalpha(s[i + 1]) &&
			    strchr("abefnrtuv", g_ascii_tolower(s[i + 1])) == NULL;
			continue;
		}
		if ((c == '"' || c == '\'') && in_str == c && !(s[i - 1] == '\\' || s[i - 1] == '`') &&
		    (g = script_glue(s, i, n)) > 0) {
			t->short_joins += i - opened <= 5;
			in_str = s[i + g - 1];
			opened = i + g - 1;
			i += g - 1;
			continue;
		}
		if ((c == '"' || c == '\'') && in_str == 0) {
			in_str = c;
			opened = i;
		} else if (in_str != 0 && c == in_str && !(s[i - 1] == '\\' || s[i - 1] == '`')) {
			in_str = 0;
		}
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			t->visible++;
			t->nonword += !script_alnum(c) && c != '_';
		}
		t->sq[o] = (char)c;
		t->low[o++] = g_ascii_tolower(c);
	}
	t->sq[o] = t->low[o] = '\0';
	t->len = o;
}

static void
script_text_clear(struct script_text *t)
{
	g_free(t->sq);
	g_free(t->low);
	memset(t, 0, sizeof(*t));
}

/* Where things are ---------------------------------------------------------------- */

/*
 * script_find - the first NEEDLE in T->low[FROM, TO), or G_MAXSIZE. Every
 * search of the checks comes here and is paid for: past T->budget bytes
 * searched, nothing more is found (hostile text full of near misses costs
 * a bounded multiple of its size, not its square).
 */
static gsize
script_find(struct script_text *t, gsize from, gsize to, const char *needle)
{
	const char *p;

	to = MIN(to, t->len);
	if (from >= to || t->spent > t->budget)
		return G_MAXSIZE;
	p = memmem(t->low + from, to - from, needle, strlen(needle));
	t->spent += p != NULL ? (gsize)(p - t->low) - from + 1 : to - from;
	return p != NULL ? (gsize)(p - t->low) : G_MAXSIZE;
}

static inline gboolean
script_ident(char c)
{
	return g_ascii_isalnum(c) || c == '_' || (guchar)c >= 0x80;
}

/* script_word - whether the N bytes at T->low[AT] stand alone: no letter, digit, '_', '-' or '.' on either side */
static gboolean
script_word(struct script_text *t, gsize at, gsize n)
{
	char b = at > 0 ? t->low[at - 1] : ' ', a = at + n < t->len ? t->low[at + n] : ' ';

	return !script_ident(b) && b != '-' && b != '.' && b != '$' && !script_ident(a) && a != '-';
}

/* script_find_word - the first NEEDLE standing alone in T->low[FROM, TO), or G_MAXSIZE */
static gsize
script_find_word(struct script_text *t, gsize from, gsize to, const char *needle)
{
	gsize n = strlen(needle);

	for (;;) {
		gsize at = script_find(t, from, to, needle);

		if (at == G_MAXSIZE || script_word(t, at, n))
			return at;
		from = at + 1;
	}
}

/* script_line_end - the end of the line holding AT (at most SCRIPT_LINE_MAX on) */
static gsize
script_line_end(struct script_text *t, gsize at)
{
	gsize end = MIN(t->len, at + SCRIPT_LINE_MAX);
	const char *nl = memchr(t->low + at, '\n', end - at);

	end = nl != NULL ? (gsize)(nl - t->low) : end;
	t->spent += end - at;
	return end;
}

/* script_line_start - the start of the line holding AT (at most SCRIPT_LINE_MAX back) */
static gsize
script_line_start(struct script_text *t, gsize at)
{
	gsize stop = at > SCRIPT_LINE_MAX ? at - SCRIPT_LINE_MAX : 0;

	while (at > stop && t->low[at - 1] != '\n') {
		at--;
		t->spent++;
	}
	return at;
}

/* script_snippet - the script from AT to its line's end, at most SCRIPT_SNIPPET bytes (caller g_free()s) */
static char *
script_snippet(struct script_text *t, gsize at)
{
	gsize end = MIN(script_line_end(t, at), at + SCRIPT_SNIPPET);

	while (at < end && g_ascii_isspace(t->sq[at]))
		at++;
	while (end > at && g_ascii_isspace(t->sq[end - 1]))
		end--;
	return report_clean_text(t->sq + at, (gssize)(end - at), 0);
}

/* Downloads and runs ---------------------------------------------------------- */

enum fetch_kind { F_PS, F_CURL, F_WGET, F_FILE, F_AFTER_URL, F_STREAM };

/* Ways a script fetches a file or text over the network. */
static const struct script_fetch {
	const char *needle;
	const char *label;
	enum fetch_kind kind;
	gboolean word;		/* must stand alone */
	const char *with;	/* another word the same line must hold before it, or NULL */
} script_fetches[] = {
	{ "downloadstring", "DownloadString", F_STREAM, FALSE, NULL },
	{ "downloaddata", "DownloadData", F_STREAM, FALSE, NULL },
	{ "downloadfile", "DownloadFile", F_FILE, FALSE, NULL },
	{ "openread(", "WebClient.OpenRead", F_STREAM, FALSE, NULL },
	{ "invoke-webrequest", "Invoke-WebRequest", F_PS, FALSE, NULL },
	{ "iwr", "iwr", F_PS, TRUE, NULL },
	{ "invoke-restmethod", "Invoke-RestMethod", F_PS, FALSE, NULL },
	{ "irm", "irm", F_PS, TRUE, NULL },
	{ "start-bitstransfer", "Start-BitsTransfer", F_PS, FALSE, NULL },
	{ "urlcache", "certutil -urlcache", F_AFTER_URL, FALSE, "certutil" },
	{ "/transfer", "bitsadmin /transfer", F_AFTER_URL, FALSE, "bitsadmin" },
	{ "curl", "curl", F_CURL, TRUE, NULL },
	{ "wget", "wget", F_WGET, TRUE, NULL },
	{ "xmlhttp", "XMLHTTP", F_STREAM, FALSE, NULL },
	{ "winhttprequest", "WinHttpRequest", F_STREAM, FALSE, NULL },
	{ "urldownloadtofile", "URLDownloadToFile", F_AFTER_URL, FALSE, NULL },
};

/* Ways a script runs something: a statement holding one runs its file. */
static const struct {
	const char *needle;
	gboolean word;
} script_runs[] = {
	{ "start", TRUE }, { "call", TRUE }, { ".run", FALSE }, { ".exec", FALSE },
	{ "shellexecute", FALSE }, { "start-process", FALSE }, { "saps", TRUE },
	{ "invoke-item", FALSE }, { "iex", TRUE }, { "invoke-expression", FALSE },
	{ "rundll32", FALSE }, { "regsvr32", FALSE }, { "mshta", FALSE }, { "msiexec", FALSE },
	{ "wscript", TRUE }, { "cscript", FALSE }, { "cmd", TRUE }, { "cmd.exe", FALSE },
	{ "powershell", FALSE }, { "pwsh", FALSE }, { "wmic", FALSE }, { ".create(", FALSE },
	{ "schtasks", FALSE }, { "invoke-command", FALSE },
};

/* Tools that run what their command line names. */
static const char *const script_tools[] = {
	"powershell", "pwsh", "mshta", "cmd", "curl", "bitsadmin", "certutil", "msiexec",
	"rundll32", "regsvr32", "wscript", "cscript", "wmic", "schtasks",
};

/* script_has_run - whether T->low[FROM, TO) holds a way of running something */
static gboolean
script_has_run(struct script_text *t, gsize from, gsize to)
{
	for (gsize i = 0; i < G_N_ELEMENTS(script_runs); i++)
		if ((script_runs[i].word ? script_find_word(t, from, to, script_runs[i].needle) :
		    script_find(t, from, to, script_runs[i].needle)) != G_MAXSIZE)
			return TRUE;
	return FALSE;
}

/* script_in - whether C is one of the characters of SET (never '\0') */
static inline gboolean
script_in(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static inline gboolean
script_name_end(char c)
{
	return c == '\0' || g_ascii_isspace(c) || script_in(c, "\"'),;|&><");
}

/*
 * script_token - the token at T->low[AT] (blanks, '(' and quotes skipped)
 * into OUT: its last path element (after '\\' or '/'), or a URL's last
 * element when it is one. Returns where the token ends.
 */
static gsize
script_token(struct script_text *t, gsize at, gsize end, char *out, gsize outsz)
{
	gsize s, e, from;

	*out = '\0';
	while (at < end && (g_ascii_isspace(t->low[at]) || t->low[at] == '(' || t->low[at] == '"' ||
	    t->low[at] == '\''))
		at++;
	for (e = at; e < end && !script_name_end(t->low[e]); e++)
		;
	for (s = e, from = at; s > from && t->low[s - 1] != '\\' && t->low[s - 1] != '/'; s--)
		;
	if (e - s >= 2 && e - s < outsz) {
		memcpy(out, t->low + s, e - s);
		out[e - s] = '\0';
	}
	return e;
}

/* script_url_after - the first http(s)/ftp URL in T->low[AT, END), or G_MAXSIZE */
static gsize
script_url_after(struct script_text *t, gsize at, gsize end)
{
	gsize h = script_find(t, at, end, "http"), f = script_find(t, at, end, "ftp://");

	while (h != G_MAXSIZE && g_ascii_strncasecmp(t->low + h, "http://", 7) != 0 &&
	    g_ascii_strncasecmp(t->low + h, "https://", 8) != 0)
		h = script_find(t, h + 4, end, "http");
	return MIN(h, f);
}

/* script_flag_value - the token after the first of the NULL-ended FLAGS in T->low[AT, END) */
static gsize
script_flag_value(struct script_text *t, gsize at, gsize end, const char *const *flags,
    char *out, gsize outsz)
{
	for (gsize i = 0; flags[i] != NULL; i++) {
		gsize f = script_find(t, at, end, flags[i]);

		if (f != G_MAXSIZE && f + strlen(flags[i]) < end &&
		    g_ascii_isspace(t->low[f + strlen(flags[i])]))
			return script_token(t, f + strlen(flags[i]), end, out, outsz);
	}
	*out = '\0';
	return G_MAXSIZE;
}

/*
 * script_fetch_name - the file fetch F at T->low[AT] writes, into OUT ("" when
 * not known); returns where the search for it being run starts
 */
static gsize
script_fetch_name(struct script_text *t, const struct script_fetch *f, gsize at, char *out,
    gsize outsz)
{
	static const char *const ps[] = { "-outfile", "-outf", "-destination", "-o", NULL };
	static const char *const curl[] = { "--output", "-o", NULL };
	static const char *const wget[] = { "--output-document", "-o", NULL };
	gsize end = script_line_end(t, at), next = G_MAXSIZE, url;

	*out = '\0';
	switch (f->kind) {
	case F_PS:
		next = script_flag_value(t, at, end, ps, out, outsz);
		break;
	case F_CURL:
	case F_WGET:
		next = script_flag_value(t, at, end, f->kind == F_CURL ? curl : wget, out, outsz);
		break;
	case F_FILE:		/* DownloadFile(url, NAME) */
		next = script_find(t, at, end, ",");
		if (next != G_MAXSIZE)
			next = script_token(t, next + 1, end, out, outsz);
		break;
	case F_AFTER_URL:	/* certutil -urlcache -f URL NAME, bitsadmin /transfer j URL NAME */
		if ((url = script_url_after(t, at, end)) != G_MAXSIZE) {
			char skip[SCRIPT_NAME_MAX + 1];

			url = script_token(t, url, end, skip, sizeof(skip));
			next = script_token(t, url, end, out, outsz);
			if (*out == '\0')
				g_strlcpy(out, skip, outsz);
		}
		break;
	case F_STREAM:		/* ... then .SaveToFile NAME */
		next = script_find(t, at, at + SCRIPT_FOLLOW_MAX, "savetofile");
		if (next != G_MAXSIZE)
			next = script_token(t, next + 10, script_line_end(t, next), out, outsz);
		break;
	}
	/* no name given (wget URL, curl -O URL): the URL's own file name */
	if (*out == '\0' && f->kind != F_STREAM && f->kind != F_FILE &&
	    (url = script_url_after(t, at, end)) != G_MAXSIZE) {
		gsize e = script_token(t, url, end, out, outsz);

		if (strchr(out, '.') == NULL)
			*out = '\0';
		next = MAX(next == G_MAXSIZE ? 0 : next, e);
	}
	return next == G_MAXSIZE ? end : next;
}

/* script_statement - the statement around AT: from the last separator before it to the next */
static void
script_statement(struct script_text *t, gsize at, gboolean amp, gsize *from, gsize *to)
{
	const char *seps = amp ? "\n;&|" : "\n;:";
	gsize s = at, e = at, stop = at > SCRIPT_LINE_MAX ? at - SCRIPT_LINE_MAX : 0;

	while (s > stop && !script_in(t->low[s - 1], seps))
		s--;
	while (e < t->len && e - at < SCRIPT_LINE_MAX && !script_in(t->low[e], seps))
		e++;
	t->spent += e - s;
	*from = s;
	*to = e;
}

/* script_in_url - whether AT is inside a URL: "://" earlier in its token */
static gboolean
script_in_url(struct script_text *t, gsize at)
{
	gsize s = at;

	while (s > 0 && at - s < SCRIPT_NAME_MAX && !script_name_end(t->low[s - 1]))
		s--;
	t->spent += at - s;
	return memmem(t->low + s, at - s, "://", 3) != NULL;
}

/*
 * script_runs_name - where, after FROM, the script runs file NAME: a
 * statement holding NAME with a way of running it, or NAME as the command
 * of a statement (batch, PowerShell); G_MAXSIZE for nowhere
 */
static gsize
script_runs_name(struct script_text *t, gsize from, const char *name)
{
	gsize n = strlen(name), end = MIN(t->len, from + SCRIPT_FOLLOW_MAX);
	gboolean amp = t->lang == L_BATCH || t->lang == L_POWERSHELL || t->lang == L_OTHER;

	for (guint k = 0; k < SCRIPT_HITS_MAX; k++) {
		gsize at = script_find(t, from, end, name), s, e, c;
		char after;

		if (at == G_MAXSIZE)
			return G_MAXSIZE;
		from = at + 1;
		after = at + n < t->len ? t->low[at + n] : ' ';
		if (script_ident(after) || (at > 0 && script_ident(t->low[at - 1]) && !strchr("$%", *name)) ||
		    script_in_url(t, at))
			continue;
		script_statement(t, at, amp, &s, &e);
		if (script_has_run(t, s, e))
			return at;
		if (!amp)
			continue;
		/* NAME in the statement's first word: it is the command (%TEMP%\a.exe, & $f, .\a.exe) */
		for (c = s; c < at && (g_ascii_isspace(t->low[c]) || script_in(t->low[c], "@\"'(.")); c++)
			;
		if (memchr(t->low + c, ' ', at - c) == NULL && memchr(t->low + c, '\t', at - c) == NULL)
			return at;
	}
	return G_MAXSIZE;
}

/* script_download_run - a fetch whose file the script then runs: evidence, or NULL */
static char *
script_download_run(struct script_text *t)
{
	for (gsize i = 0; i < G_N_ELEMENTS(script_fetches); i++) {
		const struct script_fetch *f = &script_fetches[i];
		gsize from = 0;

		for (guint k = 0; k < SCRIPT_HITS_MAX; k++) {
			gsize at = f->word ? script_find_word(t, from, t->len, f->needle) :
			    script_find(t, from, t->len, f->needle), next, run;
			char name[SCRIPT_NAME_MAX + 1];

			if (at == G_MAXSIZE)
				break;
			from = at + 1;
			if (f->with != NULL && script_find(t, script_line_start(t, at), at, f->with) == G_MAXSIZE)
				continue;
			if ((f->kind == F_CURL || f->kind == F_WGET) &&
			    script_url_after(t, at, script_line_end(t, at)) == G_MAXSIZE)
				continue;
			next = script_fetch_name(t, f, at, name, sizeof(name));
			if (*name == '\0' || (run = script_runs_name(t, next, name)) == G_MAXSIZE)
				continue;
			{
				g_autofree char *fetch = script_snippet(t, at);
				g_autofree char *ran = script_snippet(t, script_line_start(t, run));

				return g_strdup_printf("%s fetches %s, then runs it: «%s» … «%s»", f->label,
				    name, fetch, ran);
			}
		}
	}
	return NULL;
}

/* script_near - NEEDLE in T->low within SCRIPT_NEAR bytes of AT on either side, or G_MAXSIZE */
static gsize
script_near(struct script_text *t, gsize at, const char *needle)
{
	return script_find(t, at > SCRIPT_NEAR ? at - SCRIPT_NEAR : 0, at + SCRIPT_NEAR, needle);
}

/* script_iex_download - IEX / Invoke-Expression of a download: evidence, or NULL */
static char *
script_iex_download(struct script_text *t)
{
	static const char *const fetched[] = {
		"downloadstring", "downloaddata", "openread(", "invoke-webrequest", "iwr ", "iwr(",
		"invoke-restmethod", "irm ", "irm(", "net.webclient", "responsetext", "getstringasync",
	};
	gsize from = 0;

	for (guint k = 0; k < SCRIPT_HITS_MAX; k++) {
		gsize at = script_find_word(t, from, t->len, "iex");

		if (at == G_MAXSIZE)
			at = script_find(t, from, t->len, "invoke-expression");
		if (at == G_MAXSIZE)
			return NULL;
		from = at + 1;
		for (gsize i = 0; i < G_N_ELEMENTS(fetched); i++)
			if (script_near(t, at, fetched[i]) != G_MAXSIZE) {
				g_autofree char *s = script_snippet(t, script_line_start(t, at));

				return g_strdup_printf("runs a download with IEX: «%s»", s);
			}
	}
	return NULL;
}

/* One tool given a URL on its command line, which runs what it fetches. */
static const struct {
	const char *tool, *arg, *label;
} script_remote[] = {
	{ "mshta", "http", "mshta runs a remote HTA" },
	{ "mshta", "javascript:", "mshta runs inline script" },
	{ "mshta", "vbscript:", "mshta runs inline script" },
	{ "regsvr32", ":http", "regsvr32 /i: runs a remote scriptlet (scrobj)" },
	{ "rundll32", "javascript:", "rundll32 runs javascript:" },
	{ "msiexec", "http", "msiexec installs from a URL" },
	{ "certutil", "urlcache", "certutil -urlcache fetches a file" },
};

/* script_remote_run - a tool that fetches and runs in one command: evidence, or NULL */
static char *
script_remote_run(struct script_text *t)
{
	for (gsize i = 0; i < G_N_ELEMENTS(script_remote); i++) {
		gsize from = 0;

		for (guint k = 0; k < SCRIPT_HITS_MAX; k++) {
			gsize at = script_find(t, from, t->len, script_remote[i].tool), end;

			if (at == G_MAXSIZE)
				break;
			from = at + 1;
			end = MIN(script_line_end(t, at), at + 200);
			if (script_find(t, at, end, script_remote[i].arg) == G_MAXSIZE)
				continue;
			/* certutil -urlcache alone also clears the cache: a URL makes it a fetch */
			if (strcmp(script_remote[i].tool, "certutil") == 0 &&
			    script_url_after(t, at, end) == G_MAXSIZE)
				continue;
			{
				g_autofree char *s = script_snippet(t, at);

				return g_strdup_printf("%s: «%s»", script_remote[i].label, s);
			}
		}
	}
	return NULL;
}

/*
 * script_shell_url - WScript.Shell .Run/.Exec (or ShellExecute) of an
 * interpreter or download tool with a URL, or a hidden PowerShell that
 * fetches: evidence, or NULL. A .Run of a URL alone opens the browser.
 */
static char *
script_shell_url(struct script_text *t)
{
	static const char *const calls[] = { ".run", ".exec", "shellexecute", "powershell" };

	for (gsize i = 0; i < G_N_ELEMENTS(calls); i++) {
		gsize from = 0;

		for (guint k = 0; k < SCRIPT_HITS_MAX; k++) {
			gsize at = script_find(t, from, t->len, calls[i]), end;
			gboolean hit = FALSE;

			if (at == G_MAXSIZE)
				break;
			from = at + 1;
			end = script_line_end(t, at);
			if (i < 3) {
				if (script_url_after(t, at, end) == G_MAXSIZE)
					continue;
				for (gsize j = 0; j < G_N_ELEMENTS(script_tools) && !hit; j++)
					hit = script_find(t, at, end, script_tools[j]) != G_MAXSIZE;
			} else {
				/* powershell -w hidden / -windowstyle hidden / -w 1, fetching */
				gsize h = script_find(t, at, end, " -w");

				hit = h != G_MAXSIZE && (script_find(t, h, MIN(end, h + 20), "hid") != G_MAXSIZE ||
				    script_find(t, h, MIN(end, h + 6), " 1") != G_MAXSIZE);
				for (gsize j = 0; hit && j < G_N_ELEMENTS(script_fetches); j++)
					if (script_find(t, at, end, script_fetches[j].needle) != G_MAXSIZE)
						break;
					else if (j + 1 == G_N_ELEMENTS(script_fetches))
						hit = FALSE;
			}
			if (hit) {
				g_autofree char *s = script_snippet(t, at);

				return g_strdup_printf("%s: «%s»", i < 3 ? "runs a tool with a URL" :
				    "hidden PowerShell downloads", s);
			}
		}
	}
	return NULL;
}

/* script_stream_save - XMLHTTP/WinHttp saved to disk with ADODB.Stream SaveToFile: evidence, or NULL */
static char *
script_stream_save(struct script_text *t)
{
	gsize http = script_find(t, 0, t->len, "xmlhttp"), save;

	if (http == G_MAXSIZE)
		http = script_find(t, 0, t->len, "winhttprequest");
	if (http == G_MAXSIZE || script_find(t, 0, t->len, "adodb.stream") == G_MAXSIZE ||
	    (save = script_find(t, 0, t->len, "savetofile")) == G_MAXSIZE) {
		return NULL;
	} else {
		g_autofree char *s = script_snippet(t, save);

		return g_strdup_printf("saves a download with XMLHTTP and ADODB.Stream: «%s»", s);
	}
}

/* script_download - the first download-and-run form in T: evidence, or NULL (caller g_free()s) */
static char *
script_download(struct script_text *t)
{
	char *why;

	if ((why = script_iex_download(t)) != NULL || (why = script_remote_run(t)) != NULL ||
	    (why = script_shell_url(t)) != NULL || (why = script_stream_save(t)) != NULL ||
	    (why = script_download_run(t)) != NULL)
		return why;
	return NULL;
}

/* Obfuscation -------------------------------------------------------------------- */

static void G_GNUC_PRINTF(3, 4)
script_sign(struct script_verdict *v, gboolean strong, const char *fmt, ...)
{
	GString *s = strong ? v->obf : v->weak;
	va_list ap;

	if (s->len > 0)
		g_string_append(s, "; ");
	va_start(ap, fmt);
	g_string_append_vprintf(s, fmt, ap);
	va_end(ap);
	if (strong)
		v->nstrong++;
	else
		v->nweak++;
}

/* script_count - occurrences of NEEDLE in T->low, counted up to CAP */
static guint
script_count(struct script_text *t, const char *needle, guint cap)
{
	gsize n = strlen(needle), from = 0;
	guint c = 0;

	while (c < cap) {
		gsize at = script_find(t, from, t->len, needle);

		if (at == G_MAXSIZE)
			break;
		c++;
		from = at + n;
	}
	return c;
}

/* script_count_all - occurrences of the NULL-ended NEEDLES in T->low, each counted up to CAP */
static guint
script_count_all(struct script_text *t, const char *const *needles, guint cap)
{
	guint c = 0;

	for (gsize i = 0; needles[i] != NULL; i++)
		c += script_count(t, needles[i], cap);
	return c;
}

/* script_substrings - batch %NAME:~x[,y]% expansions, and %a%%b% splices of short variables */
static void
script_substrings(struct script_text *t, guint *subs, guint *splices)
{
	*subs = *splices = 0;
	for (gsize i = 0; i < t->len; i++) {
		gsize j = i + 1;

		if (t->low[i] != '%')
			continue;
		while (j < t->len && j - i <= 32 && (script_ident(t->low[j]) || t->low[j] == '$'))
			j++;
		if (j == i + 1 || j >= t->len)
			continue;
		if (t->low[j] == ':' && j + 1 < t->len && t->low[j + 1] == '~') {
			for (j += 2; j < t->len && (g_ascii_isdigit(t->low[j]) || t->low[j] == '-' ||
			    t->low[j] == ','); j++)
				;
			if (j < t->len && t->low[j] == '%') {
				(*subs)++;
				i = j;
			}
		} else if (t->low[j] == '%' && j - i <= 4) {
			*splices += j + 1 < t->len && t->low[j + 1] == '%';
			i = j - 1;	/* the closing '%' may open the next */
		}
	}
}

/* script_reorder - PowerShell -f format strings that put pieces back in order: "{2}{0}{1}" */
static guint
script_reorder(struct script_text *t)
{
	guint n = 0;
	gsize from = 0;

	if (script_find(t, 0, t->len, "-f") == G_MAXSIZE)
		return 0;
	for (guint k = 0; k < 100000; k++) {
		gsize at = script_find(t, from, t->len, "}{");

		if (at == G_MAXSIZE)
			break;
		from = at + 2;
		n += at >= 2 && g_ascii_isdigit(t->low[at - 1]) && t->low[at - 2] == '{' &&
		    at + 2 < t->len && g_ascii_isdigit(t->low[at + 2]);
	}
	return n;
}

/* script_runs_decoded - IEX/eval/Execute of text decoded on the spot: evidence, or NULL */
static char *
script_runs_decoded(struct script_text *t)
{
	static const char *const runners[] = { "iex", "invoke-expression", "eval(", "execute(",
	    "executeglobal", "execute ", "new function(" };
	static const char *const decoders[] = { "frombase64string", "[char]", "fromcharcode",
	    "unescape(", "atob(", "chr(", "chrw(", "strreverse(", "-join", "-bxor", "gzipstream",
	    "deflatestream", "decompress" };

	for (gsize i = 0; i < G_N_ELEMENTS(runners); i++) {
		gsize from = 0;

		for (guint k = 0; k < SCRIPT_HITS_MAX; k++) {
			gsize at = i == 0 ? script_find_word(t, from, t->len, runners[i]) :
			    script_find(t, from, t->len, runners[i]);

			if (at == G_MAXSIZE)
				break;
			from = at + 1;
			for (gsize j = 0; j < G_N_ELEMENTS(decoders); j++)
				if (script_find(t, at, at + 64, decoders[j]) != G_MAXSIZE) {
					g_autofree char *s = script_snippet(t, at);

					return g_strdup_printf("runs text it decodes: «%s»", s);
				}
		}
	}
	return NULL;
}

/* script_obfuscation - the obfuscation signs of T, added to V */
static void
script_obfuscation(struct script_text *t, struct script_verdict *v)
{
	static const char *const charcodes[] = { "chr(", "chrw(", "chrb(", "[char]", "fromcharcode", NULL };
	static const char *const reversal[] = { "strreverse(", "[array]::reverse(", ".reverse().join(",
	    "[-1..-", NULL };
	guint n, subs, splices;
	gsize enc = script_find(t, 0, t->len, "#@~");
	g_autofree char *decoded = NULL;

	/* Script Encoder: #@~^XXXXXX== ... ^#~@ (the squeeze dropped the carets) */
	if (enc != G_MAXSIZE && script_find(t, enc, t->len, "#~@") != G_MAXSIZE)
		script_sign(v, TRUE, "Script Encoder text (#@~^, a .vbe/.jse)");
	if ((n = script_count_all(t, charcodes, 100000)) >= 32)
		script_sign(v, TRUE, "%u char codes assembled (chr, [char], fromCharCode)", n);
	if (script_find(t, 0, t->len, "//:ptth") != G_MAXSIZE || script_find(t, 0, t->len, "//:sptth") != G_MAXSIZE)
		script_sign(v, TRUE, "a reversed URL (//:ptth)");
	if (t->short_joins >= 30)
		script_sign(v, TRUE, "%u string pieces glued together", t->short_joins);
	if ((decoded = script_runs_decoded(t)) != NULL)
		script_sign(v, TRUE, "%s", decoded);
	if ((t->lang == L_POWERSHELL || t->lang == L_OTHER) && t->ticks >= 8)
		script_sign(v, TRUE, "%u backticks inside words", t->ticks);
	if ((t->lang == L_POWERSHELL || t->lang == L_OTHER) && (n = script_reorder(t)) >= 5)
		script_sign(v, TRUE, "%u -f format strings reordering pieces ({1}{0})", n);
	if (t->lang == L_BATCH || t->lang == L_OTHER) {
		script_substrings(t, &subs, &splices);
		if (t->carets >= 10)
			script_sign(v, TRUE, "%u carets inside words", t->carets);
		if (subs >= 16)
			script_sign(v, TRUE, "%u %%VAR:~x,y%% substrings", subs);
		else if (subs >= 6)
			script_sign(v, FALSE, "%u %%VAR:~x,y%% substrings", subs);
		if (splices >= 10)
			script_sign(v, TRUE, "%u variables spliced together (%%a%%%%b%%)", splices);
	}
	if ((n = script_count(t, "_0x", 1000)) >= 30)
		script_sign(v, TRUE, "%u _0x names (obfuscator.io)", n);
	if ((n = script_count_all(t, reversal, 1000)) > 0)
		script_sign(v, FALSE, "string reversal");
	if ((n = script_count(t, "\\x", 100000)) >= 200)
		script_sign(v, FALSE, "%u \\x escapes", n);
	/* minified JavaScript is one long line: a sign only where people write lines */
	if (t->lang != L_JS && t->lang != L_HTA && t->lang != L_WSF && t->lang != L_OTHER &&
	    t->longest_line >= SCRIPT_LONG_LINE)
		script_sign(v, FALSE, "a line of %" G_GSIZE_FORMAT " characters", t->longest_line);
	if (t->visible >= 1024 && t->nonword * 100 >= t->visible * 45)
		script_sign(v, FALSE, "%" G_GSIZE_FORMAT "%% punctuation", t->nonword * 100 / t->visible);
}

/* Base64 blobs ------------------------------------------------------------------- */

static inline gboolean
script_b64(char c)
{
	return g_ascii_isalnum(c) || c == '+' || c == '/' || c == '=';
}

static void script_text_init(struct script_text *t, const guint8 *data, gsize len, enum script_lang lang);
static gboolean script_is_text(const guint8 *data, gsize len);

/* script_decoder - the decoder a script hands a blob to ("FromBase64String", ...), or NULL */
static const char *
script_decoder(struct script_text *t)
{
	static const struct { const char *needle, *label; } decoders[] = {
		{ "frombase64string", "FromBase64String" }, { "-encodedcommand", "-EncodedCommand" },
		{ " -enc", "-enc" }, { " -ec ", "-ec" }, { " -e ", "-e" }, { "bin.base64", "bin.base64" },
		{ "atob(", "atob" }, { "-decode", "certutil -decode" }, { "base64decode", "a base64 decoder" },
		{ "decodebase64", "a base64 decoder" }, { "b64decode", "a base64 decoder" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(decoders); i++)
		if (script_find(t, 0, t->len, decoders[i].needle) != G_MAXSIZE)
			return decoders[i].label;
	return NULL;
}

/*
 * script_blob - decode base64 blob T->sq[AT, AT+N) (its first
 * SCRIPT_DECODED_MAX bytes) and judge what it holds: a program or archive
 * (a dropper) or text that downloads and runs, into V
 */
static void
script_blob(struct script_text *t, gsize at, gsize n, struct script_verdict *v)
{
	gsize want = MIN(n, SCRIPT_DECODED_MAX / 3 * 4) / 4 * 4, len;
	guint8 *out = g_malloc(want / 4 * 3 + 3);
	gint state = 0;
	guint save = 0;
	enum sniff_class cls;
	const char *type;

	len = g_base64_decode_step(t->sq + at, want, out, &state, &save);
	type = sniff_type(out, MIN(len, SNIFF_HEAD_BYTES), &cls);
	if (v->downloader == NULL && (cls == SNIFF_EXECUTABLE || strcmp(type, "lnk") == 0 ||
	    cls == SNIFF_ARCHIVE || cls == SNIFF_DISK_IMAGE)) {
		v->downloader = g_strdup_printf("carries a %s in a %" G_GSIZE_FORMAT "-character base64 "
		    "blob (a dropper)", type, n);
	} else if (v->downloader == NULL && (cls == SNIFF_TEXT || script_is_text(out, len))) {
		struct script_text inner = { 0 };
		g_autofree char *why = NULL;

		script_text_init(&inner, out, len, L_OTHER);
		if ((why = script_download(&inner)) != NULL)
			v->downloader = g_strdup_printf("a base64 blob decodes to a script that %s", why);
		script_text_clear(&inner);
	}
	g_free(out);
}

/* script_blobs - the long base64 runs of T: the first few decoded, the longest named, into V */
static void
script_blobs(struct script_text *t, struct script_verdict *v)
{
	gsize longest = 0, nblobs = 0;
	const char *decoder;

	for (gsize i = 0; i < t->len;) {
		gsize j = i;

		while (j < t->len && script_b64(t->sq[j]))
			j++;
		if (j - i >= SCRIPT_B64_MIN &&
		    !(i >= 7 && memcmp(t->low + i - 7, "base64,", 7) == 0)) {	/* a data: URL */
			if (nblobs++ < SCRIPT_BLOBS_MAX)
				script_blob(t, i, j - i, v);
			longest = MAX(longest, j - i);
		}
		i = MAX(j, i + 1);
	}
	if (longest == 0)
		return;
	/* a blob nothing decodes is data (search indexes, fonts): no sign */
	if ((decoder = script_decoder(t)) != NULL)
		script_sign(v, TRUE, "a %" G_GSIZE_FORMAT "-character base64 blob for %s", longest, decoder);
}

/* The part -------------------------------------------------------------------------- */

static void
script_text_init(struct script_text *t, const guint8 *data, gsize len, enum script_lang lang)
{
	GByteArray *text = script_read(data, len);

	memset(t, 0, sizeof(*t));
	t->lang = lang;
	script_squeeze(t, text->data, text->len);
	t->budget = (guint64)t->len * SCRIPT_WORK + SCRIPT_WORK_MIN;
	g_byte_array_unref(text);
}

/* script_lang_of - the language NAME's extension says, else what the bytes say */
static enum script_lang
script_lang_of(const char *name, const guint8 *data, gsize len)
{
	static const struct { const char *ext; enum script_lang lang; } exts[] = {
		{ "ps1", L_POWERSHELL }, { "psm1", L_POWERSHELL }, { "psd1", L_POWERSHELL },
		{ "bat", L_BATCH }, { "cmd", L_BATCH }, { "vbs", L_VBS }, { "vbe", L_VBS },
		{ "vb", L_VBS }, { "js", L_JS }, { "jse", L_JS }, { "hta", L_HTA }, { "wsf", L_WSF },
		{ "wsh", L_WSF }, { "wsc", L_WSF }, { "ws", L_WSF }, { "sct", L_WSF }, { "reg", L_REG },
		{ "inf", L_REG },
	};
	g_autofree char *ext = names_extension(name);
	const char *sniffed;

	for (gsize i = 0; ext != NULL && i < G_N_ELEMENTS(exts); i++)
		if (strcmp(ext, exts[i].ext) == 0)
			return exts[i].lang;
	sniffed = lure_script_language(data, len);
	for (gsize i = 1; sniffed != NULL && i < G_N_ELEMENTS(script_lang_names); i++)
		if (strcmp(sniffed, script_lang_names[i]) == 0)
			return (enum script_lang)i;
	return L_OTHER;
}

/* script_is_text - whether the first bytes of T hold no NUL: a script, not a jar or a program */
static gboolean
script_is_text(const guint8 *data, gsize len)
{
	gsize skip;
	int enc = script_utf16(data, len, &skip);
	gsize n = MIN(len, 4096);

	if (enc == 0)
		return memchr(data + skip, '\0', n - MIN(n, skip)) == NULL;
	for (gsize i = skip; i + 1 < n; i += 2)
		if (data[i] == 0 && data[i + 1] == 0)
			return FALSE;
	return TRUE;
}

void
lure_script_content(struct moat_report *rep, const struct moat_part *at, const guint8 *data,
    gsize len, const char *lang, const char *what)
{
	struct script_text t;
	struct script_verdict v = { NULL, g_string_new(NULL), g_string_new(NULL), 0, 0 };
	enum script_lang l = L_OTHER;
	const char *label;

	if (len == 0 || !script_is_text(data, len))
		return;
	for (gsize i = 1; lang != NULL && i < G_N_ELEMENTS(script_lang_names); i++)
		if (strcmp(lang, script_lang_names[i]) == 0)
			l = (enum script_lang)i;
	label = what != NULL ? what : script_lang_names[l];
	script_text_init(&t, data, len, l);
	v.downloader = script_download(&t);
	script_blobs(&t, &v);
	script_obfuscation(&t, &v);
	if (v.downloader != NULL)
		report_add_finding_at(rep, "lure.script_downloader", at, "%s %s", label, v.downloader);
	if (v.nstrong > 0 || v.nweak >= 2)
		report_add_finding_at(rep, "lure.script_obfuscated", at, "%s: %s%s%s", label, v.obf->str,
		    v.obf->len > 0 && v.weak->len > 0 ? "; " : "", v.weak->str);
	g_free(v.downloader);
	g_string_free(v.obf, TRUE);
	g_string_free(v.weak, TRUE);
	script_text_clear(&t);
}

void
lure_script_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)conf;
	for (guint i = 0; i < rep->parts->len && !report_over_budget(rep); i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		gsize len;
		const guint8 *data = lure_data(p, &len);

		if (data == NULL || !p->is_attachment || lure_kind_of(p) != LURE_SCRIPT)
			continue;
		lure_script_content(rep, p, data, len,
		    script_lang_names[script_lang_of(p->filename, data, len)], NULL);
	}
}

/* What language a text is in --------------------------------------------------------- */

/* script_markers - how many of the NULL-ended NEEDLES LOW (N bytes) holds */
static guint
script_markers(const char *low, gsize n, const char *const *needles)
{
	guint c = 0;

	for (gsize i = 0; needles[i] != NULL; i++)
		c += memmem(low, n, needles[i], strlen(needles[i])) != NULL;
	return c;
}

/* script_batch_lines - lines of LOW (N bytes) that start with a batch command; *LINES gets all non-blank lines */
static guint
script_batch_lines(const char *low, gsize n, guint *lines)
{
	static const char *const cmds[] = { "@echo", "echo ", "set ", "start ", "call ", "cmd ", "cmd.exe",
	    "if ", "for ", "goto ", "rem ", "::", "%~", "del ", "copy ", "timeout ", "exit /b",
	    "powershell", "curl ", "bitsadmin", "certutil", NULL };
	guint hits = 0;

	*lines = 0;
	for (gsize i = 0; i < n;) {
		const char *nl = memchr(low + i, '\n', n - i);
		gsize e = nl != NULL ? (gsize)(nl - low) : n, s = i;

		while (s < e && g_ascii_isspace(low[s]))
			s++;
		if (s < e) {
			(*lines)++;
			for (gsize k = 0; cmds[k] != NULL; k++)
				if (e - s >= strlen(cmds[k]) && memcmp(low + s, cmds[k], strlen(cmds[k])) == 0) {
					hits++;
					break;
				}
		}
		i = e + 1;
	}
	return hits;
}

const char *
lure_script_language(const guint8 *data, gsize len)
{
	static const char *const ps[] = { "$env:", "new-object", "invoke-", "-join", "[system.",
	    "[convert]", "write-host", "start-process", "param(", "$psscriptroot", "-erroraction",
	    "out-null", "[io.", "iex", NULL };
	static const char *const vbs[] = { "createobject(", "wscript.", "dim ", "end sub",
	    "end function", "on error resume next", "msgbox", "execute", NULL };
	static const char *const winjs[] = { "activexobject", "wscript.", "getobject(", NULL };
	static const char *const html[] = { "<html", "<head", "<body", "<script", NULL };
	GByteArray *text;
	g_autofree char *low = NULL;
	const char *lang = NULL;
	guint lines, cmds;
	gsize n;

	if (len == 0 || !script_is_text(data, len))
		return NULL;
	text = script_read(data, MIN(len, 8192));
	n = text->len;
	low = g_ascii_strdown((const char *)text->data, (gssize)n);
	g_byte_array_unref(text);
	n = strlen(low);	/* a NUL in UTF-16 text ends it */
	if (memmem(low, n, "<hta:application", 16) != NULL)
		lang = "hta";
	else if (memmem(low, n, "<job", 4) != NULL || memmem(low, n, "<package", 8) != NULL ||
	    memmem(low, n, "<scriptlet", 10) != NULL || memmem(low, n, "<component", 10) != NULL)
		lang = memmem(low, n, "<script", 7) != NULL ? "wsf" : NULL;
	else if (script_markers(low, n, html) > 0)
		lang = script_markers(low, n, winjs) > 0 || memmem(low, n, "vbscript", 8) != NULL ||
		    memmem(low, n, "createobject(", 13) != NULL ? "hta" : NULL;
	else if (g_str_has_prefix(low, "@echo") || g_str_has_prefix(low, "::") ||
	    g_str_has_prefix(low, "rem "))
		lang = "batch";
	else if (script_markers(low, n, vbs) >= 2)
		lang = "vbscript";
	else if (script_markers(low, n, winjs) > 0 && (memmem(low, n, "var ", 4) != NULL ||
	    memmem(low, n, "function", 8) != NULL || memmem(low, n, "new ", 4) != NULL))
		lang = "jscript";
	else if (script_markers(low, n, ps) >= 2)
		lang = "powershell";
	else if ((cmds = script_batch_lines(low, n, &lines)) >= 2 || (cmds == 1 && lines <= 3))
		lang = "batch";
	return lang;
}
