/*
 * smuggle.c - HTML smuggling: a web page that builds a file and hands it over (T1027.006)
 *
 * An HTML or SVG part (a mail body, an attachment, an archive member)
 * whose script carries a file encoded in itself (a long base64 string,
 * char codes, %XX or \xXX escapes) and saves it in the browser (Blob with
 * msSaveOrOpenBlob or URL.createObjectURL, an <a download> clicked from
 * script), or a data: URL of an archive or program: the file is made on
 * the recipient's machine, so no gateway sees an attachment. Each encoded
 * payload's first bytes are decoded (at most SNIFF_HEAD_BYTES) and sniffed
 * to say what it is. smuggle_files() (smuggle.h) decodes the payloads that
 * are files (archives, programs, disk images, scripts, shortcuts) whole,
 * for the derive stage to walk as members of the page (derive.h).
 *
 * lure.html_smuggling: a payload and a way to save it, or a data: URL of an
 * archive or program. lure.html_script_payload: a long encoded payload in
 * script that is decoded there (atob, fromCharCode, unescape) or sniffs as
 * a program, archive, disk image, script or shortcut, with no save seen;
 * or saved bytes of no known type (an encrypted-mail envelope's ciphertext,
 * a chart's data), which only tag. An Office or OpenDocument zip is a
 * document ("ooxml"): walked, not a finding of its own. Base64 may come
 * cut into string literals ("UEsDBB..." + "..." or an array joined with
 * ''): pieces of SMUGGLE_B64_PIECE characters or more join when string
 * literals glue them.
 * Inline pictures and fonts (data:image/png, data:font/woff2) are what
 * newsletters are made of and count for nothing.
 *
 * A page with no script and no data: URL of an application, or with none
 * of the markers that decode or save (atob, fromCharCode, unescape, Blob,
 * Uint8Array, msSaveOrOpenBlob, createObjectURL, download and click), is
 * not read further: what it carries stays inert text. That gate keeps the
 * cost on ham at about 2% of the scan (callgrind, 650 ham mails).
 * One linear pass per part with no backtracking, plus one memmem() per
 * marker; at most SMUGGLE_SCAN_MAX bytes of a part are read.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/names.h"
#include "moat/smuggle.h"
#include "moat/sniff.h"

/*
 * Bytes of one part read: its head and its tail (padding in the middle
 * must not push the script out of sight). A message is at most [limits]
 * max_message_bytes (12M) by default, so a mail part is read whole; only
 * a larger archive member is read in part.
 */
#define SMUGGLE_SCAN_MAX	(16u << 20)
#define SMUGGLE_TAIL		(4u << 20)	/* of SMUGGLE_SCAN_MAX, read from the end */
#define SMUGGLE_B64_MIN		4096	/* base64 characters that make a payload */
#define SMUGGLE_B64_SMALL	1024	/* ... or that do when they decode to a program or archive */
#define SMUGGLE_B64_TINY	128	/* ... or, in script, a zip of one small shortcut (~200 bytes) */
#define SMUGGLE_B64_CHUNK	64	/* a run shorter than this starts no payload ... */
#define SMUGGLE_B64_PIECE	16	/* ... unless string literals join it to the next:
					 * "UEsDBBQAAAAI" + "AGx0..." or an array joined with '' */
#define SMUGGLE_GLUE_MAX	16	/* bytes between two literals of one payload ("+\n  '") */
#define SMUGGLE_VALUES_MIN	1024	/* char codes or escapes that make a payload */
#define SMUGGLE_VALUES_SMALL	256	/* ... or that do when they are a program or archive */
#define SMUGGLE_DATA_MIN	SMUGGLE_B64_CHUNK	/* base64 chars of an archive's data: URL */
#define SMUGGLE_SNIFFS_MAX	16	/* payloads decoded per part: the rest are counted */
#define SMUGGLE_LOOKBACK	128	/* bytes before a payload searched for "data:" */
#define SMUGGLE_B64_HEAD	((SNIFF_HEAD_BYTES + 2) / 3 * 4)	/* chars decoded to sniff */
#define SMUGGLE_FILES_MAX	8	/* files of one part decoded whole (smuggle_files()) */
#define SMUGGLE_NAME_MAX	255	/* bytes of a download name the script gives */

enum smuggle_enc { SMUGGLE_BASE64, SMUGGLE_CHARCODES, SMUGGLE_ESCAPES };

/* What a save or a decoding in the part's script looks like (case matters in JavaScript). */
enum {
	M_MSSAVE = 1 << 0, M_OBJURL = 1 << 1, M_BLOB = 1 << 2, M_ATOB = 1 << 3, M_U8 = 1 << 4,
	M_FCC = 1 << 5, M_UNESC = 1 << 6, M_CLICK = 1 << 7, M_DLPROP = 1 << 8, M_DLATTR = 1 << 9,
	M_DATAURL = 1 << 10,
};

static const struct {
	const char *text;
	unsigned bit;
} smuggle_markers[] = {
	{ "msSaveOrOpenBlob", M_MSSAVE }, { "msSaveBlob", M_MSSAVE },
	{ "createObjectURL", M_OBJURL }, { "new Blob", M_BLOB }, { "new File(", M_BLOB },
	{ "atob(", M_ATOB }, { "Uint8Array", M_U8 }, { "fromCharCode", M_FCC },
	{ "unescape(", M_UNESC },
	/* after these, only pages that decode, save or download are read on */
	{ ".click()", M_CLICK }, { "dispatchEvent(", M_CLICK },
};
#define SMUGGLE_GATES	9	/* smuggle_markers[] up to here open the gate */

/* One encoded payload found in the part. */
struct smuggle_payload {
	enum smuggle_enc enc;
	gsize size;			/* decoded bytes (estimated for base64) */
	gboolean in_script;
	char media[64];			/* a data: URL's media type, lower-case, or "" */
	const char *sniffed;		/* static: sniff_type() of its first bytes, or NULL */
	const guint8 *window;		/* the window it was found in (borrowed) */
	gsize window_len, at;		/* ... and where in it its text starts */
};

