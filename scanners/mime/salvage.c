/*
 * salvage.c - the lenient second reading of a raw message
 *
 * In: the raw message and the report after the GMime inventory. Out:
 * salvaged parts and mime.ambiguous findings for what a lenient client would
 * open but the inventory does not show. See salvage.h for the why.
 *
 * One pass over the lines: a header block starts at the top of the message
 * or right after a line beginning with "--" (any boundary, well-formed or
 * not, also behind blanks and a bare CR), a blank line after it skipped when
 * Content-* headers follow; its body ends at the next such line. Header
 * lines also end at a bare CR that a header follows, and a folded line that
 * reads as a Content-* header is one. Container blocks (multipart, message)
 * are not decoded: their children are blocks of their own. Text bodies are
 * searched for files uuencoded or yEnc-encoded inline, which are shown
 * without a finding. When a reading differs from the inventory, the
 * mime.ambiguous evidence says which lenient rule made it differ. At most
 * max_parts blocks are read. Linear in the message size.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "moat/names.h"
#include "moat/salvage.h"
#include "moat/sha256.h"
#include "moat/sniff.h"

#define SALVAGE_HEADER_MAX 16384	/* unfolded header bytes kept per block */
#define SALVAGE_PARAMS_MAX 64		/* name parameters read per header */
#define SALVAGE_INLINE_MAX 16		/* inline uuencoded (and yEnc) files read per text body */

enum salvage_enc { ENC_NONE, ENC_BASE64, ENC_UU, ENC_QP, ENC_YENC };

struct salvage_block {
	GString *ctype;		/* every Content-Type value, "\n"-joined */
	GString *cdisp;		/* every Content-Disposition value */
	GString *cte;		/* every Content-Transfer-Encoding value */
	gsize body_start;
	const char *quirk;	/* static: how the lenient reading found this block, or NULL */
};

/* salvage_line_end - offset of the end of the line at POS (its '\n' or LEN) */
static gsize
salvage_line_end(const guchar *raw, gsize len, gsize pos)
{
	const guchar *nl = memchr(raw + pos, '\n', len - pos);

	return nl ? (gsize)(nl - raw) : len;
}

static gboolean
salvage_is_dashes(const guchar *raw, gsize len, gsize pos)
{
	return pos + 1 < len && raw[pos] == '-' && raw[pos + 1] == '-';
}

static gboolean
salvage_is_blank(const guchar *raw, gsize pos, gsize end)
{
	return end == pos || (end == pos + 1 && raw[pos] == '\r');
}

/* salvage_header_name - length of a header name at POS followed by ':' (spaces allowed), or 0 */
static gsize
salvage_header_name(const guchar *raw, gsize pos, gsize end, gsize *colon)
{
	gsize i = pos;

	while (i < end && (g_ascii_isalnum(raw[i]) || raw[i] == '-' || raw[i] == '_'))
		i++;
	if (i == pos)
		return 0;
	*colon = i;
	while (*colon < end && (raw[*colon] == ' ' || raw[*colon] == '\t'))
		(*colon)++;
	return *colon < end && raw[*colon] == ':' ? i - pos : 0;
}

/*
 * salvage_header_line_end - where the header line at POS ends for a client
 * that also ends lines at a bare CR: its '\n', or the first CR before it
 * that a header name and ':' follow ("X-Foo: bar\rContent-Transfer-Encoding:
 * base64"; RFC 5322 allows CR only before LF). *BARE_CR is set then.
 */
static gsize
salvage_header_line_end(const guchar *raw, gsize len, gsize pos, gboolean *bare_cr)
{
	gsize end = salvage_line_end(raw, len, pos), colon;

	for (const guchar *cr = memchr(raw + pos, '\r', end - pos); cr != NULL;
	    cr = memchr(cr + 1, '\r', end - (gsize)(cr + 1 - raw))) {
		gsize i = (gsize)(cr - raw) + 1;

		if (i < end && salvage_header_name(raw, i, end, &colon) != 0) {
			*bare_cr = TRUE;
			return i - 1;
		}
	}
	return end;
}

/* salvage_content_header - B's string for the header NAME (N bytes) when it is one we keep */
static GString *
salvage_content_header(struct salvage_block *b, const guchar *name, gsize n)
{
	if (n == 12 && g_ascii_strncasecmp((const char *)name, "content-type", n) == 0)
		return b->ctype;
	if (n == 19 && g_ascii_strncasecmp((const char *)name, "content-disposition", n) == 0)
		return b->cdisp;
	if (n == 25 && g_ascii_strncasecmp((const char *)name, "content-transfer-encoding", n) == 0)
		return b->cte;
	return NULL;
}

/*
 * salvage_read_headers - the header block at POS into B; returns the offset
 * after it (after its blank line), or POS when the line is not a header.
 */
static gsize
salvage_read_headers(struct salvage_block *b, const guchar *raw, gsize len, gsize pos)
{
	GString *cur = NULL;
	gboolean after_cr = FALSE;
	gsize colon, end, n;

	if (salvage_header_name(raw, pos, salvage_line_end(raw, len, pos), &colon) == 0)
		return pos;
	while (pos < len) {
		gboolean bare_cr = FALSE;

		end = salvage_header_line_end(raw, len, pos, &bare_cr);
		if (salvage_is_blank(raw, pos, end)) {
			pos = end < len ? end + 1 : len;
			break;
		}
		if (raw[pos] == ' ' || raw[pos] == '\t') {
			gsize p = pos;
			GString *hdr;

			/* Folded into the header before (RFC 5322 2.2.3), unless it reads as
			 * a Content-* header, as it does to a client that trims lines. */
			while (p < end && (raw[p] == ' ' || raw[p] == '\t'))
				p++;
			if ((n = salvage_header_name(raw, p, end, &colon)) != 0 &&
			    (hdr = salvage_content_header(b, raw + p, n)) != NULL) {
				cur = hdr;
				g_string_append_c(cur, '\n');
				b->quirk = "a folded header line read as a header of its own";
				pos = colon + 1;
			}
		} else if ((n = salvage_header_name(raw, pos, end, &colon)) != 0) {
			if ((cur = salvage_content_header(b, raw + pos, n)) != NULL) {
				g_string_append_c(cur, '\n');
				if (after_cr)
					b->quirk = "a header line ended by a bare CR";
			}
			pos = colon + 1;
		} else {
			break;	/* not a header: the body starts without a blank line */
		}
		if (cur != NULL && cur->len < SALVAGE_HEADER_MAX)
			g_string_append_len(cur, (const char *)raw + pos,
			    (gssize)MIN(end - pos, SALVAGE_HEADER_MAX - cur->len));
		after_cr = bare_cr;
		pos = end < len ? end + 1 : len;
	}
	b->body_start = pos;
	return pos;
}

/* One name parameter as written: name, name*, name*2, name*0* ... */
struct salvage_param {
	char family[16];	/* "ct:name", "cd:filename" */
	int section;		/* -1 when not an RFC 2231 section */
	gboolean extended;	/* charset''%xx encoded */
	int order;		/* position in the header */
	char *value;		/* as a strict reader takes it */
	char *alt;		/* as a sloppy reader may take it, or NULL */
};

static void
salvage_param_free(gpointer p)
{
	g_free(((struct salvage_param *)p)->value);
	g_free(((struct salvage_param *)p)->alt);
	g_free(p);
}

/* salvage_value - a quoted string or token at S[*i]; advances *i */
static char *
salvage_value(const char *s, gsize n, gsize *i)
{
	GString *v = g_string_new(NULL);

	if (*i < n && s[*i] == '"') {
		for ((*i)++; *i < n && s[*i] != '"' && s[*i] != '\n'; (*i)++) {
			if (s[*i] == '\\' && *i + 1 < n)
				(*i)++;
			g_string_append_c(v, s[*i]);
		}
	} else {
		for (; *i < n && s[*i] != ';' && s[*i] != '\n' && !g_ascii_isspace(s[*i]); (*i)++)
			g_string_append_c(v, s[*i]);
	}
	return g_string_free(v, FALSE);
}

