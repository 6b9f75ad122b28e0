/*
 * scriptfetch.c - lure.script_downloader: a script that fetches code and runs it (T1059)
 *
 * script_download() reads a script's text (scripttext.c) for the forms of
 * download-and-run: IEX of a download (DownloadString,
 * Invoke-WebRequest), mshta/regsvr32/rundll32/msiexec given a URL,
 * WScript.Shell .Run of an interpreter with a URL, XMLHTTP + ADODB.Stream
 * SaveToFile, a hidden PowerShell that fetches, or a fetch (curl, wget,
 * certutil -urlcache, bitsadmin /transfer, Invoke-WebRequest -OutFile,
 * DownloadFile) whose output file is run later in the script (start,
 * call, Start-Process, .Run, & $f, or the file as a command of its own).
 * The line: a script that only downloads (an admin script's
 * Invoke-WebRequest -OutFile) is no downloader here; one that runs what
 * it fetched is. Each pattern is looked at SCRIPT_HITS_MAX times at most,
 * each look-around has a fixed window; reentrant.
 */
#include <string.h>

#include "script.h"

#define SCRIPT_NAME_MAX		128		/* bytes of a downloaded file's name */
#define SCRIPT_FOLLOW_MAX	(16u << 10)	/* bytes after a fetch searched for its file being run */
#define SCRIPT_NEAR		256		/* bytes between IEX and the download it runs */

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
char *
script_download(struct script_text *t)
{
	char *why;

	if ((why = script_iex_download(t)) != NULL || (why = script_remote_run(t)) != NULL ||
	    (why = script_shell_url(t)) != NULL || (why = script_stream_save(t)) != NULL ||
	    (why = script_download_run(t)) != NULL)
		return why;
	return NULL;
}

