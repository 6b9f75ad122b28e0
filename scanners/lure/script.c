/*
 * script.c - what a script attachment does: download-and-run, obfuscation (T1059)
 *
 * A part Windows runs as a script (lure_kind_of() says LURE_SCRIPT: .js
 * .jse .vbs .vbe .wsf .wsh .hta .ps1 .bat .cmd .reg ..., or HTA/WSF bytes
 * under another name), a mail attachment or an archive member, is read as
 * text and checked for two things a script attachment's name alone
 * (attach.script) does not say:
 *
 * lure.script_downloader - it fetches code and runs it (scriptfetch.c
 * reads the forms: IEX of a download, mshta or regsvr32 given a URL, a
 * fetched file run later, ...). A base64 blob in the script (-enc,
 * FromBase64String) is decoded here and read the same way; one that
 * decodes to a program is a dropper and counts too.
 *
 * lure.script_obfuscated - it hides what it does: VBE/JSE Script Encoder
 * text (#@~^), a long base64 blob handed to a decoder, code assembled
 * from char codes, a reversed URL, literals cut into short pieces and
 * glued together, carets or %VAR:~x,y% substrings in batch, backticks
 * or "{1}{0}" -f reordering in PowerShell, obfuscator.io's _0x names,
 * decoded text run by IEX/eval/Execute; weak signs (a reversal idiom, a
 * very long line, mostly punctuation, many \x escapes) count in pairs.
 *
 * This file: the entry points (lure.h), the obfuscation signs and the
 * base64 blobs. The text is read and searched by scripttext.c (UTF-16 and
 * BOMs, carets and glue squeezed out, bounded head and tail, every search
 * linear and paid for from a budget). Reentrant; buffers live for one part.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/names.h"
#include "moat/sniff.h"
#include "script.h"

#define SCRIPT_B64_MIN		200		/* base64 characters that make a blob */
#define SCRIPT_BLOBS_MAX	4		/* blobs decoded per script */
#define SCRIPT_DECODED_MAX	(64u << 10)	/* bytes of a blob decoded and read */
#define SCRIPT_LONG_LINE	10000		/* a line this long is a weak sign */

static const char *const script_lang_names[] = {
	"script", "powershell", "batch", "vbscript", "jscript", "hta", "wsf", "reg",
};

/* What a script was found to do (one of each kind is enough for the evidence). */
struct script_verdict {
	char *downloader;	/* evidence, or NULL */
	GString *obf;		/* strong signs, "; "-separated */
	GString *weak;		/* weak signs */
	guint nstrong, nweak;
};

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