/*
 * salvage_alt_value - what a sloppy client makes of the value at S[i]: the
 * rest of the line for a token (name=file;.zip), the quoted part joined to
 * what follows it (filename="file".zip), without single quotes
 * ('file.zip') or (comments). NULL when that is the strict value.
 */
static char *
salvage_alt_value(const char *s, gsize n, gsize i, const char *strict)
{
	GString *v = g_string_new(NULL);
	int depth = 0;

	for (; i < n && s[i] != '\n'; i++) {
		char ch = s[i];

		if (ch == '(')
			depth++;
		else if (ch == ')' && depth > 0)
			depth--;
		else if (depth == 0 && ch != '"' && ch != '\'' && ch != '\r')
			g_string_append_c(v, ch);
	}
	g_strstrip(v->str);
	g_string_set_size(v, strlen(v->str));
	if (v->len == 0 || strcmp(v->str, strict) == 0) {
		g_string_free(v, TRUE);
		return NULL;
	}
	return g_string_free(v, FALSE);
}

/* salvage_params - every name/filename parameter in HDR, tagged with TAG */
static void
salvage_params(GPtrArray *out, const GString *hdr, const char *tag)
{
	const char *s = hdr->str;
	gsize n = hdr->len;

	for (gsize i = 0; i < n; i++) {
		struct salvage_param *p;
		gsize k, j = i;
		const char *base;

		if (i > 0 && s[i - 1] != ';' && !g_ascii_isspace(s[i - 1]))
			continue;
		if (g_ascii_strncasecmp(s + i, "filename", 8) == 0)
			base = "filename", j += 8;
		else if (g_ascii_strncasecmp(s + i, "name", 4) == 0)
			base = "name", j += 4;
		else
			continue;
		p = g_new0(struct salvage_param, 1);
		p->section = -1;
		if (j < n && s[j] == '*') {
			j++;
			if (j < n && g_ascii_isdigit(s[j])) {
				p->section = 0;
				for (; j < n && g_ascii_isdigit(s[j]) && p->section < 1000; j++)
					p->section = p->section * 10 + (s[j] - '0');
				if (j < n && s[j] == '*')
					p->extended = TRUE, j++;
			} else {
				p->extended = TRUE;
			}
		}
		for (k = j; k < n && (s[k] == ' ' || s[k] == '\t'); k++)
			;
		if (k >= n || s[k] != '=') {
			salvage_param_free(p);
			continue;
		}
		for (k++; k < n && (s[k] == ' ' || s[k] == '\t'); k++)
			;
		g_snprintf(p->family, sizeof(p->family), "%s:%s", tag, base);
		p->order = (int)out->len;
		j = k;
		p->value = salvage_value(s, n, &k);
		if (p->section < 0)
			p->alt = salvage_alt_value(s, n, j, p->value);
		g_ptr_array_add(out, p);
		if (out->len >= SALVAGE_PARAMS_MAX)
			break;	/* past this, the header is an attack on the reader */
		i = k > i ? k - 1 : i;
	}
}

/* salvage_uncomment - HDR without RFC 5322 (comments) outside quoted strings */
static GString *
salvage_uncomment(const GString *hdr)
{
	GString *out = g_string_sized_new(hdr->len);
	gboolean quoted = FALSE;
	int depth = 0;

	for (gsize i = 0; i < hdr->len; i++) {
		char ch = hdr->str[i];

		if (ch == '"' && depth == 0)
			quoted = !quoted;
		if (!quoted && ch == '(')
			depth++;
		else if (!quoted && ch == ')' && depth > 0)
			depth--;
		else if (depth == 0)
			g_string_append_c(out, ch);
	}
	return out;
}

/* salvage_pct_decode - RFC 2231 value: drop "charset'lang'", decode %xx, to UTF-8 */
static char *
salvage_pct_decode(const char *v)
{
	g_autofree char *charset = NULL;
	GString *out = g_string_new(NULL);
	const char *q;
	char *utf8;

	/* Any section may carry charset'': sections come in the wrong order too. */
	if ((q = strchr(v, '\'')) != NULL && strchr(q + 1, '\'') != NULL &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == (gsize)(q - v)) {
		charset = g_strndup(v, (gsize)(q - v));
		v = strchr(q + 1, '\'') + 1;
	}
	for (; *v != '\0'; v++) {
		if (*v == '%' && g_ascii_isxdigit(v[1]) && g_ascii_isxdigit(v[2])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(v[1]) * 16 +
			    g_ascii_xdigit_value(v[2])));
			v += 2;
		} else {
			g_string_append_c(out, *v);
		}
	}
	/* RFC 2781: UTF-16 without a byte order mark is big-endian; iconv here guesses little. */
	if (charset != NULL && (g_ascii_strcasecmp(charset, "utf-16") == 0 ||
	    g_ascii_strcasecmp(charset, "ucs-2") == 0) && out->len >= 2 &&
	    !((guchar)out->str[0] == 0xff && (guchar)out->str[1] == 0xfe) &&
	    !((guchar)out->str[0] == 0xfe && (guchar)out->str[1] == 0xff)) {
		g_free(charset);
		charset = g_strdup("UTF-16BE");
	}
	if (charset != NULL && *charset != '\0' && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    (utf8 = g_convert(out->str, (gssize)out->len, "UTF-8", charset, NULL, NULL, NULL)) != NULL) {
		g_string_free(out, TRUE);
		return utf8;
	}
	return g_string_free(out, FALSE);
}

/*
 * salvage_utf16_word - the pattern of an RFC 2047 word's UTF-16 charset,
 * compiled at first use and shared, read-only, by every thread (a GRegex is
 * immutable and safe to match from several threads) and kept for the life
 * of the process. It used to be compiled twice per encoded file name.
 */
static GRegex *
salvage_utf16_word(void)
{
	static GRegex *re;	/* written once under g_once_init_enter() */

	if (g_once_init_enter(&re)) {
		GRegex *compiled = g_regex_new("(?i)=\\?(utf-16|ucs-2)\\?", G_REGEX_OPTIMIZE, 0, NULL);

		g_assert(compiled != NULL);	/* a constant pattern */
		g_once_init_leave(&re, compiled);
	}
	return re;
}

/* salvage_add_name - decode RFC 2047 words in RAW and add it to NAMES once */
static void
salvage_add_name(GPtrArray *names, const char *raw)
{
	g_autofree char *be = NULL;
	char *name;

	/* An RFC 2047 word in UTF-16 without a byte order mark is big-endian (RFC 2781). */
	if (strstr(raw, "=?") != NULL && g_regex_match(salvage_utf16_word(), raw, 0, NULL))
		be = g_regex_replace_literal(salvage_utf16_word(), raw, -1, 0, "=?UTF-16BE?", 0, NULL);
	name = strstr(raw, "=?") ? g_mime_utils_header_decode_text(NULL, be ? be : raw)
	    : g_utf8_make_valid(raw, -1);

	g_strstrip(name);
	for (guint i = 0; i < names->len; i++)
		if (strcmp(names->pdata[i], name) == 0)
			*name = '\0';
	if (*name == '\0')
		g_free(name);
	else
		g_ptr_array_add(names, name);
}

static gint
salvage_by_section(gconstpointer a, gconstpointer b)
{
	const struct salvage_param *pa = *(const struct salvage_param *const *)a;
	const struct salvage_param *pb = *(const struct salvage_param *const *)b;

	return pa->section - pb->section;
}

