/*
 * mime.c - the MIME inventory
 *
 * In: one message on a GMimeStream and the [limits] of the config.
 * Out: header facts, one struct moat_part per leaf and the MIME findings
 * (parser warnings, bad base64, limits) in the report.
 *
 * Each leaf is decoded exactly once, in chunks: the same pass counts its
 * size, computes its SHA-256, keeps the first bytes for sniffing, checks
 * the base64 alphabet and keeps the decoded bytes for later scanners while
 * the message stays under max_decoded_bytes. Depth and part count are
 * enforced by this walk: GMime's own nesting limit is fixed and internal.
 *
 * Parser options are per call (never GMime's shared default), so this is
 * safe to run in several threads at once after mime_init().
 */
#include <string.h>

#include "moat/charset.h"
#include "moat/mime.h"
#include "moat/moat.h"
#include "moat/salvage.h"
#include "moat/sha256.h"
#include "moat/sniff.h"

#define MIME_CHUNK 16384
#define MIME_HEADER_TEXT_MAX 998	/* header facts kept: one RFC 5322 line */
#define MIME_NWARN (GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT + 1)

struct mime_walk {
	struct moat_report *rep;	/* borrowed */
	const struct moat_conf *conf;	/* borrowed */
	const struct moat_leaf_hook *hook;	/* borrowed, or NULL: who scans each leaf */
	guint nparts;			/* leaves seen, inventoried or not */
	guint64 layers;			/* decoded bytes of the encoded messages open now */
	gboolean kept_full;		/* max_decoded_bytes reached */
	guint too_deep;			/* subtrees cut at max_depth */
	gboolean long_header;		/* mime.long_header already recorded */
	guint warn_count[MIME_NWARN];
	char *warn_item[MIME_NWARN];	/* first item GMime named for each warning */
	guchar *buf;			/* MIME_CHUNK bytes of scratch */
	guchar *head;			/* the first SNIFF_HEAD_BYTES of a part */
	struct sha256 *sha;		/* owned; each leaf's digest, restarted per leaf */
	GMimeParserOptions *opts;	/* this scan's parser options, borrowed */
	GMimeStream *top;		/* the message's stream, borrowed */
};

static const char *const mime_warn_text[MIME_NWARN] = {
	[GMIME_WARN_DUPLICATED_HEADER] = "duplicated header",
	[GMIME_WARN_DUPLICATED_PARAMETER] = "duplicated parameter",
	[GMIME_WARN_UNENCODED_8BIT_HEADER] = "unencoded 8-bit header",
	[GMIME_WARN_INVALID_CONTENT_TYPE] = "invalid Content-Type",
	[GMIME_WARN_INVALID_RFC2047_HEADER_VALUE] = "invalid RFC 2047 encoded word",
	[GMIME_WARN_MALFORMED_MULTIPART] = "multipart without parts",
	[GMIME_WARN_TRUNCATED_MESSAGE] = "truncated message",
	[GMIME_WARN_MALFORMED_MESSAGE] = "malformed message",
	[GMIME_CRIT_INVALID_HEADER_NAME] = "invalid header name",
	[GMIME_CRIT_CONFLICTING_HEADER] = "conflicting header",
	[GMIME_CRIT_CONFLICTING_PARAMETER] = "conflicting parameter",
	[GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "multipart without boundary",
	[GMIME_WARN_INVALID_PARAMETER] = "invalid parameter",
	[GMIME_WARN_INVALID_ADDRESS_LIST] = "invalid address list",
	[GMIME_CRIT_NESTING_OVERFLOW] = "nesting overflow",
	[GMIME_WARN_PART_WITHOUT_CONTENT] = "part without content",
	[GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "part without headers or content",
};

static gboolean
mime_warn_is_critical(GMimeParserWarning w)
{
	switch (w) {
	case GMIME_CRIT_INVALID_HEADER_NAME:
	case GMIME_CRIT_CONFLICTING_HEADER:
	case GMIME_CRIT_CONFLICTING_PARAMETER:
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_CRIT_NESTING_OVERFLOW:
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		return TRUE;
	default:
		return FALSE;
	}
}

void
mime_init(void)
{
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		g_autofree char *err = NULL;

		if (!mime_charset_init(&err))
			g_error("%s", err);	/* with Debian's shared GMime, never */
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

/* mime_on_warning - GMime parser callback: count each kind, keep its first item */
static void
mime_on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	struct mime_walk *w = data;

	(void)offset;
	if ((unsigned)code >= MIME_NWARN)
		return;
	if (w->warn_count[code]++ == 0 && item != NULL)
		w->warn_item[code] = g_strndup(item, 120);
}

/* mime_report_warnings - one finding per kind of parser warning */
static void
mime_report_warnings(struct mime_walk *w)
{
	for (guint c = 1; c < MIME_NWARN; c++) {
		if (w->warn_count[c] == 0)
			continue;
		report_add_finding(w->rep,
		    mime_warn_is_critical(c) ? "mime.ambiguous" : "mime.malformed", NULL,
		    "GMime: %s%s%s (%u time%s)", mime_warn_text[c],
		    w->warn_item[c] ? ": " : "", w->warn_item[c] ? w->warn_item[c] : "",
		    w->warn_count[c], w->warn_count[c] == 1 ? "" : "s");
	}
}

/* mime_clean - a header value for the report: folding white space as one blank, one line */
static char *
mime_clean(const char *s)
{
	g_autofree char *flat = NULL;

	if (s == NULL)
		return NULL;
	flat = g_strdelimit(g_strdup(s), "\t\r\n", ' ');
	return report_clean_text(flat, -1, MIME_HEADER_TEXT_MAX);
}

/* mime_count_mailboxes - mailboxes in LIST, group members included */
static guint
mime_count_mailboxes(InternetAddressList *list)
{
	guint n = 0;

	for (int i = 0; list != NULL && i < internet_address_list_length(list); i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(a))
			n += mime_count_mailboxes(internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(a)));
		else
			n++;
	}
	return n;
}