struct smuggle_scan {
	const guint8 *d;		/* the window being read (borrowed) */
	gsize len;
	gboolean in_script;
	guint sniffs;			/* payloads decoded so far */
	guint npayloads;
	struct smuggle_payload best;	/* the most telling payload; size 0: none */
	guint8 *head;			/* SNIFF_HEAD_BYTES: a payload's first decoded bytes */
	gsize head_len;
	char *b64;			/* SMUGGLE_B64_HEAD: a payload's first base64 characters */
	gsize b64_len;
	GArray *files;			/* struct smuggle_payload: the files to decode whole
					 * (smuggle_files()), or NULL */
	GByteArray *out;		/* smuggle_values() writes every value here when set ... */
	gsize out_max;			/* ... at most this many */
};

static inline gboolean
smuggle_b64_char(guint8 c)
{
	return g_ascii_isalnum(c) || c == '+' || c == '/' || c == '=';
}

/* smuggle_strong - whether sniffed type T is something a user should not be handed from a page */
static gboolean
smuggle_strong(const char *t)
{
	switch (sniff_class_of(t)) {
	case SNIFF_EXECUTABLE:
	case SNIFF_SHORTCUT:
	case SNIFF_SCRIPT:
	case SNIFF_ARCHIVE:
	case SNIFF_DISK_IMAGE:
		return TRUE;
	default:
		return t != NULL && (strcmp(t, "ole2") == 0 || strcmp(t, "onenote") == 0 ||
		    strcmp(t, "chm") == 0 || strcmp(t, "script") == 0 ||
		    g_str_has_prefix(t, "encoded "));
	}
}

/*
 * smuggle_keyed - what the N bytes at HEAD are once one byte is XORed with,
 * added to or taken from each (the key that a page undoes in a loop after
 * atob() or fromCharCode()): "encoded zip", "encoded pe", ... for a file
 * moat would hold in the clear, or NULL. The key is read off the first
 * byte and must then give the whole magic, so text and random bytes do
 * not pass.
 */
static const char *
smuggle_keyed(const guint8 *head, gsize n, guint8 *key, gboolean *add)
{
	static const struct {
		const char *type;
		const guint8 *magic;
		gsize len;
	} magics[] = {
		{ "encoded zip", (const guint8 *)"PK\003\004\024\000", 6 },
		{ "encoded zip", (const guint8 *)"PK\003\004\n\000", 6 },
		{ "encoded pe", (const guint8 *)"MZ\220\000\003\000", 6 },
		{ "encoded lnk", (const guint8 *)"L\000\000\000\001\024\002\000", 8 },
		{ "encoded 7z", (const guint8 *)"7z\274\257\047\034", 6 },
		{ "encoded rar", (const guint8 *)"Rar!\032\007", 6 },
	};

	for (gsize m = 0; m < G_N_ELEMENTS(magics); m++) {
		const guint8 *want = magics[m].magic;
		guint8 x = head[0] ^ want[0], d = (guint8)(head[0] - want[0]);
		gboolean by_xor = x != 0, by_add = d != 0;

		if (n < magics[m].len)
			continue;
		for (gsize i = 1; i < magics[m].len && (by_xor || by_add); i++) {
			by_xor = by_xor && (guint8)(head[i] ^ x) == want[i];
			by_add = by_add && (guint8)(head[i] - d) == want[i];
		}
		if (by_xor || by_add) {
			if (key != NULL) {
				*key = by_xor ? x : d;
				*add = !by_xor;
			}
			return magics[m].type;
		}
	}
	return NULL;
}

/* smuggle_unkey - BYTES (taken) with the one-byte key smuggle_keyed() finds undone */
static GBytes *
smuggle_unkey(GBytes *bytes)
{
	gsize n;
	const guint8 *d = g_bytes_get_data(bytes, &n);
	guint8 key = 0, *out;
	gboolean add = FALSE;

	if (n == 0 || smuggle_keyed(d, n, &key, &add) == NULL)
		return bytes;
	out = g_malloc(n);
	for (gsize i = 0; i < n; i++)
		out[i] = add ? (guint8)(d[i] - key) : (guint8)(d[i] ^ key);
	g_bytes_unref(bytes);
	return g_bytes_new_take(out, n);
}

/*
 * smuggle_refine - T, or what a payload's N first bytes at HEAD show:
 * "ooxml" for a zip that is an Office or OpenDocument file, "encoded zip"
 * and the like for one under a one-byte key (smuggle_keyed()), "hta" for
 * an HTML application (it starts as HTML), "script" for Windows script
 * (ActiveXObject, WScript, CreateObject, PowerShell)
 */
static const char *
smuggle_refine(const char *t, const guint8 *head, gsize n)
{
	static const char *const script[] = { "activexobject", "wscript.", "createobject(", "powershell" };
	enum sniff_class cls = sniff_class_of(t);
	g_autofree char *low = NULL;
	const char *keyed;

	if (n == 0)
		return t;
	if (t != NULL && strcmp(t, "zip") == 0 &&
	    (memmem(head, n, "[Content_Types].xml", 19) != NULL ||
	    memmem(head, n, "mimetypeapplication/vnd.oasis.opendocument", 42) != NULL))
		return "ooxml";	/* a report's "download as Excel": walked, not a lure by itself */
	if ((cls == SNIFF_UNKNOWN || cls == SNIFF_TEXT) &&
	    (keyed = smuggle_keyed(head, n, NULL, NULL)) != NULL)
		return keyed;
	if (cls != SNIFF_TEXT)
		return t;
	low = g_malloc(n);
	for (gsize i = 0; i < n; i++)
		low[i] = g_ascii_tolower(head[i]);
	if (memmem(low, n, "<hta:application", 16) != NULL)
		return "hta";
	for (gsize i = 0; i < G_N_ELEMENTS(script); i++)
		if (memmem(low, n, script[i], strlen(script[i])) != NULL)
			return "script";
	return t;
}