static gint
salvage_by_order(gconstpointer a, gconstpointer b)
{
	const struct salvage_param *pa = *(const struct salvage_param *const *)a;
	const struct salvage_param *pb = *(const struct salvage_param *const *)b;

	return pa->order - pb->order;
}

/* salvage_join - the RFC 2231 sections of FAMILY in PARAMS' current order, or NULL */
static char *
salvage_join(GPtrArray *params, const char *family)
{
	GString *joined = NULL;

	for (guint i = 0; i < params->len; i++) {
		const struct salvage_param *p = params->pdata[i];
		g_autofree char *v = NULL;

		if (p->section < 0 || strcmp(p->family, family) != 0)
			continue;
		v = p->extended ? salvage_pct_decode(p->value) : g_strdup(p->value);
		if (joined == NULL)
			joined = g_string_new(NULL);
		g_string_append(joined, v);
	}
	return joined ? g_string_free(joined, FALSE) : NULL;
}

/* salvage_names - every name a lenient client could give block B */
static GPtrArray *
salvage_names(const struct salvage_block *b)
{
	g_autoptr(GPtrArray) params = g_ptr_array_new_with_free_func(salvage_param_free);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	static const char *const families[] = { "ct:name", "cd:filename", "cd:name", "ct:filename" };

	salvage_params(params, b->ctype, "ct");
	salvage_params(params, b->cdisp, "cd");
	/* A client that drops comments reads filena()me=x as filename=x. */
	for (int h = 0; h < 2; h++) {
		const GString *hdr = h == 0 ? b->ctype : b->cdisp;

		if (memchr(hdr->str, '(', hdr->len) != NULL) {
			GString *plain = salvage_uncomment(hdr);

			salvage_params(params, plain, h == 0 ? "ct" : "cd");
			g_string_free(plain, TRUE);
		}
	}
	for (guint i = 0; i < params->len; i++) {
		const struct salvage_param *p = params->pdata[i];
		g_autofree char *v = NULL;

		if (p->section >= 0)
			continue;
		v = p->extended ? salvage_pct_decode(p->value) : g_strdup(p->value);
		salvage_add_name(names, v);
		if (p->alt != NULL)
			salvage_add_name(names, p->alt);
	}
	/* RFC 2231 sections: in section order, and in the order written. */
	for (gsize f = 0; f < G_N_ELEMENTS(families); f++) {
		for (int pass = 0; pass < 2; pass++) {
			char *joined;

			g_ptr_array_sort(params, pass == 0 ? salvage_by_section : salvage_by_order);
			if ((joined = salvage_join(params, families[f])) != NULL) {
				salvage_add_name(names, joined);
				g_free(joined);
			}
		}
	}
	return names;
}

/* salvage_encoding - what a lenient client makes of Content-Transfer-Encoding */
static enum salvage_enc
salvage_encoding(const GString *cte)
{
	g_autofree char *v = g_ascii_strdown(cte->str, (gssize)cte->len);

	if (strstr(v, "base64") != NULL || strstr(v, "b64") != NULL)
		return ENC_BASE64;
	if (strstr(v, "uu") != NULL)
		return ENC_UU;
	if (strstr(v, "yenc") != NULL)
		return ENC_YENC;
	if (strstr(v, "quoted") != NULL)
		return ENC_QP;
	return ENC_NONE;
}

/*
 * What one pass over a base64 body tells: whether it reads as base64 with
 * some junk in it (an evasion) rather than as prose that only claims to be
 * base64 (at most one byte in ten outside the alphabet, '=' and line
 * breaks: prose has a blank every few letters), whether it holds junk at all,
 * and whether it has blank lines. One pass: bodies are the bulk of a message.
 */
struct salvage_b64_stats {
	gboolean plausible;
	gboolean junk;		/* bytes no decoder agrees on */
	gboolean blank_line;	/* a decoder may stop there */
};

static void
salvage_b64_survey(struct salvage_b64_stats *st, const guchar *in, gsize n)
{
	gsize good = 0, bad = 0;
	guchar prev = 0, prev2 = 0;

	st->junk = FALSE;
	st->blank_line = FALSE;
	for (gsize i = 0; i < n; i++) {
		guchar c = in[i];

		if (g_ascii_isalnum(c) || c == '+' || c == '/') {
			good++;
		} else if (c != '=' && c != '\r' && c != '\n') {
			bad++;
			if (c != ' ' && c != '\t')
				st->junk = TRUE;
		} else if (c == '\n' && (prev == '\n' || (prev == '\r' && prev2 == '\n'))) {
			st->blank_line = TRUE;
		}
		prev2 = prev;
		prev = c;
	}
	st->plausible = good > 0 && bad * 10 <= good;
}

/* How sloppy decoders read base64 that has junk in it. */
enum salvage_b64_mode {
	B64_SKIP_BYTES,		/* drop each byte outside the alphabet */
	B64_CUT_LINE,		/* stop each line at its first bad byte */
	B64_DROP_LINE,		/* drop lines holding a bad byte */
	B64_DROP_ODD_LINE,	/* drop lines whose length is not a multiple of 4 */
	B64_NMODES
};

static inline int
salvage_b64_value(guchar c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* salvage_b64 - IN decoded line by line the way MODE reads junk; ignores '=' */
static void
salvage_b64(GByteArray *out, const guchar *in, gsize n, enum salvage_b64_mode mode)
{
	guint32 acc = 0;
	int bits = 0;
	gsize last = n;		/* start of the last line holding alphabet bytes */
	gsize base = out->len, o = 0;

	/* Room for the most the body can decode to; trimmed at the end. */
	g_byte_array_set_size(out, (guint)(base + n / 4 * 3 + 3));

	/* Found once, so the odd-line rule stays linear in the body. */
	for (gsize i = n; i > 0; i--) {
		if (salvage_b64_value(in[i - 1]) >= 0) {
			while (i > 0 && in[i - 1] != '\n')
				i--;
			last = i;
			break;
		}
	}

	for (gsize pos = 0, end; pos < n; pos = end + 1) {
		gsize good = 0, stop;
		gboolean bad = FALSE;

		end = salvage_line_end(in, n, pos);
		for (stop = pos; stop < end; stop++) {
			if (salvage_b64_value(in[stop]) >= 0)
				good++;
			else if (in[stop] != '=' && !g_ascii_isspace(in[stop]) && !bad) {
				bad = TRUE;
				if (mode == B64_CUT_LINE)
					break;
			}
		}
		/* An odd line is dropped unless it is the last one: that one may end short. */
		if ((mode == B64_DROP_LINE && bad) || (mode == B64_DROP_ODD_LINE && good % 4 != 0 &&
		    pos < last))
			continue;
		for (gsize i = pos; i < stop; i++) {
			int v = salvage_b64_value(in[i]);

			if (v < 0)
				continue;
			acc = (acc << 6) | (guint32)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				out->data[base + o++] = (guint8)(acc >> bits);
			}
		}
	}
	g_byte_array_set_size(out, (guint)(base + o));
}

/* salvage_uu - uuencoded lines between "begin" and "end" */
static void
salvage_uu(GByteArray *out, const guchar *in, gsize n)
{
	gsize pos = 0, end;
	/* Clients decode a uuencoded body without its "begin" line too. */
	gboolean begun = memmem(in, n, "begin ", 6) == NULL;

	for (; pos < n; pos = end + 1) {
		const guchar *l = in + pos;
		gsize ll, want;

		end = salvage_line_end(in, n, pos);
		ll = end - pos;
		if (!begun) {
			begun = ll >= 6 && memcmp(l, "begin", 5) == 0;
			continue;
		}
		if (ll >= 3 && memcmp(l, "end", 3) == 0)
			break;
		if (ll == 0 || (want = (gsize)((l[0] - ' ') & 0x3f)) == 0)
			continue;
		for (gsize i = 1; i + 3 < ll + 1 && want > 0; i += 4) {
			guchar q[4];

			for (int k = 0; k < 4; k++)
				q[k] = i + (gsize)k < ll ? (guchar)((l[i + k] - ' ') & 0x3f) : 0;
			guint8 b[3] = { (guint8)(q[0] << 2 | q[1] >> 4), (guint8)(q[1] << 4 | q[2] >> 2),
			    (guint8)(q[2] << 6 | q[3]) };
			g_byte_array_append(out, b, (guint)MIN(want, 3));
			want -= MIN(want, 3);
		}
	}
}