/* mime_count_fields - H's mailboxes in every From field and its DKIM-Signature fields */
static void
mime_count_fields(struct moat_headers *h, GMimeObject *obj)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < n; i++) {
		GMimeHeader *f = g_mime_header_list_get_header_at(list, i);
		const char *name = g_mime_header_get_name(f);
		InternetAddressList *addrs;

		if (g_ascii_strcasecmp(name, "DKIM-Signature") == 0)
			h->dkim_signatures++;
		if (g_ascii_strcasecmp(name, "From") != 0)
			continue;
		if ((addrs = internet_address_list_parse(NULL, g_mime_header_get_value(f))) != NULL) {
			h->from_count += mime_count_mailboxes(addrs);
			g_object_unref(addrs);
		}
	}
}

/* mime_header_facts - From, Reply-To, Return-Path, Subject, Message-ID, Date */
static void
mime_header_facts(struct moat_headers *h, GMimeMessage *msg)
{
	InternetAddressList *from = g_mime_message_get_from(msg);	/* transfer none */
	InternetAddressList *reply = g_mime_message_get_reply_to(msg);
	GMimeObject *obj = GMIME_OBJECT(msg);

	if (from != NULL && internet_address_list_length(from) > 0) {
		InternetAddress *first = internet_address_list_get_address(from, 0);
		g_autofree char *s = internet_address_list_to_string(from, NULL, FALSE);

		h->from = mime_clean(s);
		h->from_name = mime_clean(internet_address_get_name(first));
		if (INTERNET_ADDRESS_IS_MAILBOX(first))
			h->from_addr = mime_clean(internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(first)));
	}
	if (reply != NULL && internet_address_list_length(reply) > 0) {
		g_autofree char *s = internet_address_list_to_string(reply, NULL, FALSE);

		h->reply_to = mime_clean(s);
	}
	mime_count_fields(h, obj);
	h->return_path = mime_clean(g_mime_object_get_header(obj, "Return-Path"));
	h->subject = mime_clean(g_mime_message_get_subject(msg));
	h->message_id = mime_clean(g_mime_message_get_message_id(msg));
	h->date = mime_clean(g_mime_object_get_header(obj, "Date"));
}