/* smuggle_file_media - whether data: media type M is an archive, disk image or program */
static gboolean
smuggle_file_media(const char *m)
{
	static const char *const types[] = {
		"application/zip", "application/x-zip", "application/x-zip-compressed",
		"application/x-7z-compressed", "application/x-rar", "application/x-rar-compressed",
		"application/vnd.rar", "application/gzip", "application/x-gzip", "application/x-tar",
		"application/vnd.ms-cab-compressed", "application/x-iso9660-image",
		"application/x-cd-image", "application/x-raw-disk-image", "application/x-vhd",
		"application/x-apple-diskimage", "application/x-msdownload",
		"application/x-msdos-program", "application/x-dosexec", "application/x-executable",
		"application/vnd.microsoft.portable-executable", "application/x-msi",
		"application/x-ms-shortcut", "application/hta", "application/x-ms-installer",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
		if (strcmp(m, types[i]) == 0)
			return TRUE;
	return FALSE;
}

/* smuggle_data_media - the media type of a "data:TYPE[;...];base64," ending at END (exclusive), or FALSE */
static gboolean
smuggle_data_media(const struct smuggle_scan *s, gsize end, char *out, gsize outsz)
{
	static const char b64tag[] = ";base64,";
	gsize from = end > SMUGGLE_LOOKBACK ? end - SMUGGLE_LOOKBACK : 0, at = G_MAXSIZE, n = 0;

	if (end < sizeof(b64tag) - 1 ||
	    g_ascii_strncasecmp((const char *)s->d + end - 8, b64tag, 8) != 0)
		return FALSE;
	for (gsize i = end - 8; i >= from + 5; i--)
		if (g_ascii_strncasecmp((const char *)s->d + i - 5, "data:", 5) == 0) {
			at = i;
			break;
		}
	if (at == G_MAXSIZE)
		return FALSE;
	while (at + n < end - 8 && n + 1 < outsz && s->d[at + n] != ';' && s->d[at + n] != ',') {
		out[n] = g_ascii_tolower(s->d[at + n]);
		n++;
	}
	out[n] = '\0';
	return TRUE;
}

/* smuggle_keep - P found: count it, and keep it as the part's evidence when it tells more */
static void
smuggle_keep(struct smuggle_scan *s, struct smuggle_payload *p)
{
	gboolean strong = smuggle_strong(p->sniffed), best_strong = smuggle_strong(s->best.sniffed);
	gboolean file = *p->media != '\0' && smuggle_file_media(p->media);
	gboolean best_file = *s->best.media != '\0' && smuggle_file_media(s->best.media);
	gboolean office = p->sniffed != NULL && strcmp(p->sniffed, "ooxml") == 0;
	gboolean page = p->in_script && p->sniffed != NULL && strcmp(p->sniffed, "html") == 0;

	/*
	 * A document is walked too, for the macro and template checks; so is a
	 * page that script writes out (document.write(unescape(...))), for
	 * this detector to read in its turn
	 */
	if (s->files != NULL && (strong || file || office || page) && s->files->len < SMUGGLE_FILES_MAX)
		g_array_append_val(s->files, *p);
	s->npayloads++;
	if (s->best.size == 0 || (strong && !best_strong) || (file && !best_file && !best_strong) ||
	    (strong == best_strong && file == best_file && p->size > s->best.size))
		s->best = *p;
}

/* smuggle_sniff - the sniffed type of the head collected for the current payload */
static const char *
smuggle_sniff(struct smuggle_scan *s, enum smuggle_enc enc)
{
	if (s->sniffs >= SMUGGLE_SNIFFS_MAX)
		return NULL;
	s->sniffs++;
	if (enc == SMUGGLE_BASE64) {
		gint state = 0;
		guint save = 0;
		gsize n = s->b64_len / 4 * 4;	/* whole quanta: at most SNIFF_HEAD_BYTES + 2 out */

		s->head_len = g_base64_decode_step(s->b64, n, s->head, &state, &save);
		s->head_len = MIN(s->head_len, SNIFF_HEAD_BYTES);
	}
	return smuggle_refine(sniff_type(s->head, s->head_len, NULL), s->head, s->head_len);
}

/*
 * smuggle_glue - where the next run of a base64 payload starts after the
 * run ending at RUN in the LEN bytes at D, past string glue (quotes, ',',
 * blanks, "\n" escapes, and a '+' between two literals: "AB" + "CD");
 * 0 when the payload ends there. *QUOTED: the glue closes one string
 * literal and opens the next.
 */
static gsize
smuggle_glue(const guint8 *d, gsize len, gsize run, gboolean *quoted)
{
	gsize g;
	guint quotes = 0;		/* odd: a quote ended the literal and '+' joins the next */

	*quoted = FALSE;
	for (g = run; g < len && g - run < SMUGGLE_GLUE_MAX; g++) {
		guint8 c = d[g];

		if (c == '\\' && g + 1 < len && (d[g + 1] == 'n' || d[g + 1] == 'r' || d[g + 1] == 't')) {
			g++;
			continue;
		}
		if (c == '"' || c == '\'' || c == '`')
			quotes++;
		else if (!(g_ascii_isspace(c) || c == ',' || (c == '+' && quotes % 2 == 1)))
			break;
	}
	if (g == run || g >= len || !smuggle_b64_char(d[g]))
		return 0;
	*quoted = quotes > 0;
	return g;
}

/*
 * smuggle_base64 - the base64 payload starting at I: runs of the alphabet
 * joined across string glue (smuggle_glue()) when the next run is long
 * too. Returns where it ends.
 */
static gsize
smuggle_base64(struct smuggle_scan *s, gsize i)
{
	gsize start = i, chars = 0, end = i;
	struct smuggle_payload p = { .enc = SMUGGLE_BASE64, .in_script = s->in_script,
	    .window = s->d, .window_len = s->len, .at = i };

	s->b64_len = 0;
	for (gboolean literals = FALSE;;) {
		gsize run = end, g, min;
		gboolean quoted;

		while (run < s->len && smuggle_b64_char(s->d[run]))
			run++;
		if (chars > 0 && run - end < (literals ? SMUGGLE_B64_PIECE : SMUGGLE_B64_CHUNK))
			break;		/* a short word after the glue is code, not payload */
		g = smuggle_glue(s->d, s->len, run, &quoted);
		min = g != 0 && quoted ? SMUGGLE_B64_PIECE : SMUGGLE_B64_CHUNK;
		if (chars == 0 && run - start < min)
			return run;	/* too short to start a payload */
		for (gsize k = end; k < run && s->b64_len < SMUGGLE_B64_HEAD; k++)
			s->b64[s->b64_len++] = (char)s->d[k];
		chars += run - end;
		end = run;
		if (g == 0)
			break;
		/* pieces shorter than a line join only as literals, each of them */
		literals = quoted;
		end = g;
	}
	if (smuggle_data_media(s, start, p.media, sizeof(p.media))) {
		/* pictures, fonts, style sheets, documents: what pages are made of */
		if (!(smuggle_file_media(p.media) && chars >= SMUGGLE_DATA_MIN) &&
		    !(strcmp(p.media, "application/octet-stream") == 0 && chars >= SMUGGLE_B64_MIN))
			return end;
	} else if (chars < (s->in_script ? SMUGGLE_B64_TINY : SMUGGLE_B64_SMALL)) {
		return end;
	}
	p.size = chars / 4 * 3;
	p.sniffed = smuggle_sniff(s, SMUGGLE_BASE64);
	/* a small zip holding one shortcut is a few KB: short ones count when they are files */
	if (*p.media == '\0' && chars < SMUGGLE_B64_MIN && !smuggle_strong(p.sniffed))
		return end;
	smuggle_keep(s, &p);
	return end;
}

/* smuggle_hex - the value of hex digit C, or -1 */
static int
smuggle_hex(guint8 c)
{
	return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

/*
 * smuggle_values - char codes ("80,75,3,4" or "0x50, 0x4b") from I, or
 * escapes ("%50%4B", "\x50\x4b", "\u0050") when ESC; the head is
 * collected on the way. Returns where the run ends and *COUNT the values.
 */
static gsize
smuggle_values(struct smuggle_scan *s, gsize i, gboolean esc, gsize *count)
{
	gsize n = 0;

	s->head_len = 0;
	while (i < s->len) {
		guint v = 0, digits = 0;

		if (esc) {
			gsize w = s->d[i] == '%' ? 2 : i + 1 < s->len && s->d[i + 1] == 'x' ? 2 :
			    i + 1 < s->len && s->d[i + 1] == 'u' ? 4 : 0;
			gsize at = s->d[i] == '%' ? i + 1 : i + 2;

			if (w == 0 || (s->d[i] != '%' && s->d[i] != '\\') || at + w > s->len)
				break;
			for (gsize k = 0; k < w && smuggle_hex(s->d[at + k]) >= 0; k++, digits++)
				v = v << 4 | (guint)smuggle_hex(s->d[at + k]);
			if (digits != w)
				break;
			i = at + w;
		} else {
			gboolean hex = i + 2 < s->len && s->d[i] == '0' && (s->d[i + 1] | 0x20) == 'x';

			if (hex)
				i += 2;
			for (; i < s->len && digits < 8 && (hex ? smuggle_hex(s->d[i]) >= 0 :
			    g_ascii_isdigit(s->d[i])); i++, digits++)
				v = v * (hex ? 16 : 10) + (guint)(hex ? smuggle_hex(s->d[i]) : s->d[i] - '0');
			if (digits == 0 || (i < s->len && g_ascii_isalnum(s->d[i])))
				break;
			while (i < s->len && (s->d[i] == ' ' || s->d[i] == '\t' || s->d[i] == '\r' ||
			    s->d[i] == '\n'))
				i++;
			if (i < s->len && s->d[i] == ',')
				i++;
			while (i < s->len && g_ascii_isspace(s->d[i]))
				i++;
		}
		if (s->head_len < SNIFF_HEAD_BYTES)
			s->head[s->head_len++] = (guint8)v;
		if (s->out != NULL && s->out->len < s->out_max)
			g_byte_array_append(s->out, (const guint8[]){ (guint8)v }, 1);
		n++;
	}
	*count = n;
	return i;
}

/*
 * smuggle_local - the LEFT bytes at P (just past '<' or "</") past an XML
 * prefix ("svg:script" is an SVG's script element), and *LEFT with them
 */
static const char *
smuggle_local(const char *p, gsize *left)
{
	gsize k = 0;

	while (k < *left && k < 32 && (g_ascii_isalnum(p[k]) || p[k] == '_' || p[k] == '-'))
		k++;
	if (k > 0 && k < *left && p[k] == ':') {
		*left -= k + 1;
		return p + k + 1;
	}
	return p;
}

/* smuggle_tag - at '<' in I: note a script element opening or closing */
static void
smuggle_tag(struct smuggle_scan *s, gsize i)
{
	gsize left = s->len - i - 1;
	const char *p = smuggle_local((const char *)s->d + i + 1, &left);

	if (left >= 6 && g_ascii_strncasecmp(p, "script", 6) == 0 &&
	    (left == 6 || g_ascii_isspace(p[6]) || p[6] == '>'))
		s->in_script = TRUE;
	else if (left >= 1 && p[0] == '/') {
		left--;
		p = smuggle_local(p + 1, &left);
		if (left >= 6 && g_ascii_strncasecmp(p, "script", 6) == 0)
			s->in_script = FALSE;
	}
}

/* smuggle_window - one pass over the LEN bytes at D: script elements and payloads */
static void
smuggle_window(struct smuggle_scan *s, const guint8 *d, gsize len)
{
	s->d = d;
	s->len = len;
	s->in_script = FALSE;
	for (gsize i = 0; i < len;) {
		guint8 c = d[i];
		gsize n = 0, next;

		if (c == '<') {
			smuggle_tag(s, i);
			i++;
		} else if (s->in_script && (c == '%' || c == '\\' || g_ascii_isdigit(c))) {
			next = smuggle_values(s, i, !g_ascii_isdigit(c), &n);
			if (n >= SMUGGLE_VALUES_SMALL) {
				struct smuggle_payload p = { .enc = c == '%' || c == '\\' ?
				    SMUGGLE_ESCAPES : SMUGGLE_CHARCODES, .size = n, .in_script = TRUE,
				    .window = d, .window_len = len, .at = i };

				p.sniffed = smuggle_sniff(s, p.enc);
				if (n >= SMUGGLE_VALUES_MIN || smuggle_strong(p.sniffed))
					smuggle_keep(s, &p);
			}
			/* one value and a letter ("4AAB..."): base64 that starts with a digit */
			if (n <= 1 && g_ascii_isdigit(c))
				next = smuggle_base64(s, i);
			i = MAX(next, i + 1);
		} else if (smuggle_b64_char(c)) {
			/* words of code and markup: skipped here, without a call */
			for (next = i + 1; next < len && smuggle_b64_char(d[next]); next++)
				;
			if (next - i >= SMUGGLE_B64_CHUNK || (next - i >= SMUGGLE_B64_PIECE &&
			    next < len && (d[next] == '"' || d[next] == '\'' || d[next] == '`')))
				next = smuggle_base64(s, i);	/* not inside MAX(): it would run twice */
			i = MAX(next, i + 1);
		} else {
			i++;
		}
	}
}

/* smuggle_markers_of - the M_* bits of the markers in the LEN bytes at D */
static unsigned
smuggle_markers_of(const guint8 *d, gsize len)
{
	unsigned bits = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(smuggle_markers); i++)
		if (i == SMUGGLE_GATES && bits == 0 && memmem(d, len, "download", 8) == NULL &&
		    memmem(d, len, "data:application/", 17) == NULL)
			return 0;	/* the common page: none of it */
		else if ((bits & smuggle_markers[i].bit) == 0 &&
		    memmem(d, len, smuggle_markers[i].text, strlen(smuggle_markers[i].text)) != NULL)
			bits |= smuggle_markers[i].bit;
	/* "a.download = name" in script, or <a ... download> in markup */
	for (const guint8 *p = d, *end = d + len; (p = memmem(p, (gsize)(end - p), "download", 8)) != NULL;
	    p += 8) {
		guint8 before = p > d ? p[-1] : ' ', after = p + 8 < end ? p[8] : ' ';

		if (g_ascii_isalnum(after) || after == '_')
			continue;
		if (before == '.')
			bits |= M_DLPROP;
		else if (g_ascii_isspace(before))
			bits |= M_DLATTR;
	}
	/* "data:application/octet-stream;base64," + payload: a file for a link or location */
	for (const guint8 *p = d, *end = d + len; (p = memmem(p, (gsize)(end - p), "data:application/", 17)) != NULL;
	    p += 17) {
		char m[64];
		gsize n = 0;

		while (p + 5 + n < end && n + 1 < sizeof(m) && (g_ascii_isalnum(p[5 + n]) ||
		    p[5 + n] == '/' || p[5 + n] == '-' || p[5 + n] == '.' || p[5 + n] == '+'))
			m[n] = g_ascii_tolower(p[5 + n]), n++;
		m[n] = '\0';
		if (smuggle_file_media(m) || strcmp(m, "application/octet-stream") == 0)
			bits |= M_DATAURL;
	}
	return bits;
}

/* smuggle_is_html - whether P is a page a browser would run: HTML, XHTML or SVG */
static gboolean
smuggle_is_html(const struct moat_part *p)
{
	static const char *const exts[] = { "html", "htm", "shtml", "xhtml", "xht", "svg" };
	g_autofree char *ext = names_extension(p->filename);

	if (p->sniffed != NULL && (strcmp(p->sniffed, "html") == 0 || strcmp(p->sniffed, "svg") == 0))
		return TRUE;
	if (p->content_type != NULL && (g_ascii_strcasecmp(p->content_type, "text/html") == 0 ||
	    g_ascii_strcasecmp(p->content_type, "application/xhtml+xml") == 0 ||
	    g_ascii_strcasecmp(p->content_type, "image/svg+xml") == 0))
		return TRUE;
	for (gsize i = 0; ext != NULL && i < G_N_ELEMENTS(exts); i++)
		if (strcmp(ext, exts[i]) == 0)
			return TRUE;
	return FALSE;
}

/* smuggle_saves - how the page saves a file (static text), or NULL */
static const char *
smuggle_saves(unsigned m)
{
	if (m & M_MSSAVE)
		return "msSaveOrOpenBlob";
	if ((m & M_OBJURL) && (m & (M_DLPROP | M_DLATTR)) && (m & M_CLICK))
		return "URL.createObjectURL, a.download and click()";
	if (m & M_OBJURL)
		return "URL.createObjectURL";
	if ((m & (M_DLPROP | M_DLATTR)) && (m & M_CLICK))
		return "a.download and click()";
	if ((m & M_DATAURL) && (m & (M_DLPROP | M_DLATTR)))
		return "a data: link with download";
	return NULL;
}

/* smuggle_report - the findings for part P from what its scan found */
static void
smuggle_report(struct moat_report *rep, const struct moat_part *p, const struct smuggle_scan *s,
    unsigned m)
{
	static const char *const encs[] = { "base64", "char codes", "escapes" };
	const struct smuggle_payload *b = &s->best;
	const char *saves = smuggle_saves(m), *built, *decoder = "";
	gboolean file_url = *b->media != '\0' && smuggle_file_media(b->media);
	gboolean strong = smuggle_strong(b->sniffed);
	gboolean office = b->sniffed != NULL && strcmp(b->sniffed, "ooxml") == 0;
	g_autofree char *what = NULL, *more = NULL;

	if (b->size == 0)
		return;
	if (b->enc == SMUGGLE_BASE64 && (m & M_ATOB))
		decoder = "atob() of ";
	else if (b->enc == SMUGGLE_CHARCODES && (m & M_FCC))
		decoder = "String.fromCharCode() of ";
	else if (b->enc == SMUGGLE_ESCAPES && (m & M_UNESC))
		decoder = "unescape() of ";
	built = (m & M_BLOB) ? "Blob from " : (m & M_U8) ? "Uint8Array from " : "";
	if (*b->media != '\0')
		what = g_strdup_printf("data:%s URL of %" G_GSIZE_FORMAT " KB", b->media,
		    (b->size + 1023) / 1024);
	else
		what = g_strdup_printf("%s%s%" G_GSIZE_FORMAT " KB %s", built, decoder,
		    (b->size + 1023) / 1024, encs[b->enc]);
	if (s->npayloads > 1)
		more = g_strdup_printf(" (%u payloads)", s->npayloads);
	if (file_url && saves == NULL)
		saves = "a data: URL";
	/*
	 * A page that saves a file it carries, unless that file is a picture
	 * or a document. Bytes of no known type that a page saves are what an
	 * encrypted-mail envelope (securedoc.html) or a chart's export code
	 * carry: they only tag, as a payload in script does.
	 */
	if (saves != NULL && (strong || file_url || b->sniffed == NULL))
		report_add_finding_at(rep, "lure.html_smuggling", p, "%s → %s%s; saved via %s", what,
		    b->sniffed != NULL ? b->sniffed : "not decoded", more != NULL ? more : "", saves);
	else if (saves != NULL && sniff_class_of(b->sniffed) == SNIFF_UNKNOWN && !office)
		report_add_finding_at(rep, "lure.html_script_payload", p, "%s → %s%s; saved via %s, "
		    "but its bytes are no known file type (encrypted, or data)", what, b->sniffed,
		    more != NULL ? more : "", saves);
	else if (b->in_script && (strong || ((m & (M_ATOB | M_FCC | M_UNESC)) &&
	    sniff_class_of(b->sniffed) != SNIFF_MEDIA && !office)))
		report_add_finding_at(rep, "lure.html_script_payload", p, "%s → %s%s in script", what,
		    b->sniffed != NULL ? b->sniffed : "not decoded", more != NULL ? more : "");
}

/* smuggle_has_script - whether the LEN bytes at D open a script element (any case, any prefix) */
static gboolean
smuggle_has_script(const guint8 *d, gsize len)
{
	for (const guint8 *p = d, *end = d + len; (p = memchr(p, '<', (gsize)(end - p))) != NULL; p++) {
		gsize left = (gsize)(end - p) - 1;
		const char *name = smuggle_local((const char *)p + 1, &left);

		if (left > 6 && g_ascii_strncasecmp(name, "script", 6) == 0)
			return TRUE;
	}
	return FALSE;
}

/*
 * smuggle_scan_part - scan the LEN bytes at DATA of an HTML part (its head
 * and tail when larger) into S; *M gets the markers. FALSE when the page
 * was not read: no script, nothing that decodes or saves a file.
 */
static gboolean
smuggle_scan_part(struct moat_report *rep, struct smuggle_scan *s, const guint8 *data, gsize len,
    unsigned *m)
{
	gsize head = len <= SMUGGLE_SCAN_MAX ? len : SMUGGLE_SCAN_MAX - SMUGGLE_TAIL;
	const guint8 *tail = data + len - SMUGGLE_TAIL;

	/* no script and no data: URL of an application: a page like most mail */
	if (!smuggle_has_script(data, head) && (head == len || !smuggle_has_script(tail, SMUGGLE_TAIL)) &&
	    memmem(data, head, "data:application/", 17) == NULL &&
	    (head == len || memmem(tail, SMUGGLE_TAIL, "data:application/", 17) == NULL))
		return FALSE;
	*m = smuggle_markers_of(data, head);
	if (head < len)
		*m |= smuggle_markers_of(tail, SMUGGLE_TAIL);
	/* nothing decodes or saves a file: a payload would stay inert text */
	if ((*m & (M_ATOB | M_FCC | M_UNESC | M_BLOB | M_U8 | M_MSSAVE | M_OBJURL | M_DATAURL)) == 0 &&
	    !((*m & (M_DLPROP | M_DLATTR)) && (*m & M_CLICK)))
		return FALSE;
	s->head = g_malloc(SNIFF_HEAD_BYTES + 3);	/* g_base64_decode_step() may write 3 more */
	s->b64 = g_malloc(SMUGGLE_B64_HEAD);
	smuggle_window(s, data, head);
	if (head < len && !report_over_budget(rep))
		smuggle_window(s, tail, SMUGGLE_TAIL);
	return TRUE;
}

/* smuggle_part - scan HTML part P's LEN bytes at DATA and report what it smuggles */
static void
smuggle_part(struct moat_report *rep, const struct moat_part *p, const guint8 *data, gsize len)
{
	struct smuggle_scan s = { 0 };
	unsigned m = 0;

	if (smuggle_scan_part(rep, &s, data, len, &m))
		smuggle_report(rep, p, &s, m);
	g_free(s.head);
	g_free(s.b64);
}

void
lure_smuggle_check(struct moat_report *rep, const struct moat_conf *conf)
{
	(void)conf;
	for (guint i = 0; i < rep->parts->len && !report_over_budget(rep); i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		gsize len;
		const guint8 *data = lure_data(p, &len);

		if (data != NULL && len > 0 && smuggle_is_html(p))
			smuggle_part(rep, p, data, len);
	}
}

/* Whole files (smuggle.h) ----------------------------------------------------- */

/*
 * smuggle_b64_whole - the base64 payload whose text starts at AT in the LEN
 * bytes at D, runs joined as smuggle_base64() joins them, decoded into OUT;
 * FALSE (OUT incomplete) when it decodes to more than MAX bytes
 */
static gboolean
smuggle_b64_whole(const guint8 *d, gsize len, gsize at, GByteArray *out, gsize max)
{
	gsize pos = at, chars = 0;
	gint state = 0;
	guint save = 0;

	for (gboolean literals = FALSE;;) {
		gsize run = pos, n, old = out->len;
		gboolean last = FALSE, quoted;

		while (run < len && smuggle_b64_char(d[run]))
			run++;
		n = run - pos;
		/*
		 * A short word after the glue is code, not payload, unless it is
		 * the last literal of a payload cut into literals: quoted like
		 * the others, and it completes the base64 (a multiple of 4).
		 */
		if (chars > 0 && n < (literals ? SMUGGLE_B64_PIECE : SMUGGLE_B64_CHUNK)) {
			if (run >= len || (d[pos - 1] != '"' && d[pos - 1] != '\'' && d[pos - 1] != '`') ||
			    d[run] != d[pos - 1] || (chars + n) % 4 != 0)
				break;
			last = TRUE;
		}
		if (old + n / 4 * 3 + 3 > max + 3)
			return FALSE;
		g_byte_array_set_size(out, (guint)(old + n / 4 * 3 + 3));
		g_byte_array_set_size(out, (guint)(old + g_base64_decode_step((const char *)d + pos, n,
		    out->data + old, &state, &save)));
		chars += n;
		if (last || (pos = smuggle_glue(d, len, run, &quoted)) == 0)
			break;
		literals = quoted;
	}
	return out->len <= max;
}

/* smuggle_decode - payload P decoded whole (at most MAX bytes), or NULL when it is larger */
static GBytes *
smuggle_decode(const struct smuggle_payload *p, gsize max)
{
	GByteArray *out = g_byte_array_new();
	gboolean whole;

	if (p->enc == SMUGGLE_BASE64) {
		whole = smuggle_b64_whole(p->window, p->window_len, p->at, out, max);
	} else {
		guint8 head[SNIFF_HEAD_BYTES];
		struct smuggle_scan s = { .d = p->window, .len = p->window_len, .head = head,
		    .out = out, .out_max = max };
		gsize n = 0;

		smuggle_values(&s, p->at, p->enc == SMUGGLE_ESCAPES, &n);
		whole = n <= max;
	}
	if (!whole) {
		g_byte_array_unref(out);
		return NULL;
	}
	return g_byte_array_free_to_bytes(out);
}

/*
 * smuggle_quoted - the string literal that starts at or after blanks from
 * I in the LEN bytes at D (and, with OPT_EQ, an optional '='), as a file's
 * base name, or NULL
 */
static char *
smuggle_quoted(const guint8 *d, gsize len, gsize i, gboolean opt_eq)
{
	gsize end;
	guint8 q;
	g_autofree char *raw = NULL;
	const char *base;

	while (i < len && (d[i] == ' ' || d[i] == '\t'))
		i++;
	if (opt_eq && i < len && d[i] == '=')
		for (i++; i < len && (d[i] == ' ' || d[i] == '\t'); i++)
			;
	if (i >= len || (d[i] != '"' && d[i] != '\'' && d[i] != '`'))
		return NULL;
	q = d[i++];
	for (end = i; end < len && end - i <= SMUGGLE_NAME_MAX && d[end] != q; end++)
		if (d[end] == '\n' || d[end] == '<' || d[end] == '>' || d[end] == '$' || d[end] == '+')
			return NULL;	/* markup or a name built in script */
	if (end >= len || d[end] != q || end == i || end - i > SMUGGLE_NAME_MAX)
		return NULL;
	raw = g_strndup((const char *)d + i, end - i);
	base = lure_basename(raw);
	return base != NULL && *base != '\0' ? g_utf8_make_valid(base, -1) : NULL;
}

/*
 * smuggle_names - the file names the page's script or markup gives its
 * downloads, in the order they appear in the LEN bytes at D:
 * a.download = 'x.zip', <a download="x.zip">, msSaveOrOpenBlob(b, 'x.zip'),
 * new File([...], 'x.zip'); added to NAMES (at most SMUGGLE_FILES_MAX)
 */
static void
smuggle_names(const guint8 *d, gsize len, GPtrArray *names)
{
	static const char *const calls[] = { "msSaveOrOpenBlob(", "msSaveBlob(", "new File(" };
	g_autoptr(GArray) at = g_array_new(FALSE, FALSE, sizeof(gsize));
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);

	for (const guint8 *p = d, *end = d + len; found->len < SMUGGLE_FILES_MAX &&
	    (p = memmem(p, (gsize)(end - p), "download", 8)) != NULL; p += 8) {
		char *name = smuggle_quoted(d, len, (gsize)(p - d) + 8, TRUE);

		if (name != NULL) {
			gsize pos = (gsize)(p - d);

			g_array_append_val(at, pos);
			g_ptr_array_add(found, name);
		}
	}
	for (gsize c = 0; c < G_N_ELEMENTS(calls); c++) {
		gsize n = strlen(calls[c]);

		for (const guint8 *p = d, *end = d + len; found->len < 2 * SMUGGLE_FILES_MAX &&
		    (p = memmem(p, (gsize)(end - p), calls[c], n)) != NULL; p += n) {
			/* the second argument: after the first ',' at this call's own level */
			gsize i = (gsize)(p - d) + n, depth = 0, pos = (gsize)(p - d);
			char *name;

			for (; i < len && i - pos < 4096; i++) {
				if (d[i] == '(' || d[i] == '[' || d[i] == '{')
					depth++;
				else if ((d[i] == ')' || d[i] == ']' || d[i] == '}') && depth-- == 0)
					break;
				else if (d[i] == ',' && depth == 0)
					break;
			}
			/*
			 * The next call is looked for after these arguments, so
			 * each byte is read once: from every call on, 1 MB of
			 * "msSaveBlob(" was 90,000 reads of 4 KB.
			 */
			p = d + i - n;
			if (i >= len || d[i] != ',' ||
			    (name = smuggle_quoted(d, len, i + 1, FALSE)) == NULL)
				continue;
			g_array_append_val(at, pos);
			g_ptr_array_add(found, name);
		}
	}
	/* in the order the page gives them: a few names, sorted by insertion */
	while (found->len > 0 && names->len < SMUGGLE_FILES_MAX) {
		guint first = 0;

		for (guint k = 1; k < found->len; k++)
			if (g_array_index(at, gsize, k) < g_array_index(at, gsize, first))
				first = k;
		g_ptr_array_add(names, g_ptr_array_steal_index(found, first));
		g_array_remove_index(at, first);
	}
}