/*
 * Quoted-printable that decoders read apart. RFC 2045 6.7 (3) makes blanks
 * after a line's final '=' transport padding, so "=41= \n" is a soft line
 * break after "A"; GMime keeps "= " and the line break as text. And RFC
 * 2045 wants upper-case hex: GMime decodes "=0a" too, a strict decoder
 * drops it as junk. An encoder writes one case; a body that mixes "=0a"
 * with "=4B" was written for the decoders to disagree.
 */
struct salvage_qp_stats {
	gboolean padded;	/* '=', blanks, then the line break */
	gboolean mixed;		/* escapes with lower-case and with upper-case hex */
};

static void
salvage_qp_survey(struct salvage_qp_stats *st, const guchar *in, gsize n)
{
	gboolean lower = FALSE, upper = FALSE;

	st->padded = FALSE;
	for (const guchar *q = memchr(in, '=', n); q != NULL;
	    q = memchr(q + 1, '=', n - (gsize)(q + 1 - in))) {
		gsize i = (gsize)(q - in) + 1, k = i;

		if (i + 1 < n && g_ascii_isxdigit(in[i]) && g_ascii_isxdigit(in[i + 1])) {
			lower |= g_ascii_islower(in[i]) || g_ascii_islower(in[i + 1]);
			upper |= g_ascii_isupper(in[i]) || g_ascii_isupper(in[i + 1]);
			continue;
		}
		while (k < n && (in[k] == ' ' || in[k] == '\t'))
			k++;
		if (k > i && (k == n || in[k] == '\r' || in[k] == '\n'))
			st->padded = TRUE;
	}
	st->mixed = lower && upper;
}

/* How a reading rewrites quoted-printable before RFC 2045's decoder runs. */
enum salvage_qp_mode {
	QP_UNPAD = 1,		/* drop the blanks between a final '=' and the line break */
	QP_DROP_LOWER,		/* drop escapes with lower-case hex ("=0a") */
	QP_NMODES
};

/* salvage_qp_rewrite - IN as MODE reads it; caller frees */
static GByteArray *
salvage_qp_rewrite(const guchar *in, gsize n, enum salvage_qp_mode mode)
{
	GByteArray *out = g_byte_array_sized_new((guint)n);

	for (gsize i = 0; i < n; i++) {
		if (in[i] == '=' && mode == QP_UNPAD) {
			gsize k = i + 1;

			while (k < n && (in[k] == ' ' || in[k] == '\t'))
				k++;
			if (k > i + 1 && (k == n || in[k] == '\r' || in[k] == '\n')) {
				g_byte_array_append(out, in + i, 1);
				i = k - 1;
				continue;
			}
		} else if (in[i] == '=' && mode == QP_DROP_LOWER && i + 2 < n &&
		    g_ascii_isxdigit(in[i + 1]) && g_ascii_isxdigit(in[i + 2]) &&
		    (g_ascii_islower(in[i + 1]) || g_ascii_islower(in[i + 2]))) {
			i += 2;
			continue;
		}
		g_byte_array_append(out, in + i, 1);
	}
	return out;
}

/*
 * salvage_yenc - yEnc lines after "=ybegin" (all lines when there is none)
 * up to "=yend": each byte less 42, the byte after an '=' less 64 more.
 * yEnc escapes CR and LF in the data, so a raw one only ends a line.
 */
static void
salvage_yenc(GByteArray *out, const guchar *in, gsize n)
{
	gboolean begun = memmem(in, n, "=ybegin", 7) == NULL;
	gsize base = out->len, o = 0;

	g_byte_array_set_size(out, (guint)(base + n));
	for (gsize pos = 0, end; pos < n; pos = end + 1) {
		end = salvage_line_end(in, n, pos);
		if (end - pos >= 2 && in[pos] == '=' && in[pos + 1] == 'y') {
			if (begun && end - pos >= 5 && memcmp(in + pos, "=yend", 5) == 0)
				break;
			begun = begun || (end - pos >= 7 && memcmp(in + pos, "=ybegin", 7) == 0);
			continue;	/* =ybegin, =ypart */
		}
		for (gsize i = pos; begun && i < end; i++) {
			guchar ch = in[i];

			if (ch == '\r')
				continue;
			if (ch == '=' && ++i < end)
				ch = (guchar)(in[i] - 64);
			else if (ch == '=')
				break;
			out->data[base + o++] = (guint8)(ch - 42);
		}
	}
	g_byte_array_set_size(out, (guint)(base + o));
}

/* salvage_decode - the body IN as a lenient client decodes it */
static GByteArray *
salvage_decode(enum salvage_enc enc, enum salvage_b64_mode mode, const guchar *in, gsize n)
{
	GByteArray *out = g_byte_array_sized_new((guint)MIN(n, 1u << 20));

	switch (enc) {
	case ENC_BASE64:
		salvage_b64(out, in, n, mode);
		break;
	case ENC_UU:
		salvage_uu(out, in, n);
		break;
	case ENC_YENC:
		salvage_yenc(out, in, n);
		break;
	case ENC_QP: {
		int state = 0;
		guint32 save = 0;

		g_byte_array_set_size(out, (guint)n + 4);
		g_byte_array_set_size(out, (guint)g_mime_encoding_quoted_decode_step(in, n,
		    out->data, &state, &save));
		break;
	}
	case ENC_NONE:
		g_byte_array_append(out, in, (guint)n);
		break;
	}
	return out;
}

/* A boundary the lenient reading splits at, as some reader takes the parameter. */
struct salvage_bd {
	char *val;
	const char *quirk;	/* static: how a lenient client reads it so, NULL for a plain reading */
};

static void
salvage_bd_free(gpointer p)
{
	g_free(((struct salvage_bd *)p)->val);
	g_free(p);
}

struct salvage_ctx {
	struct moat_report *rep;
	const struct moat_conf *conf;
	const struct moat_leaf_hook *hook;	/* borrowed, may be NULL */
	GPtrArray *boundaries;	/* struct salvage_bd *: every boundary declared so far, unquoted */
	GPtrArray *strict;	/* char *: the message's own boundaries as a strict parser reads them */
	gboolean top;		/* reading the message's own header block */
	guint blocks;		/* header blocks read, at most max_parts */
	guint added;
};

/*
 * salvage_is_container - a multipart or message block: its children are
 * blocks of their own. Not when it is encoded (RFC 2045 6.4 forbids that
 * for a multipart, so a client that decodes it sees a leaf) or is a
 * multipart without a boundary (nothing can split it: it is one body).
 */
static gboolean
salvage_is_container(const struct salvage_block *b)
{
	g_autofree char *v = g_ascii_strdown(b->ctype->str, (gssize)b->ctype->len);

	if (salvage_encoding(b->cte) != ENC_NONE)
		return FALSE;
	if (strstr(v, "multipart") != NULL)
		return strstr(v, "boundary") != NULL;
	return strstr(v, "message/") != NULL;
}