/* mime_check_headers - mime.long_header, once per message */
static void
mime_check_headers(struct mime_walk *w, GMimeObject *obj, GPtrArray *path)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(obj);
	int n = list ? g_mime_header_list_get_count(list) : 0;

	for (int i = 0; i < n && !w->long_header; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *raw = g_mime_header_get_raw_value(h);
		gsize len = raw ? strlen(raw) : 0;

		if (len > w->conf->limits.max_header_bytes) {
			report_add_finding(w->rep, "mime.long_header", path,
			    "%s: %zu bytes (limit %u)", g_mime_header_get_name(h), len,
			    w->conf->limits.max_header_bytes);
			w->long_header = TRUE;
		}
	}
}

/* Base64 alphabet check, carried across chunks. */
struct mime_b64 {
	guint64 offset;		/* encoded bytes seen */
	guint64 bad;		/* characters outside the alphabet */
	guint64 first_bad;
	guchar first_char;
	gboolean padded;	/* '=' seen */
	gboolean after_pad;	/* alphabet characters after '=' */
	guint64 good;		/* alphabet characters */
	guint64 pads;		/* '=' characters */
	gboolean blanks;	/* spaces, tabs or blank lines: decoders may part ways there */
	guchar prev, prev2;	/* the last two bytes seen */
};

/* What each byte is to mime_b64_check(). */
enum { B64C_OTHER = 0, B64C_ALPHA, B64C_PAD, B64C_LF, B64C_CR, B64C_BLANK };

static const guchar mime_b64_class[256] = {
	['A' ... 'Z'] = B64C_ALPHA, ['a' ... 'z'] = B64C_ALPHA, ['0' ... '9'] = B64C_ALPHA,
	['+'] = B64C_ALPHA, ['/'] = B64C_ALPHA, ['='] = B64C_PAD,
	['\n'] = B64C_LF, ['\r'] = B64C_CR, [' '] = B64C_BLANK, ['\t'] = B64C_BLANK,
};

/* mime_b64_check - N more encoded bytes IN: runs of the alphabet in a tight loop, the rest byte by byte */
static void
mime_b64_check(struct mime_b64 *b, const guchar *in, gsize n)
{
	gsize i = 0;

	while (i < n) {
		gsize run = i;

		while (i < n && mime_b64_class[in[i]] == B64C_ALPHA)
			i++;
		if (i > run) {
			b->good += i - run;
			b->after_pad |= b->padded;
		}
		if (i == n)
			break;
		switch (mime_b64_class[in[i]]) {
		case B64C_PAD:
			b->padded = TRUE;
			b->pads++;
			break;
		case B64C_LF: {
			guchar p1 = i >= 1 ? in[i - 1] : b->prev;
			guchar p2 = i >= 2 ? in[i - 2] : i == 1 ? b->prev : b->prev2;

			if (p1 == '\n' || (p1 == '\r' && p2 == '\n'))
				b->blanks = TRUE;
			break;
		}
		case B64C_CR:
			break;
		case B64C_BLANK:
			b->blanks = TRUE;
			break;
		default:
			if (b->bad++ == 0) {
				b->first_bad = b->offset + i;
				b->first_char = in[i];
			}
			break;
		}
		i++;
	}
	b->prev2 = n >= 2 ? in[n - 2] : n == 1 ? b->prev : b->prev2;
	b->prev = n >= 1 ? in[n - 1] : b->prev;
	b->offset += n;
}

/* mime_b64_strict - whether B's body reads alike in every decoder (salvage.c's survey agrees) */
static gboolean
mime_b64_strict(const struct mime_b64 *b)
{
	return b->good > 0 && b->bad == 0 && !b->blanks && !b->after_pad && b->pads <= 2 &&
	    (b->good + b->pads) % 4 == 0;
}

/* Where one leaf's decoded bytes go. */
struct mime_sink {
	GByteArray *bytes;	/* the decoded bytes; NULL once nobody needs them */
	gsize head_len;
	guint64 size;
};

/*
 * mime_sink_add - N more decoded bytes. They are collected for the walk
 * (which scans every leaf, kept or not: a leaf is at most as large as the
 * message or the encoded message it is in) or, without a walk, only while
 * the message's kept bytes stay under max_decoded_bytes.
 */