/* smuggle_ext - the extension a file of sniffed type T gets when the page names none */
static const char *
smuggle_ext(const char *t)
{
	static const struct { const char *type, *ext; } exts[] = {
		{ "pe", "exe" }, { "mz", "exe" }, { "gzip", "gz" }, { "bzip2", "bz2" },
		{ "ole2", "doc" }, { "onenote", "one" }, { "script", "js" }, { "elf", "bin" },
		{ "macho", "bin" },
	};

	if (t == NULL)
		return "bin";
	if (g_str_has_prefix(t, "encoded "))
		t += 8;		/* walked with its key undone: the file itself */
	for (gsize i = 0; i < G_N_ELEMENTS(exts); i++)
		if (strcmp(t, exts[i].type) == 0)
			return exts[i].ext;
	return t;
}

/*
 * smuggle_named_ext - the first quoted literal in the LEN bytes at D that
 * is a file name ending in ".EXT" ('Document.hta' handed to the page's own
 * save function), as a base name, or NULL
 */
static char *
smuggle_named_ext(const guint8 *d, gsize len, const char *ext)
{
	g_autofree char *dot = g_strdup_printf(".%s", ext);
	gsize n = strlen(dot);

	for (const guint8 *p = d, *end = d + len; (p = memmem(p, (gsize)(end - p), dot, n)) != NULL;
	    p += n) {
		const guint8 *q = p + n, *open = p;

		if (q >= end || (*q != '"' && *q != '\'' && *q != '`'))
			continue;
		while (open > d && p - open < SMUGGLE_NAME_MAX && open[-1] != *q && open[-1] != '\n' &&
		    open[-1] != '<' && open[-1] != '>' && open[-1] != '/' && open[-1] != '\\')
			open--;
		if (open > d && open[-1] == *q && open < p)
			return smuggle_quoted(d, len, (gsize)(open - d) - 1, FALSE);
	}
	return NULL;
}