/* salvage_first_type - the first declared Content-Type, lower-case, without parameters */
static char *
salvage_first_type(const struct salvage_block *b)
{
	const char *s = b->ctype->str;
	gsize n;

	while (*s == '\n' || g_ascii_isspace(*s))
		s++;
	n = strcspn(s, ";\n\r \t");
	return n ? g_ascii_strdown(s, (gssize)n) : g_strdup("application/octet-stream");
}

/* salvage_add_part - the salvaged part NAME with DATA (taken) into the inventory */
static struct moat_part *
salvage_add_part(struct salvage_ctx *c, const struct salvage_block *b, const char *name,
    GByteArray *data, const char *sha)
{
	g_autoptr(GPtrArray) path = g_ptr_array_new_with_free_func(g_free);
	struct moat_part *p;

	c->added++;
	g_ptr_array_add(path, name ? g_strdup(name) : g_strdup_printf("(lenient part %u)", c->added));
	p = report_part_new(c->rep, path);
	p->id = g_strdup_printf("lenient.%u", c->added);
	p->salvaged = TRUE;
	p->content_type = salvage_first_type(b);
	p->filename = g_strdup(name);
	p->disp_filename = g_strdup(name);	/* so the name checks see it */
	p->transfer_encoding = g_strstrip(g_ascii_strdown(b->cte->str, (gssize)b->cte->len));
	if (*p->transfer_encoding == '\0')
		g_clear_pointer(&p->transfer_encoding, g_free);
	p->is_attachment = TRUE;
	p->decoded_size = data->len;
	g_strlcpy(p->sha256, sha, sizeof(p->sha256));
	p->sniffed = sniff_type(data->data, MIN(data->len, SNIFF_HEAD_BYTES), NULL);
	if (c->hook != NULL)
		c->hook->fn(c->hook->ctx, p, data->data, data->len);
	if (c->rep->kept + data->len <= c->conf->limits.max_decoded_bytes) {
		c->rep->kept += data->len;
		p->content = g_byte_array_free_to_bytes(data);
	} else {
		g_byte_array_unref(data);
	}
	return p;
}

/* salvage_hidden_name - a name whose extension none of PART's declared names has, or NULL */
static const char *
salvage_hidden_name(const struct moat_part *part, GPtrArray *names)
{
	g_autofree char *e1 = names_extension(part->disp_filename);
	g_autofree char *e2 = names_extension(part->type_name);

	for (guint i = 0; i < names->len; i++) {
		g_autofree char *e = names_extension(names->pdata[i]);
		gboolean word = e != NULL && *e != '\0';

		for (const char *q = e; word && *q != '\0'; q++)
			word = g_ascii_isalnum(*q);
		/* Only a real extension counts: "pdf; size=12" is parameter soup. */
		if (word && g_strcmp0(e, e1) != 0 && g_strcmp0(e, e2) != 0)
			return names->pdata[i];
	}
	return NULL;
}

/*
 * salvage_compare - DATA (taken) against the inventory: new bytes, or known
 * bytes under another name, become a salvaged part. The first difference in
 * a block gets a mime.ambiguous finding; *EXTRA counts the further readings.
 */
/*
 * salvage_match - the part (inventoried or salvaged) holding DATA, or NULL:
 * one that also carries every extension of NAMES when there is one (the
 * same bytes often come twice, a meeting invitation's text/calendar and its
 * invite.ics attachment), else the first. Sizes first, then the kept bytes;
 * a SHA-256 (SHA, computed once; "" until then) only for parts whose bytes
 * were not kept.
 * Hashing every candidate would double the cost of the inventory, which
 * hashes every part already.
 */
static struct moat_part *
salvage_match(struct salvage_ctx *c, const GByteArray *data, GPtrArray *names,
    char sha[SHA256_HEX_LEN + 1])
{
	struct moat_part *first = NULL;

	for (guint i = 0; i < c->rep->parts->len; i++) {
		struct moat_part *p = c->rep->parts->pdata[i];

		if (p->parent != NULL || p->decoded_size != data->len)
			continue;	/* container members are not MIME parts */
		if (p->content != NULL) {
			if (memcmp(g_bytes_get_data(p->content, NULL), data->data, data->len) != 0)
				continue;
		} else {
			if (*sha == '\0')
				sha256_hex(data->data, data->len, sha);
			if (strcmp(p->sha256, sha) != 0)
				continue;
		}
		if (salvage_hidden_name(p, names) == NULL)
			return p;
		if (first == NULL)
			first = p;
	}
	return first;
}

/* salvage_how - ": QUIRK; WHY", what made a reading differ, for the evidence; caller frees */
static char *
salvage_how(const char *quirk, const char *why)
{
	if (quirk != NULL && why != NULL)
		return g_strdup_printf(": %s; %s", quirk, why);
	if (quirk != NULL || why != NULL)
		return g_strdup_printf(": %s", quirk != NULL ? quirk : why);
	return g_strdup("");
}

static void
salvage_compare(struct salvage_ctx *c, const struct salvage_block *b, GPtrArray *names,
    GByteArray *data, const char *why, struct moat_finding **found, guint *extra)
{
	g_autofree char *how = NULL;
	char sha[SHA256_HEX_LEN + 1] = "";
	struct moat_part *match = salvage_match(c, data, names, sha);
	const char *hidden = match ? salvage_hidden_name(match, names) : NULL;
	struct moat_part *p;

	if (match != NULL && hidden == NULL) {
		g_byte_array_unref(data);
		return;
	}
	if (*sha == '\0')
		sha256_hex(data->data, data->len, sha);
	p = salvage_add_part(c, b, match ? hidden : names->len ? names->pdata[0] : NULL, data, sha);
	if (*found != NULL) {
		(*extra)++;
		return;
	}
	how = salvage_how(b->quirk, why);
	if (match == NULL)
		*found = report_add_finding_at(c->rep, "mime.ambiguous", p,
		    "a lenient reading finds %" G_GUINT64_FORMAT " bytes (%s) that the MIME parse "
		    "does not show%s", p->decoded_size, p->sniffed, how);
	else
		*found = report_add_finding_at(c->rep, "mime.ambiguous", p,
		    "the MIME parse names part %s '%s', a lenient reading '%s'%s", match->id,
		    match->filename ? match->filename : "", hidden, how);
}

/* salvage_reading - DATA (taken; WHY: static, what this reading does differently, or NULL) */
static void
salvage_reading(struct salvage_ctx *c, const struct salvage_block *b, GPtrArray *names,
    GByteArray *data, const char *why, struct moat_finding **found, guint *extra)
{
	if (data->len == 0)
		g_byte_array_unref(data);
	else
		salvage_compare(c, b, names, data, why, found, extra);
}

/*
 * salvage_qp_readings - the quoted-printable body IN read the ways of
 * enum salvage_qp_mode that apply to it (each costs a copy, so only then).
 */
static void
salvage_qp_readings(struct salvage_ctx *c, const struct salvage_block *b, GPtrArray *names,
    const guchar *in, gsize n, struct moat_finding **found, guint *extra)
{
	static const char *const why[QP_NMODES] = {
		[QP_UNPAD] = "quoted-printable '=' then blanks read as a soft line break "
		    "(RFC 2045 6.7), where GMime keeps them as text",
		[QP_DROP_LOWER] = "quoted-printable escapes in both cases, the lower-case ones "
		    "(invalid, RFC 2045 6.7) dropped, where GMime decodes them",
	};
	struct salvage_qp_stats st;

	salvage_qp_survey(&st, in, n);
	for (int m = QP_UNPAD; m < QP_NMODES && !report_over_budget(c->rep); m++) {
		GByteArray *pre;

		if ((m == QP_UNPAD && !st.padded) || (m == QP_DROP_LOWER && !st.mixed))
			continue;
		pre = salvage_qp_rewrite(in, n, (enum salvage_qp_mode)m);
		salvage_reading(c, b, names, salvage_decode(ENC_QP, 0, pre->data, pre->len), why[m],
		    found, extra);
		g_byte_array_unref(pre);
	}
}