static void
mime_sink_add(struct mime_walk *w, struct mime_sink *s, const guchar *data, gsize n)
{
	if (n == 0)
		return;
	sha256_update(w->sha, data, n);
	if (s->head_len < SNIFF_HEAD_BYTES) {
		gsize take = MIN(n, SNIFF_HEAD_BYTES - s->head_len);

		memcpy(w->head + s->head_len, data, take);
		s->head_len += take;
	}
	s->size += n;
	if (s->bytes == NULL)
		return;
	if (w->hook == NULL && w->rep->kept + s->size > w->conf->limits.max_decoded_bytes) {
		g_byte_array_unref(s->bytes);
		s->bytes = NULL;
		w->kept_full = TRUE;
		return;
	}
	g_byte_array_append(s->bytes, data, n);
}

/* mime_keep - BYTES (taken, may be NULL) as P's content while the message's budget allows */
static void
mime_keep(struct mime_walk *w, struct moat_part *p, GByteArray *bytes)
{
	if (bytes == NULL)
		return;
	if (w->rep->kept + bytes->len > w->conf->limits.max_decoded_bytes) {
		w->kept_full = TRUE;
		g_byte_array_unref(bytes);
		return;
	}
	w->rep->kept += bytes->len;
	p->content = g_byte_array_free_to_bytes(bytes);
}

/*
 * Quoted-printable escapes, checked across chunks: "=" must be followed by
 * two hex digits or by (blanks and) a line break. Decoders disagree on the
 * rest ("=WW", "= =41"), so a bad escape makes the part ambiguous.
 */
struct mime_qp {
	int state;		/* 0 text, 1 after '=', 2 after '=' and a hex digit, 3 '=' blanks */
	guint64 bad;
};

static void
mime_qp_check(struct mime_qp *q, const guchar *in, gsize n)
{
	for (gsize i = 0; i < n; i++) {
		guchar c = in[i];

		switch (q->state) {
		case 0:
			if (c == '=')
				q->state = 1;
			break;
		case 1:
			q->state = g_ascii_isxdigit(c) ? 2 : c == '\r' || c == '\n' ? 0 :
			    c == ' ' || c == '\t' ? 3 : (q->bad++, 0);
			break;
		case 2:
			q->state = g_ascii_isxdigit(c) ? 0 : (q->bad++, c == '=');
			break;
		case 3:
			q->state = c == ' ' || c == '\t' ? 3 : c == '\r' || c == '\n' ? 0 : (q->bad++, c == '=');
			break;
		}
	}
}

/* mime_raw_scan - the alphabet (base64) or escape (quoted-printable) check over RAW */
static void
mime_raw_scan(struct mime_walk *w, GMimeContentEncoding enc, GMimeStream *raw,
    struct mime_b64 *b64, struct mime_qp *qp)
{
	gssize n;

	if (g_mime_stream_reset(raw) != 0)
		return;
	while ((n = g_mime_stream_read(raw, (char *)w->buf, MIME_CHUNK)) > 0) {
		if (enc == GMIME_CONTENT_ENCODING_BASE64)
			mime_b64_check(b64, w->buf, (gsize)n);
		else
			mime_qp_check(qp, w->buf, (gsize)n);
	}
}

/*
 * mime_raw_range - where P's encoded body RAW lies in the message's own
 * bytes (the buffer mime_stream_view() hands salvage.c), when RAW is a view
 * of the memory or the mapping of the message's stream TOP; a part of an
 * encoded message is not, and keeps raw_end 0.
 */
static void
mime_raw_range(GMimeStream *top, GMimeStream *raw, struct moat_part *p)
{
	gboolean same = FALSE;

	if (GMIME_IS_STREAM_MEM(top) && GMIME_IS_STREAM_MEM(raw))
		same = GMIME_STREAM_MEM(top)->buffer == GMIME_STREAM_MEM(raw)->buffer;
	else if (GMIME_IS_STREAM_MMAP(top) && GMIME_IS_STREAM_MMAP(raw))
		same = GMIME_STREAM_MMAP(top)->map == GMIME_STREAM_MMAP(raw)->map;
	if (same && raw->bound_start >= 0 && raw->bound_end > raw->bound_start) {
		p->raw_start = (guint64)raw->bound_start;
		p->raw_end = (guint64)raw->bound_end;
	}
}

/*
 * mime_decode_leaf - decode PART's content once into P (size, hash, type)
 * and *BYTES (caller owns; NULL when not collected, see mime_sink_add()).
 * GMime's basic filter does the decoding: it also finds uuencode's "begin" line.
 */