/* smuggle_has_ext - whether NAME ends in ".EXT", any case */
static gboolean
smuggle_has_ext(const char *name, const char *ext)
{
	g_autofree char *e = names_extension(name);

	return e != NULL && g_ascii_strcasecmp(e, ext) == 0;
}

/*
 * smuggle_name_for - the name file I of N (sniffed type T) gets: a name the
 * page gives its downloads (NAMES, the ones taken are set to NULL) with its
 * type's extension; else the page's only name when it carries one file
 * (what the user sees, whatever it claims); else a quoted file name of that
 * extension in the page; else "smuggled.EXT". Caller g_free()s.
 */
static char *
smuggle_name_for(GPtrArray *names, guint n, const char *t, const guint8 *d, gsize len)
{
	const char *ext = smuggle_ext(t);
	char *name;

	for (guint k = 0; k < names->len; k++)
		if (names->pdata[k] != NULL && smuggle_has_ext(names->pdata[k], ext))
			return g_steal_pointer(&names->pdata[k]);
	if (n == 1 && names->len == 1 && names->pdata[0] != NULL)
		return g_steal_pointer(&names->pdata[0]);
	if ((name = smuggle_named_ext(d, len, ext)) != NULL)
		return name;
	return g_strdup_printf("smuggled.%s", ext);
}