/*
 * Inline uuencode: a text body that carries "begin 644 name", lines of
 * uuencode and "end" (mail before MIME, and some mailers still). GMime
 * shows text; Outlook and Thunderbird show an attachment.
 */

/* salvage_uu_begin - the name on the "begin 644 name" line IN[P..END), or NULL; caller frees */
static char *
salvage_uu_begin(const guchar *in, gsize p, gsize end)
{
	gsize i = p + 6, digits = 0;

	while (end > p && g_ascii_isspace(in[end - 1]))
		end--;
	if (end - p < 6 || memcmp(in + p, "begin ", 6) != 0)
		return NULL;
	for (; i < end && in[i] >= '0' && in[i] <= '7'; i++)
		digits++;
	if (digits < 3 || digits > 4 || i >= end || in[i] != ' ')
		return NULL;
	while (i < end && in[i] == ' ')
		i++;
	return i < end ? g_strndup((const char *)in + i, end - i) : NULL;
}

/* salvage_uu_line_ok - whether IN[P..END) is a line of uuencode: as long as its first byte says */
static gboolean
salvage_uu_line_ok(const guchar *in, gsize p, gsize end)
{
	gsize want, ll;

	while (end > p && in[end - 1] == '\r')
		end--;
	if (end == p || in[p] < ' ' || in[p] > '`')
		return FALSE;
	want = (gsize)((in[p] - ' ') & 0x3f);
	ll = end - p - 1;
	for (gsize i = p; i < end; i++)
		if (in[i] < ' ' || in[i] > '`')
			return FALSE;
	/* encoders pad the last group, some add a check byte */
	return want > 0 && ll >= (want * 4 + 2) / 3 && ll <= (want + 2) / 3 * 4 + 2;
}

/* salvage_inline_add - DATA (taken), the file NAME (taken) inside a text body, unless the inventory has it */
static void
salvage_inline_add(struct salvage_ctx *c, const struct salvage_block *b, char *name,
    GByteArray *data, const char *cte)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	char sha[SHA256_HEX_LEN + 1] = "";
	struct moat_part *p;

	g_ptr_array_add(names, name);
	if (data->len == 0 || salvage_match(c, data, names, sha) != NULL) {
		g_byte_array_unref(data);
		return;
	}
	if (*sha == '\0')
		sha256_hex(data->data, data->len, sha);
	p = salvage_add_part(c, b, name, data, sha);
	g_free(p->content_type);
	p->content_type = g_strdup("application/octet-stream");
	g_free(p->transfer_encoding);
	p->transfer_encoding = g_strdup(cte);
}

/* salvage_inline_stop - the end of the first line from FROM on that starts with LAST, or N */
static gsize
salvage_inline_stop(const guchar *in, gsize n, gsize from, const char *last)
{
	gsize ll = strlen(last);

	for (gsize pos = from; pos < n; pos = salvage_line_end(in, n, pos) + 1)
		if (n - pos >= ll && memcmp(in + pos, last, ll) == 0)
			return salvage_line_end(in, n, pos);
	return n;
}

/*
 * salvage_line_with - the offset of the first line at or after P in IN (N
 * bytes) that starts with PREFIX, or N. P must be at a line start. Lines
 * are stepped over with memchr(): a text body is read about ten times
 * faster than memmem() reads it for a word that may sit anywhere.
 */
static gsize
salvage_line_with(const guchar *in, gsize n, gsize p, const char *prefix)
{
	gsize plen = strlen(prefix);

	while (p < n) {
		const guchar *nl;

		if (n - p >= plen && memcmp(in + p, prefix, plen) == 0)
			return p;
		if ((nl = memchr(in + p, '\n', n - p)) == NULL)
			break;
		p = (gsize)(nl - in) + 1;
	}
	return n;
}

/*
 * salvage_inline_uu - each file uuencoded inline in the text body IN. It
 * becomes a salvaged part without a finding: once shown it is scanned like
 * any attachment, and mail that carries files this way is not a trick.
 */
static void
salvage_inline_uu(struct salvage_ctx *c, const struct salvage_block *b, const guchar *in, gsize n)
{
	guint files = 0;

	for (gsize p = 0; files < SALVAGE_INLINE_MAX && !report_over_budget(c->rep);) {
		gsize end, stop;
		char *name;

		if ((p = salvage_line_with(in, n, p, "begin ")) >= n)
			return;
		end = salvage_line_end(in, n, p);
		if (end >= n ||
		    !salvage_uu_line_ok(in, end + 1, salvage_line_end(in, n, end + 1)) ||
		    (name = salvage_uu_begin(in, p, end)) == NULL) {
			p = end;
			continue;
		}
		stop = salvage_inline_stop(in, n, end + 1, "end");
		salvage_inline_add(c, b, name, salvage_decode(ENC_UU, 0, in + p, stop - p), "x-uuencode");
		files++;
		p = stop;
	}
}

/* salvage_yenc_name - the name on the "=ybegin line=128 size=186 name=x" line IN[P..END), or NULL; caller frees */
static char *
salvage_yenc_name(const guchar *in, gsize p, gsize end)
{
	const guchar *nm;

	while (end > p && g_ascii_isspace(in[end - 1]))
		end--;
	if (end - p < 8 || memcmp(in + p, "=ybegin ", 8) != 0 ||
	    memmem(in + p, end - p, " size=", 6) == NULL ||
	    (nm = memmem(in + p, end - p, " name=", 6)) == NULL || nm + 6 >= in + end)
		return NULL;
	return g_strndup((const char *)nm + 6, (gsize)(in + end - nm - 6));	/* the rest of the line */
}

/*
 * salvage_inline_yenc - each yEnc file ("=ybegin ... size= ... name=" up to
 * "=yend") in the text body IN, as salvage_inline_uu() does for uuencode:
 * Thunderbird decodes yEnc in untyped text too.
 */
static void
salvage_inline_yenc(struct salvage_ctx *c, const struct salvage_block *b, const guchar *in, gsize n)
{
	guint files = 0;

	for (gsize p = 0; files < SALVAGE_INLINE_MAX && !report_over_budget(c->rep);) {
		gsize end, stop;
		char *name;

		if ((p = salvage_line_with(in, n, p, "=ybegin ")) >= n)
			return;
		end = salvage_line_end(in, n, p);
		if ((name = salvage_yenc_name(in, p, end)) == NULL) {
			p = end;
			continue;
		}
		stop = salvage_inline_stop(in, n, end + 1, "=yend");
		salvage_inline_add(c, b, name, salvage_decode(ENC_YENC, 0, in + p, stop - p), "x-yencode");
		files++;
		p = stop;
	}
}

/* salvage_is_text - a block that declares a text type, or none */
static gboolean
salvage_is_text(const struct salvage_block *b)
{
	g_autofree char *type = salvage_first_type(b);

	return b->ctype->len == 0 || g_str_has_prefix(type, "text/");
}

/*
 * salvage_known - whether the base64 block B at RAW[START, END) is the body
 * of a MIME part GMime decoded already (the same bytes of the message,
 * blanks at the end aside) that every decoder reads alike (mime.c says so:
 * raw_b64_strict), under names with every extension of NAMES: a lenient
 * reading would find that part's bytes and nothing new, so the block is
 * not read again. A large attachment is most of a message, and reading it
 * again cost 16% of scanning one.
 */