static int
mime_decode_leaf(struct mime_walk *w, struct moat_part *p, GMimePart *part, GByteArray **bytes)
{
	GMimeDataWrapper *wrapper = g_mime_part_get_content(part);	/* transfer none */
	GMimeStream *raw = wrapper ? g_mime_data_wrapper_get_stream(wrapper) : NULL;
	GMimeContentEncoding enc = wrapper ? g_mime_data_wrapper_get_encoding(wrapper)
	    : GMIME_CONTENT_ENCODING_DEFAULT;
	struct mime_sink sink = { 0 };
	struct mime_b64 b64 = { 0 };
	struct mime_qp qp = { 0 };
	GMimeStream *in = NULL;
	gssize n;

	sink.bytes = w->hook == NULL && w->kept_full ? NULL : g_byte_array_new();
	if (raw != NULL)
		mime_raw_range(w->top, raw, p);
	if (raw != NULL && (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE))
		mime_raw_scan(w, enc, raw, &b64, &qp);
	if (raw != NULL && g_mime_stream_reset(raw) == 0) {
		if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_UUENCODE ||
		    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE) {
			GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);

			in = g_mime_stream_filter_new(raw);
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(in), f);
			g_object_unref(f);	/* the filter stream holds it */
		} else {
			in = g_object_ref(raw);
		}
		while ((n = g_mime_stream_read(in, (char *)w->buf, MIME_CHUNK)) > 0)
			mime_sink_add(w, &sink, w->buf, (gsize)n);
		g_object_unref(in);
	}

	p->decoded_size = sink.size;
	p->raw_b64_strict = enc == GMIME_CONTENT_ENCODING_BASE64 && mime_b64_strict(&b64);
	G_STATIC_ASSERT(sizeof(p->sha256) == SHA256_HEX_LEN + 1);
	sha256_final_hex(w->sha, p->sha256);
	p->sniffed = sniff_type(w->head, sink.head_len, NULL);
	*bytes = sink.bytes;

	if (b64.bad > 0)
		report_add_finding_at(w->rep, "mime.bad_base64", p,
		    "%" G_GUINT64_FORMAT " characters outside the base64 alphabet, first 0x%02x "
		    "at byte %" G_GUINT64_FORMAT "%s", b64.bad, b64.first_char, b64.first_bad,
		    b64.after_pad ? "; data after the '=' padding" : "");
	else if (b64.after_pad)
		report_add_finding_at(w->rep, "mime.bad_base64", p,
		    "data after the '=' padding: a second base64 stream");
	/* Sloppy quoted-printable is common in text bodies; in an attachment it hides bytes. */
	if (qp.bad > 0)
		report_add_finding(w->rep, p->is_attachment ? "mime.ambiguous" : "mime.malformed",
		    p->path, "%" G_GUINT64_FORMAT " invalid quoted-printable escapes: decoders "
		    "disagree", qp.bad);
	return 0;
}

/* mime_lower_strip - a lower-case, trimmed copy of S, or NULL */
static char *
mime_lower_strip(const char *s)
{
	char *r;

	if (s == NULL)
		return NULL;
	r = g_ascii_strdown(s, -1);
	return g_strstrip(r);
}

/*
 * mime_charset - the charset parameter of text part OBJ, lower-case, or
 * NULL when absent or not a charset's name (at most 64 bytes of
 * letters, digits and "-_.:()+"): text.c hands it to iconv.
 */