void
smuggle_file_free(struct smuggle_file *f)
{
	if (f == NULL)
		return;
	g_free(f->name);
	if (f->bytes != NULL)
		g_bytes_unref(f->bytes);
	g_free(f);
}

GPtrArray *
smuggle_files(struct moat_report *rep, const struct moat_part *p, gsize max_bytes)
{
	GPtrArray *out = NULL, *names = NULL;
	struct smuggle_scan s = { 0 };
	gsize len;
	const guint8 *data = lure_data(p, &len);
	unsigned m = 0;

	if (data == NULL || len == 0 || !smuggle_is_html(p))
		return NULL;	/* most parts: nothing allocated */
	s.files = g_array_new(FALSE, FALSE, sizeof(struct smuggle_payload));
	if (smuggle_scan_part(rep, &s, data, len, &m) && s.files->len > 0) {
		gsize head = len <= SMUGGLE_SCAN_MAX ? len : SMUGGLE_SCAN_MAX - SMUGGLE_TAIL;

		out = g_ptr_array_new_with_free_func((GDestroyNotify)smuggle_file_free);
		names = g_ptr_array_new_with_free_func(g_free);
		smuggle_names(data, head, names);
		if (head < len)
			smuggle_names(data + len - SMUGGLE_TAIL, SMUGGLE_TAIL, names);
	}
	for (guint i = 0; out != NULL && i < s.files->len && !report_over_budget(rep); i++) {
		const struct smuggle_payload *pl = &g_array_index(s.files, struct smuggle_payload, i);
		struct smuggle_file *f = g_new0(struct smuggle_file, 1);

		f->sniffed = pl->sniffed;
		f->bytes = smuggle_decode(pl, max_bytes);
		if (f->bytes != NULL && pl->sniffed != NULL && g_str_has_prefix(pl->sniffed, "encoded "))
			f->bytes = smuggle_unkey(f->bytes);	/* the walk sees the file itself */
		f->size = f->bytes != NULL ? g_bytes_get_size(f->bytes) : pl->size;
		f->script = pl->in_script;
		f->name = smuggle_name_for(names, s.files->len, pl->sniffed, pl->window,
		    pl->window_len);
		g_ptr_array_add(out, f);
	}
	if (names != NULL)
		g_ptr_array_unref(names);
	g_array_unref(s.files);
	g_free(s.head);
	g_free(s.b64);
	return out;
}