static gboolean
salvage_known(struct salvage_ctx *c, GPtrArray *names, const guchar *raw, gsize start, gsize end)
{
	while (end > start && g_ascii_isspace(raw[end - 1]))
		end--;
	for (guint i = 0; i < c->rep->parts->len; i++) {
		const struct moat_part *p = c->rep->parts->pdata[i];
		gsize pe = (gsize)p->raw_end;

		if (p->parent != NULL || p->raw_end == 0 || p->raw_start != start)
			continue;
		while (pe > start && g_ascii_isspace(raw[pe - 1]))
			pe--;
		return pe == end && p->raw_b64_strict && salvage_hidden_name(p, names) == NULL;
	}
	return FALSE;
}

/*
 * salvage_leaf - decode one leaf block and compare it with the inventory.
 * Base64 with junk is read each way a sloppy decoder might; the first way
 * costs nothing extra on clean base64, the others run only on junk.
 * Quoted-printable gets its other readings only where decoders part ways.
 */
static void
salvage_leaf(struct salvage_ctx *c, const struct salvage_block *b, const guchar *raw, gsize len,
    gsize body_end)
{
	g_autoptr(GPtrArray) names = salvage_names(b);
	enum salvage_enc enc = salvage_encoding(b->cte);
	gsize start = b->body_start, end = body_end;
	struct moat_finding *found = NULL;
	guint extra = 0;
	int nmodes = 1;

	/* The line break before the next boundary belongs to the boundary. */
	if (body_end < len && end > start && raw[end - 1] == '\n')
		end--;
	if (body_end < len && end > start && raw[end - 1] == '\r')
		end--;
	if (enc == ENC_NONE && salvage_is_text(b)) {
		salvage_inline_uu(c, b, raw + start, end - start);
		salvage_inline_yenc(c, b, raw + start, end - start);
	}
	if (names->len == 0 && enc != ENC_BASE64 && enc != ENC_UU && enc != ENC_YENC)
		return;		/* a nameless text body: the inventory has it */
	if (enc == ENC_BASE64) {
		struct salvage_b64_stats st;

		if (salvage_known(c, names, raw, start, end))
			return;
		salvage_b64_survey(&st, raw + start, end - start);
		if (!st.plausible)
			return;
		/* The other readings differ from the first only on junk or blank lines. */
		if (st.junk || st.blank_line)
			nmodes = B64_NMODES;
	}
	for (int m = 0; m < nmodes && !report_over_budget(c->rep); m++)
		salvage_reading(c, b, names, salvage_decode(enc, (enum salvage_b64_mode)m, raw + start,
		    end - start), NULL, &found, &extra);
	if (enc == ENC_QP)
		salvage_qp_readings(c, b, names, raw + start, end - start, &found, &extra);
	if (found != NULL && extra > 0) {
		char *more = g_strdup_printf("%s; %u more reading%s", found->evidence, extra,
		    extra == 1 ? " differs" : "s differ");

		g_free(found->evidence);
		found->evidence = more;
	}
}

/* salvage_add_boundary - VAL (taken, may be NULL; blanks around it dropped when STRIP) into C */
static void
salvage_add_boundary(struct salvage_ctx *c, char *val, gboolean strip, const char *quirk)
{
	struct salvage_bd *bd;

	if (val != NULL && strip)
		g_strstrip(val);
	if (val == NULL || *val == '\0' || c->boundaries->len >= 64) {
		g_free(val);
		return;
	}
	bd = g_new(struct salvage_bd, 1);
	bd->val = val;
	bd->quirk = quirk;
	g_ptr_array_add(c->boundaries, bd);
}

/* salvage_add_boundaries - the boundary parameters of block B, unquoted, into C */
static void
salvage_add_boundaries(struct salvage_ctx *c, const struct salvage_block *b)
{
	const char *s = b->ctype->str;

	for (const char *p = s; (p = g_strstr_len(p, -1, "oundary")) != NULL; p++) {
		const char *v = p + 7, *q;
		gsize i = 0, n;
		char *val;

		if (p == s || g_ascii_tolower(p[-1]) != 'b')
			continue;
		while (*v == '*' || g_ascii_isdigit(*v) || *v == ' ' || *v == '\t')
			v++;
		if (*v++ != '=')
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		n = strcspn(v, ";\n");
		val = salvage_value(v, n, &i);
		if (*val != '\0' && c->top && c->strict->len < 8)
			g_ptr_array_add(c->strict, g_strdup(val));
		/* Also as a sloppy client reads it: quotes and comments dropped, blanks kept. */
		salvage_add_boundary(c, salvage_alt_value(v, n, 0, val), TRUE, NULL);
		/* RFC 2045 5.1 quotes with '"' only; a client that takes '\'' as a quote
		 * too reads ' b' as " b", blanks and all. */
		if (*v == '\'' && n > 2 && (q = memchr(v + 1, '\'', n - 1)) != NULL)
			salvage_add_boundary(c, g_strndup(v + 1, (gsize)(q - v - 1)), FALSE,
			    "a boundary parameter in single quotes, blanks kept");
		salvage_add_boundary(c, val, TRUE, NULL);
	}
}

/*
 * salvage_is_boundary - whether the line at POS opens a part: "--" and a
 * declared boundary (clients forgive junk after it), or "--" and any word of
 * four or more characters without blanks (a boundary the parse may have
 * read differently). Signature separators ("-- ") and diff lines ("--- a/x",
 * "---") are neither. Blanks and a bare CR may come first (" \r--b"): a
 * client that ends lines at a bare CR sees "--b" start a line. *QUIRK (when
 * not NULL) gets how only a lenient client takes the line for a boundary.
 */
static gboolean
salvage_is_boundary(const struct salvage_ctx *c, const guchar *raw, gsize len, gsize pos,
    const char **quirk)
{
	static const char *const behind_cr = "a boundary line behind a bare CR";
	gsize end, rest, p = pos;
	gboolean bare_cr = FALSE;

	if (quirk != NULL)
		*quirk = NULL;
	while (p < len && (raw[p] == ' ' || raw[p] == '\t'))
		p++;
	while (p + 1 < len && raw[p] == '\r' && raw[p + 1] != '\n')
		p++, bare_cr = TRUE;
	if (!bare_cr)
		p = pos;
	if (!salvage_is_dashes(raw, len, p))
		return FALSE;
	end = salvage_line_end(raw, len, p);
	while (end > p + 2 && g_ascii_isspace(raw[end - 1]))
		end--;
	rest = end - p - 2;
	if (rest == 0)
		return FALSE;	/* "-- ", a signature separator */
	if (quirk != NULL && bare_cr)
		*quirk = behind_cr;
	if (rest >= 4 && memchr(raw + p + 2, ' ', rest) == NULL &&
	    memchr(raw + p + 2, '\t', rest) == NULL)
		return TRUE;
	for (guint i = 0; i < c->boundaries->len; i++) {
		const struct salvage_bd *bd = c->boundaries->pdata[i];
		gsize bl = strlen(bd->val);

		if (bl <= rest && memcmp(raw + p + 2, bd->val, bl) == 0) {
			if (quirk != NULL && !bare_cr)
				*quirk = bd->quirk;
			return TRUE;
		}
	}
	if (quirk != NULL)
		*quirk = NULL;
	return FALSE;
}

/* salvage_next_boundary - the start of the next boundary line, or LEN */
static gsize
salvage_next_boundary(const struct salvage_ctx *c, const guchar *raw, gsize len, gsize pos)
{
	while (pos < len) {
		if (salvage_is_boundary(c, raw, len, pos, NULL))
			return pos;
		pos = salvage_line_end(raw, len, pos) + 1;
	}
	return len;
}

/* salvage_squeeze - S without blanks, CR and quotes, at most MAX bytes kept; caller frees */
static char *
salvage_squeeze(const guchar *s, gsize n, gsize max)
{
	GString *out = g_string_sized_new(MIN(n, max));

	for (gsize i = 0; i < n && out->len < max; i++)
		if (!g_ascii_isspace(s[i]) && s[i] != '"' && s[i] != '\'')
			g_string_append_c(out, (char)s[i]);
	return g_string_free(out, FALSE);
}