static char *
mime_charset(GMimeObject *obj, const char *type)
{
	const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
	gsize n;

	if (cs == NULL || strncmp(type, "text/", 5) != 0)
		return NULL;
	n = strlen(cs);
	if (n == 0 || n > 64 || strspn(cs, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.:()+") != n)
		return NULL;
	return g_ascii_strdown(cs, -1);
}

/* mime_name_or_null - a declared name as valid UTF-8, or NULL */
static char *
mime_name(const char *s)
{
	return s ? g_utf8_make_valid(s, -1) : NULL;
}

/*
 * mime_check_encoding - a Content-Transfer-Encoding outside RFC 2045's five
 * (x-uuencode, binhex, x-gzip64, yEnc, "base64 (comment)"): GMime reads the
 * body raw, some clients decode it, so the part is ambiguous.
 */
static void
mime_check_encoding(struct mime_walk *w, const struct moat_part *p)
{
	static const char *const known[] = { "7bit", "8bit", "binary", "base64", "quoted-printable" };
	const char *cte = p->transfer_encoding;

	if (cte == NULL)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(known); i++)
		if (strcmp(cte, known[i]) == 0)
			return;
	report_add_finding_at(w->rep, "mime.ambiguous", p,
	    "unusual Content-Transfer-Encoding '%s': clients decode it differently", cte);
}

static int mime_walk_object(struct mime_walk *w, GMimeObject *obj, GPtrArray *path,
    const char *id, guint depth);

/*
 * mime_walk_encoded_message - a message/rfc822 part that GMime kept as a
 * leaf because it came base64- or quoted-printable-encoded (RFC 2046 5.2.1
 * forbids that; clients decode it and show the message anyway). Its decoded
 * BYTES (borrowed) are parsed in place and walked one level down, like any
 * attached message. TRUE when it was opened and held a message: its leaves
 * went to the walk one by one; FALSE leaves the bytes to be scanned whole.
 * The bytes of every encoded message open at once count against
 * max_decoded_bytes with the kept bytes, so nesting them does not multiply
 * memory: past that the layer is not opened (mime.unopened) and goes to
 * the walk whole, where libclamav reads it as mail.
 */
static gboolean
mime_walk_encoded_message(struct mime_walk *w, const struct moat_part *p, GByteArray *bytes,
    guint depth, int *rc)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *inner;
	GMimeObject *body;
	GPtrArray *path;
	gboolean opened = FALSE;

	if (bytes == NULL || (strcmp(p->content_type, "message/rfc822") != 0 &&
	    strcmp(p->content_type, "message/global") != 0))
		return FALSE;
	report_add_finding_at(w->rep, "mime.ambiguous", p,
	    "%s sent with Content-Transfer-Encoding %s: GMime keeps it shut, clients open it",
	    p->content_type, p->transfer_encoding ? p->transfer_encoding : "(none)");
	if (w->rep->kept + w->layers + bytes->len > w->conf->limits.max_decoded_bytes) {
		report_add_finding_at(w->rep, "mime.unopened", p,
		    "encoded message of %u bytes inside %" G_GUINT64_FORMAT " bytes of encoded "
		    "messages: not opened (limit %" G_GUINT64_FORMAT "), scanned whole",
		    bytes->len, w->layers, w->conf->limits.max_decoded_bytes);
		return FALSE;
	}
	w->layers += bytes->len;
	stream = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);	/* BYTES stay the caller's */
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	inner = g_mime_parser_construct_message(parser, w->opts);	/* transfer full */
	/* the walk below pushes and pops names: on a path of its own, not the part's */
	path = g_ptr_array_copy(p->path, (GCopyFunc)(void (*)(void))g_strdup, NULL);
	g_ptr_array_set_free_func(path, g_free);
	if (inner != NULL && (body = g_mime_message_get_mime_part(inner)) != NULL) {
		*rc = mime_walk_object(w, body, path, p->id, depth + 1);
		opened = TRUE;
	}
	g_ptr_array_unref(path);
	g_clear_object(&inner);
	g_object_unref(parser);
	g_object_unref(stream);
	w->layers -= bytes->len;
	/* Nothing GMime could read as a message: the caller scans the bytes whole. */
	return opened;
}

/* mime_leaf - inventory one leaf part */
static int
mime_leaf(struct mime_walk *w, GMimeObject *obj, GPtrArray *path, const char *id, guint depth)
{
	GMimePart *part = GMIME_PART(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);	/* transfer none */
	g_autofree char *type = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	const char *filename = g_mime_part_get_filename(part);		/* transfer none */
	struct moat_part *p;
	GByteArray *bytes = NULL;
	int rc = 0;

	if (filename != NULL)
		g_ptr_array_add(path, g_strdup(filename));
	else
		g_ptr_array_add(path, g_strdup_printf("(part %s, %s)", *id ? id : "1", type));
	p = report_part_new(w->rep, path);
	g_ptr_array_remove_index(path, path->len - 1);

	p->id = g_strdup(id);
	p->depth = depth;
	p->content_type = mime_lower_strip(type);
	p->charset = mime_charset(obj, p->content_type);
	p->filename = mime_name(filename);
	p->disp_filename = mime_name(g_mime_object_get_content_disposition_parameter(obj, "filename"));
	p->type_name = mime_name(g_mime_object_get_content_type_parameter(obj, "name"));
	p->disposition = mime_lower_strip(g_mime_object_get_disposition(obj));
	p->transfer_encoding = mime_lower_strip(g_mime_object_get_header(obj,
	    "Content-Transfer-Encoding"));
	p->is_attachment = filename != NULL || g_mime_part_is_attachment(part);

	mime_check_headers(w, obj, p->path);
	mime_check_encoding(w, p);
	if (mime_decode_leaf(w, p, part, &bytes) < 0)
		return MOAT_EINTERNAL;
	if (strcmp(p->sniffed, "tnef") == 0 || strcmp(p->content_type, "application/ms-tnef") == 0 ||
	    strcmp(p->content_type, "application/vnd.ms-tnef") == 0)
		report_add_finding_at(w->rep, "mime.tnef", p, "%s, %" G_GUINT64_FORMAT " bytes",
		    p->content_type, p->decoded_size);
	/* An encoded message opened here has its leaves scanned one by one; any other leaf now. */
	if (!mime_walk_encoded_message(w, p, bytes, depth, &rc) && bytes != NULL && w->hook != NULL)
		w->hook->fn(w->hook->ctx, p, bytes->data, bytes->len);
	mime_keep(w, p, bytes);
	return rc;
}

/* mime_walk_message - an attached message/rfc822: its parts one level down */
static int
mime_walk_message(struct mime_walk *w, GMimeMessagePart *mp, GPtrArray *path, const char *id,
    guint depth)
{
	GMimeMessage *inner = g_mime_message_part_get_message(mp);	/* transfer none */
	GMimeObject *obj = GMIME_OBJECT(mp);
	const char *name = g_mime_object_get_content_disposition_parameter(obj, "filename");
	GMimeObject *body;
	int rc;

	if (name == NULL)
		name = g_mime_object_get_content_type_parameter(obj, "name");
	if (name != NULL)
		g_ptr_array_add(path, g_strdup(name));
	else
		g_ptr_array_add(path, g_strdup_printf("(message %s)", *id ? id : "1"));
	mime_check_headers(w, obj, path);
	if (inner != NULL && (body = g_mime_message_get_mime_part(inner)) != NULL) {
		mime_check_headers(w, GMIME_OBJECT(inner), path);
		rc = mime_walk_object(w, body, path, id, depth + 1);
	} else {
		rc = 0;
	}
	g_ptr_array_remove_index(path, path->len - 1);
	return rc;
}

/* mime_walk_object - one node of the MIME tree, within the depth and part limits */
static int
mime_walk_object(struct mime_walk *w, GMimeObject *obj, GPtrArray *path, const char *id,
    guint depth)
{
	if (report_over_budget(w->rep))
		return 0;
	if (depth > w->conf->limits.max_depth) {
		if (w->too_deep++ == 0)
			report_add_finding(w->rep, "mime.too_deep", path,
			    "part %s is nested deeper than %u levels", id, w->conf->limits.max_depth);
		return 0;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		mime_check_headers(w, obj, path);
		for (int i = 0; i < n && w->nparts <= w->conf->limits.max_parts; i++) {
			g_autofree char *child_id = *id ? g_strdup_printf("%s.%d", id, i + 1)
			    : g_strdup_printf("%d", i + 1);
			int rc = mime_walk_object(w, g_mime_multipart_get_part(mp, i), path,
			    child_id, depth + 1);

			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj))
		return mime_walk_message(w, GMIME_MESSAGE_PART(obj), path, id, depth);
	if (!GMIME_IS_PART(obj))
		return 0;
	if (++w->nparts > w->conf->limits.max_parts)
		return 0;
	return mime_leaf(w, obj, path, id, depth);
}

/* mime_count_leaves - leaves GMime built, to say how many the limit left out */
static void
mime_count_leaves(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	(void)parent;
	if (GMIME_IS_PART(part))
		(*(guint *)data)++;
}

/*
 * mime_stream_view - the whole message as bytes: borrowed from a memory or
 * mapped stream, else read into *COPY (caller frees). NULL on a read error.
 */