/*
 * salvage_check_delimiters - a declared boundary that never delimits a part
 * exactly, while lines that nearly match it do ("-- b", "--b YYY" for
 * "b XXX", " \r--b"): the strict parse and a lenient client split the
 * message differently, so it is ambiguous. Near means: once blanks, CR and
 * quotes are gone, the line shares at least 8 bytes and 70% of the boundary.
 */
static void
salvage_check_delimiters(struct salvage_ctx *c, const guchar *raw, gsize len)
{
	for (guint b = 0; b < c->strict->len; b++) {
		const char *bd = c->strict->pdata[b];
		gsize bl = strlen(bd), exact = 0, near = 0;
		g_autofree char *sq = salvage_squeeze((const guchar *)bd, bl, 256);
		gsize sql = strlen(sq);

		for (gsize pos = 0, end; pos < len && exact == 0; pos = end + 1) {
			gsize p = pos, common = 0;
			g_autofree char *line = NULL;

			end = salvage_line_end(raw, len, pos);
			if (end - pos >= bl + 2 && raw[pos] == '-' && raw[pos + 1] == '-' &&
			    memcmp(raw + pos + 2, bd, bl) == 0) {
				gsize r = pos + 2 + bl;

				if (r + 2 <= end && raw[r] == '-' && raw[r + 1] == '-')
					r += 2;
				while (r < end && g_ascii_isspace(raw[r]))
					r++;
				if (r == end) {
					exact++;
					continue;
				}
			}
			while (p < end && (g_ascii_isspace(raw[p])))
				p++;
			if (end - p < 3 || raw[p] != '-' || raw[p + 1] != '-' || sql < 8)
				continue;
			line = salvage_squeeze(raw + p + 2, end - p - 2, 256);
			while (line[common] != '\0' && common < sql && line[common] == sq[common])
				common++;
			if (common >= 8 && common * 10 >= sql * 7)
				near++;
		}
		if (exact == 0 && near > 0) {
			report_add_finding(c->rep, "mime.ambiguous", NULL,
			    "boundary '%s' never delimits a part as declared; %" G_GSIZE_FORMAT
			    " lines nearly do", bd, near);
			return;	/* once per message is enough */
		}
	}
}

/* salvage_is_multipart - whether block B declares a multipart type */
static gboolean
salvage_is_multipart(const struct salvage_block *b)
{
	g_autofree char *type = salvage_first_type(b);

	return g_str_has_prefix(type, "multipart/");
}

/*
 * salvage_add_closers - boundaries for a message whose header declares none
 * but whose body, from POS, holds close-delimiter lines ("--b_68c97677--"):
 * a client that guesses the structure splits at every line that starts with
 * "--b_68c97677", junk after it ("--b_68c97677 X") forgiven. Only words of
 * 8 to 200 bytes without blanks and with a letter or digit count (no "--"
 * rules of dashes); at most 8 of them.
 */
static void
salvage_add_closers(struct salvage_ctx *c, const guchar *raw, gsize len, gsize pos)
{
	guint n = 0;

	for (const guchar *q = raw + pos; q != NULL && n < 8;) {
		gsize p = (gsize)(q - raw), end = salvage_line_end(raw, len, p), e = end, wl;
		gboolean word = TRUE, alnum = FALSE;

		while (e > p && g_ascii_isspace(raw[e - 1]))
			e--;
		wl = e - p >= 4 ? e - p - 4 : 0;
		if (wl >= 8 && wl <= 200 && salvage_is_dashes(raw, len, p) && raw[e - 2] == '-' &&
		    raw[e - 1] == '-') {
			for (gsize i = p + 2; i < e - 2; i++) {
				word = word && !g_ascii_isspace(raw[i]);
				alnum = alnum || g_ascii_isalnum(raw[i]);
			}
			if (word && alnum) {
				salvage_add_boundary(c, g_strndup((const char *)raw + p + 2, wl), FALSE,
				    "a close delimiter where no boundary is declared");
				n++;
			}
		}
		q = end < len ? memmem(raw + end, len - end, "\n--", 3) : NULL;
		if (q != NULL)
			q++;
	}
}

/*
 * salvage_skip_blank - POS, or the line after it when POS is a blank line
 * and a Content-* header follows: a strict parser reads a part without
 * headers there ("--b\n\nContent-Type: ..."), a client that skips blank
 * lines after a boundary reads the headers.
 */
static gsize
salvage_skip_blank(struct salvage_block *b, const guchar *raw, gsize len, gsize pos)
{
	gsize end = salvage_line_end(raw, len, pos), next, colon, n;

	if (end >= len || !salvage_is_blank(raw, pos, end))
		return pos;
	next = end + 1;
	n = salvage_header_name(raw, next, salvage_line_end(raw, len, next), &colon);
	if (n == 0 || salvage_content_header(b, raw + next, n) == NULL)
		return pos;
	b->quirk = "a blank line between the boundary and the part's headers";
	return next;
}

/*
 * salvage_block_at - the block whose headers start at POS, right after a
 * boundary-like line (or the message's start; QUIRK: static, how only a
 * lenient client takes that line for a boundary, or NULL); returns where
 * the walk goes on, or POS when no header block starts there.
 */
static gsize
salvage_block_at(struct salvage_ctx *c, const guchar *raw, gsize len, gsize pos,
    const char *quirk)
{
	struct salvage_block b = { g_string_new(NULL), g_string_new(NULL), g_string_new(NULL), 0,
	    quirk };
	gsize hpos = pos > 0 ? salvage_skip_blank(&b, raw, len, pos) : pos;
	gsize after = salvage_read_headers(&b, raw, len, hpos), next = pos;

	if (after != hpos) {
		c->blocks++;
		/* Only the message's own boundary is checked for near misses:
		 * text bodies quote broken MIME headers often enough. */
		c->top = pos == 0;
		salvage_add_boundaries(c, &b);
		/* Only a message that leaves its structure to guessing: no
		 * Content-Type, or a multipart one without a boundary. */
		if (c->top && c->boundaries->len == 0 &&
		    (b.ctype->len == 0 || salvage_is_multipart(&b)))
			salvage_add_closers(c, raw, len, after);
		c->top = FALSE;
		next = after;
		if (!salvage_is_container(&b)) {
			next = salvage_next_boundary(c, raw, len, b.body_start);
			salvage_leaf(c, &b, raw, len, next);
		}
	}
	g_string_free(b.ctype, TRUE);
	g_string_free(b.cdisp, TRUE);
	g_string_free(b.cte, TRUE);
	return next;
}

guint
salvage_scan(struct moat_report *rep, const guchar *raw, gsize len,
    const struct moat_conf *conf, const struct moat_leaf_hook *hook)
{
	struct salvage_ctx c = { .rep = rep, .conf = conf, .hook = hook };
	g_autoptr(GPtrArray) boundaries = g_ptr_array_new_with_free_func(salvage_bd_free);
	g_autoptr(GPtrArray) strict = g_ptr_array_new_with_free_func(g_free);
	gboolean at_start = TRUE;
	const char *quirk = NULL;
	gsize pos = 0;

	c.boundaries = boundaries;
	c.strict = strict;
	while (pos < len && c.blocks < conf->limits.max_parts && !report_over_budget(rep)) {
		if (at_start) {
			gsize next = salvage_block_at(&c, raw, len, pos, quirk);

			if (next != pos) {
				pos = next;
				at_start = FALSE;
				continue;
			}
		}
		at_start = salvage_is_boundary(&c, raw, len, pos, &quirk);
		pos = salvage_line_end(raw, len, pos) + 1;
	}
	if (!report_over_budget(rep))
		salvage_check_delimiters(&c, raw, len);
	return c.added;
}