static const guchar *
mime_stream_view(GMimeStream *stream, gsize *len, GByteArray **copy)
{
	GMimeStream *mem;

	*copy = NULL;
	if (GMIME_IS_STREAM_MEM(stream)) {
		GByteArray *buf = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));

		*len = buf->len;
		return buf->data;
	}
	if (GMIME_IS_STREAM_MMAP(stream)) {
		*len = GMIME_STREAM_MMAP(stream)->maplen;
		return (const guchar *)GMIME_STREAM_MMAP(stream)->map;
	}
	*copy = g_byte_array_new();
	mem = g_mime_stream_mem_new_with_byte_array(*copy);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	if (g_mime_stream_reset(stream) != 0 || g_mime_stream_write_to_stream(stream, mem) < 0) {
		g_object_unref(mem);
		g_byte_array_unref(*copy);
		*copy = NULL;
		return NULL;
	}
	g_object_unref(mem);
	*len = (*copy)->len;
	return (*copy)->data;
}

/* mime_salvage - the lenient second reading, unless a limit already cut the walk */
static void
mime_salvage(struct mime_walk *w, GMimeStream *stream)
{
	GByteArray *copy = NULL;
	const guchar *raw;
	gsize len = 0;

	if (w->nparts > w->conf->limits.max_parts || w->too_deep > 0 || report_over_budget(w->rep))
		return;		/* the limit findings already say the inventory is partial */
	if ((raw = mime_stream_view(stream, &len, &copy)) != NULL)
		salvage_scan(w->rep, raw, len, w->conf, w->hook);
	if (copy != NULL)
		g_byte_array_unref(copy);
}

static void
mime_walk_finish(struct mime_walk *w, GMimeMessage *msg)
{
	if (w->nparts > w->conf->limits.max_parts) {
		guint total = 0;

		g_mime_message_foreach(msg, mime_count_leaves, &total);
		report_add_finding(w->rep, "mime.too_many_parts", NULL,
		    "%u leaf parts or more, %u inventoried", MAX(total, w->nparts),
		    w->conf->limits.max_parts);
	}
	if (w->kept_full)
		report_add_finding(w->rep, "mime.too_large", NULL,
		    "decoded parts exceed %" G_GUINT64_FORMAT " bytes; later parts scanned, not kept",
		    w->conf->limits.max_decoded_bytes);
	mime_report_warnings(w);
}

int
mime_inventory(struct moat_report *rep, GMimeStream *stream, const struct moat_conf *conf,
    const struct moat_leaf_hook *hook)
{
	struct mime_walk w = { .rep = rep, .conf = conf, .hook = hook };
	GMimeParserOptions *opts = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	GPtrArray *path = NULL;
	gint64 len = g_mime_stream_length(stream);
	int rc = 0;

	rep->size = len > 0 ? (guint64)len : 0;
	if (rep->size > conf->limits.max_message_bytes) {
		report_add_finding(rep, "mime.message_too_large", NULL,
		    "%" G_GUINT64_FORMAT " bytes, limit %" G_GUINT64_FORMAT, rep->size,
		    conf->limits.max_message_bytes);
		return 0;
	}

	path = g_ptr_array_new_with_free_func(g_free);
	opts = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(opts, mime_on_warning, &w);
	w.opts = opts;
	w.top = stream;
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, opts);	/* transfer full */
	if (msg == NULL) {
		report_add_finding(rep, "mime.malformed", NULL, "GMime found no message in the input");
		mime_report_warnings(&w);
		goto out;
	}
	w.buf = g_malloc(MIME_CHUNK);
	w.head = g_malloc(SNIFF_HEAD_BYTES);
	w.sha = sha256_new();
	mime_header_facts(&rep->hdr, msg);
	mime_check_headers(&w, GMIME_OBJECT(msg), path);
	if (g_mime_message_get_mime_part(msg) != NULL)
		rc = mime_walk_object(&w, g_mime_message_get_mime_part(msg), path, "", 0);
	mime_salvage(&w, stream);
	mime_walk_finish(&w, msg);
out:
	for (guint c = 0; c < MIME_NWARN; c++)
		g_free(w.warn_item[c]);
	g_free(w.buf);
	g_free(w.head);
	sha256_free(w.sha);
	g_ptr_array_unref(path);
	g_clear_object(&msg);
	g_clear_object(&parser);
	g_mime_parser_options_free(opts);
	return rc;
}
