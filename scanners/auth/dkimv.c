/*
 * dkimv.c - DKIM verification (RFC 6376) with libopendkim
 *
 * In: the message as received (a GMimeStream, read from its start and left
 * reset), the message's struct auth_dns and [auth] dkim_min_key_bits /
 * dkim_max_signatures. Out: one struct auth_dkim per DKIM-Signature field,
 * top first, appended to the caller's array. A message with no
 * DKIM-Signature field adds nothing. Never fails: what cannot be checked is
 * temperror (DNS, no memory) or permerror/neutral, with the reason.
 *
 * Results (RFC 8601 §2.7.1 words; RFC 6376 §6.1 calls all but pass and
 * temperror PERMFAIL):
 *   pass       signature and body hash verified
 *   fail       body hash did not verify, or the signature did not
 *   policy     verified, but with a key shorter than dkim_min_key_bits
 *   neutral    the signature field itself is unusable (syntax, v=, a=, c=,
 *              expired, i= outside d=, ...)
 *   permerror  the key is missing, revoked or unusable; or libopendkim
 *              refused the message as a whole
 *   temperror  the key lookup timed out or failed (past the DNS deadline
 *              included), or we ran out of memory
 *
 * Line ends: bare LF is turned into CRLF as the message is read (a milter
 * gets CRLF already; test files often have LF). Headers are handed to
 * dkim_header() one field at a time, continuation lines included.
 *
 * Limits: header section DKIMV_MAX_HEADER bytes (past it: permerror for
 * every signature seen); at most dkim_max_signatures signatures are
 * verified, the others are marked ignored before any key is looked up
 * and not reported. One key lookup per signature, through auth_dns_txt().
 *
 * Threads: reentrant. Shared: one DKIM_LIB per dkim_min_key_bits value,
 * made on first use under dkimv_lock and kept for the life of the process
 * (libopendkim's library handle is read-only once set up). Everything
 * else belongs to one call.
 */
#include <assert.h>
#include <string.h>

#include <dkim.h>

#include "moat/dkimv.h"

#define DKIMV_MAX_HEADER	(1024 * 1024)	/* bytes of header section we read */
#define DKIMV_CHUNK		65536		/* bytes read from the stream at once */
#define DKIMV_MAX_NAME		253		/* a DNS name, RFC 1035 §2.3.4 */
#define DKIMV_MAX_FIELD		255		/* bytes kept of d=, s=, i=, a= */

/* why our key lookup gave up, kept per signature (libopendkim keeps only NOKEY) */
enum dkimv_mark {
	DKIMV_MARK_NONE = 0,
	DKIMV_MARK_TEMPFAIL,		/* timeout, SERVFAIL, past the deadline */
	DKIMV_MARK_NXDOMAIN,		/* no such name */
	DKIMV_MARK_NODATA,		/* the name has no TXT record */
	DKIMV_MARK_BADNAME,		/* s= or d= cannot make a DNS name */
	DKIMV_MARK_TOOLONG,		/* the record does not fit libopendkim's buffer */
	DKIMV_MARK_BADQUERY,		/* q= names no method we know (no lookup made) */
};

/* One dkimv_check() call, handed to the callbacks as the DKIM user context. */
struct dkimv_ctx {
	struct auth_dns *dns;		/* borrowed */
	guint max;			/* signatures to verify */
	GHashTable *marks;		/* DKIM_SIGINFO * -> enum dkimv_mark, owned */
};

static GMutex dkimv_lock;		/* guards dkimv_libs */
static GHashTable *dkimv_libs;		/* min key bits -> DKIM_LIB *, never freed */

/* dkimv_ctx_of - our context, from the DKIM handle the callbacks get */
static struct dkimv_ctx *
dkimv_ctx_of(DKIM *dkim)
{
	return dkim_get_user_context(dkim);
}

/* dkimv_prescreen - ignore the signatures past dkim_max_signatures before any lookup */
static DKIM_CBSTAT
dkimv_prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkimv_ctx *ctx = dkimv_ctx_of(dkim);

	for (int i = 0; ctx != NULL && i < nsigs; i++)
		if ((guint)i >= ctx->max)
			dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

/* dkimv_key_name - "selector._domainkey.domain", lower case; NULL when unusable */
static char *
dkimv_key_name(const char *sel, const char *dom)
{
	char *name;
	size_t len;

	if (sel == NULL || dom == NULL || *sel == '\0' || *dom == '\0')
		return NULL;
	name = g_strconcat(sel, "._domainkey.", dom, NULL);
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		name[--len] = '\0';
	for (char *p = name; *p != '\0'; p++) {
		/* letters, digits, '-', '_' (RFC 8553 underscore labels), dots between labels */
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			goto bad;
		if (*p == '.' && (p == name || p[1] == '.' || p[1] == '\0'))
			goto bad;
		*p = g_ascii_tolower(*p);
	}
	if (len == 0 || len > DKIMV_MAX_NAME)
		goto bad;
	return name;
bad:
	g_free(name);
	return NULL;
}

/* dkimv_pick_record - the key record among a TXT RRset: the first "v=DKIM1", else the first */
static const char *
dkimv_pick_record(GPtrArray *txt)
{
	for (guint i = 0; i < txt->len; i++) {
		const char *r = g_ptr_array_index(txt, i);

		while (*r == ' ' || *r == '\t')
			r++;
		if (g_ascii_strncasecmp(r, "v=DKIM1", 7) == 0)
			return g_ptr_array_index(txt, i);
	}
	return txt->len > 0 ? g_ptr_array_index(txt, 0) : NULL;
}

/*
 * dkimv_query_ok - whether q= (libopendkim puts in "dns/txt" when absent)
 * lists dns/txt. RFC 6376 §3.5: unknown methods are ignored, so none left
 * means no key can be had. libopendkim checks this only when it makes the
 * lookup itself, not with a key lookup callback.
 */
static gboolean
dkimv_query_ok(const char *q)
{
	g_auto(GStrv) methods = NULL;

	if (q == NULL)
		return TRUE;
	methods = g_strsplit(q, ":", -1);
	for (char **m = methods; *m != NULL; m++)
		if (g_ascii_strcasecmp(g_strstrip(*m), "dns/txt") == 0)
			return TRUE;
	return FALSE;
}

/* dkimv_key_lookup - libopendkim's key lookup, through auth_dns_txt() */
static DKIM_CBSTAT
dkimv_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dkimv_ctx *ctx = dkimv_ctx_of(dkim);
	GPtrArray *txt = NULL;
	const char *rec;
	enum dkimv_mark mark = DKIMV_MARK_NONE;
	DKIM_CBSTAT ret = DKIM_CBSTAT_NOTFOUND;
	char *name;

	if (ctx == NULL)
		return DKIM_CBSTAT_ERROR;
	if (!dkimv_query_ok((const char *)dkim_sig_gettagvalue(sig, FALSE, (u_char *)"q"))) {
		g_hash_table_insert(ctx->marks, sig, GINT_TO_POINTER(DKIMV_MARK_BADQUERY));
		return DKIM_CBSTAT_NOTFOUND;
	}
	name = dkimv_key_name((const char *)dkim_sig_getselector(sig),
	    (const char *)dkim_sig_getdomain(sig));
	if (name == NULL) {
		mark = DKIMV_MARK_BADNAME;
		goto out;
	}
	switch (auth_dns_txt(ctx->dns, name, &txt)) {
	case AUTH_DNS_OK:
		rec = dkimv_pick_record(txt);
		if (rec == NULL) {
			mark = DKIMV_MARK_NODATA;
		} else if (strlen(rec) >= buflen) {
			mark = DKIMV_MARK_TOOLONG;
		} else {
			g_strlcpy((char *)buf, rec, buflen);
			ret = DKIM_CBSTAT_CONTINUE;
		}
		break;
	case AUTH_DNS_NXDOMAIN:
		mark = DKIMV_MARK_NXDOMAIN;
		break;
	case AUTH_DNS_NODATA:
		mark = DKIMV_MARK_NODATA;
		break;
	case AUTH_DNS_TEMPFAIL:
	default:
		/* TRYAGAIN leaves the signature unprocessed; the mark says why */
		mark = DKIMV_MARK_TEMPFAIL;
		ret = DKIM_CBSTAT_TRYAGAIN;
		break;
	}
out:
	if (mark != DKIMV_MARK_NONE)
		g_hash_table_insert(ctx->marks, sig, GINT_TO_POINTER(mark));
	if (txt != NULL)
		g_ptr_array_unref(txt);
	g_free(name);
	return ret;
}

/* dkimv_lib - the shared library handle for MIN_BITS, made on first use; NULL on failure */
static DKIM_LIB *
dkimv_lib(guint min_bits)
{
	DKIM_LIB *lib;
	/*
	 * BADSIGHANDLES: a malformed DKIM-Signature stays in the list (with
	 * its error) instead of making dkim_eoh() refuse the message, so the
	 * others are still verified. VERIFYONE stays off: every signature is
	 * verified, not only up to the first good one. DELAYSIGPROC: keys
	 * are looked up in dkim_eom(), which goes on past a signature whose
	 * lookup failed; dkim_eoh() would stop at the first one that asks to
	 * try again and leave the others unchecked.
	 */
	unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_DELAYSIGPROC;
	unsigned int bits = min_bits;

	g_mutex_lock(&dkimv_lock);
	if (dkimv_libs == NULL)
		dkimv_libs = g_hash_table_new(g_direct_hash, g_direct_equal);
	lib = g_hash_table_lookup(dkimv_libs, GUINT_TO_POINTER(min_bits));
	if (lib != NULL)
		goto out;
	if ((lib = dkim_init(NULL, NULL)) == NULL)
		goto out;
	/*
	 * Ed25519 (RFC 8463) needs no option: libopendkim 2.11 built against
	 * OpenSSL >= 1.1.1 verifies it whenever DKIM_FEATURE_ED25519 is set;
	 * 2.10 gives "invalid a=" (neutral) for such signatures.
	 */
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof bits) != DKIM_STAT_OK ||
	    dkim_set_key_lookup(lib, dkimv_key_lookup) != DKIM_STAT_OK ||
	    dkim_set_prescreen(lib, dkimv_prescreen) != DKIM_STAT_OK) {
		dkim_close(lib);
		lib = NULL;
		goto out;
	}
	g_hash_table_insert(dkimv_libs, GUINT_TO_POINTER(min_bits), lib);
out:
	g_mutex_unlock(&dkimv_lock);
	return lib;
}

/* dkimv_copy - a kept copy of a string from the message: control bytes become '?', capped */
static char *
dkimv_copy(const char *s)
{
	char *c;

	if (s == NULL)
		return NULL;
	c = g_strndup(s, DKIMV_MAX_FIELD);
	for (char *p = c; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

/* dkimv_b8 - the first 8 characters of b=, folding white space left out (RFC 6008) */
static char *
dkimv_b8(const char *b)
{
	char out[9];
	size_t n = 0;

	if (b == NULL)
		return NULL;
	for (; *b != '\0' && n < 8; b++)
		if (!g_ascii_isspace(*b))
			out[n++] = *b;
	out[n] = '\0';
	return n > 0 ? dkimv_copy(out) : NULL;
}

/* dkimv_alg_name - a= as RFC 6376/8463 spell it, or the tag as written */
static char *
dkimv_alg_name(const char *a)
{
	static const char *const known[] = { "rsa-sha256", "rsa-sha1", "ed25519-sha256" };

	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
		if (g_ascii_strcasecmp(a, known[i]) == 0)
			return g_strdup(known[i]);
	return dkimv_copy(a);
}

/* dkimv_sig_error_result - what a libopendkim signature error means (header comment) */
static enum auth_result
dkimv_sig_error_result(int err)
{
	switch (err) {
	case DKIM_SIGERROR_BADSIG:
		return AUTH_FAIL;
	case DKIM_SIGERROR_KEYTOOSMALL:
		return AUTH_POLICY;
	case DKIM_SIGERROR_KEYFAIL:
		return AUTH_TEMPERROR;
	case DKIM_SIGERROR_NOKEY:
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_SUBDOMAIN:		/* key t=s, i= in a subdomain of d= */
	case DKIM_SIGERROR_UNKNOWN:
		return AUTH_PERMERROR;
	default:
		/* the signature field's own syntax and semantics */
		return AUTH_NEUTRAL;
	}
}

/* dkimv_judge - fill D's result and reason from SIG's state after dkim_eom() */
static void
dkimv_judge(struct auth_dkim *d, DKIM *dkim, DKIM_SIGINFO *sig, struct dkimv_ctx *ctx)
{
	enum dkimv_mark mark = GPOINTER_TO_INT(g_hash_table_lookup(ctx->marks, sig));
	unsigned int flags = dkim_sig_getflags(sig);
	int bh = dkim_sig_getbh(sig);
	int err = dkim_sig_geterror(sig);
	const char *why;

	switch (mark) {
	case DKIMV_MARK_TEMPFAIL:
		d->result = AUTH_TEMPERROR;
		d->reason = g_strdup("key lookup timed out or failed");
		return;
	case DKIMV_MARK_BADQUERY:
		d->result = AUTH_NEUTRAL;
		d->reason = g_strdup("no known query method (q=)");
		return;
	case DKIMV_MARK_BADNAME:
		d->result = AUTH_NEUTRAL;
		d->reason = g_strdup("s= and d= do not make a DNS name");
		return;
	case DKIMV_MARK_TOOLONG:
		d->result = AUTH_PERMERROR;
		d->reason = g_strdup("key record too long");
		return;
	case DKIMV_MARK_NXDOMAIN:
	case DKIMV_MARK_NODATA:
		/* RFC 6376 §6.1.2: no key record is PERMFAIL */
		d->result = AUTH_PERMERROR;
		d->reason = g_strdup(mark == DKIMV_MARK_NXDOMAIN ? "key not found" :
		    "no key record");
		return;
	case DKIMV_MARK_NONE:
		break;
	}
	if ((flags & DKIM_SIGFLAG_PROCESSED) == 0 && err == DKIM_SIGERROR_UNKNOWN) {
		/* dkim_sig_process() failed inside dkim_eom() (no memory, a callback error) */
		d->result = AUTH_TEMPERROR;
		why = dkim_geterror(dkim);
		d->reason = g_strdup_printf("not verified: %s",
		    why != NULL && *why != '\0' ? why : "internal error");
		return;
	}
	if (err == DKIM_SIGERROR_KEYTOOSMALL) {
		d->result = AUTH_POLICY;
		d->reason = g_strdup_printf("key too short (%u bits)", d->key_bits);
	} else if ((flags & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH &&
	    err == DKIM_SIGERROR_OK) {
		d->result = AUTH_PASS;
	} else if (bh == DKIM_SIGBH_MISMATCH) {
		d->result = AUTH_FAIL;
		d->reason = g_strdup("body hash did not verify");
	} else if (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_BADSIG) {
		d->result = AUTH_FAIL;
		d->reason = g_strdup("signature did not verify");
	} else {
		d->result = dkimv_sig_error_result(err);
		why = dkim_sig_geterrorstr(err);
		d->reason = g_strdup(why != NULL ? why : "unknown error");
	}
}

/* dkimv_sig_new - the record of one signature libopendkim listed */
static struct auth_dkim *
dkimv_sig_new(DKIM *dkim, DKIM_SIGINFO *sig, struct dkimv_ctx *ctx)
{
	struct auth_dkim *d = g_new0(struct auth_dkim, 1);
	unsigned int bits = 0;

	d->domain = dkimv_copy((const char *)dkim_sig_getdomain(sig));
	d->selector = dkimv_copy((const char *)dkim_sig_getselector(sig));
	/*
	 * a= from the tag, not dkim_sig_getsignalg(): that is only filled
	 * when the signature got as far as a= without error, and reads
	 * rsa-sha1 (0) otherwise.
	 */
	d->algorithm = dkimv_alg_name((const char *)dkim_sig_gettagvalue(sig, FALSE,
	    (u_char *)"a"));
	d->identity = dkimv_copy((const char *)dkim_sig_gettagvalue(sig, FALSE, (u_char *)"i"));
	d->b = dkimv_b8((const char *)dkim_sig_gettagvalue(sig, FALSE, (u_char *)"b"));
	if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_PROCESSED) != 0 &&
	    dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		d->key_bits = bits;
	dkimv_judge(d, dkim, sig, ctx);
	/* libopendkim sizes RSA keys only; an Ed25519 key is 256 bits (RFC 8032) */
	if (d->key_bits == 0 && (d->result == AUTH_PASS || d->result == AUTH_FAIL) &&
	    g_strcmp0(d->algorithm, "ed25519-sha256") == 0)
		d->key_bits = 256;
	return d;
}

/* dkimv_tag - the value of TAG in the tag list of a DKIM-Signature field VALUE, or NULL */
static char *
dkimv_tag(const char *value, const char *tag)
{
	g_auto(GStrv) parts = g_strsplit(value, ";", -1);

	for (char **p = parts; *p != NULL; p++) {
		char *eq = strchr(*p, '=');
		char *name;

		if (eq == NULL)
			continue;
		name = g_strstrip(g_strndup(*p, eq - *p));
		if (g_ascii_strcasecmp(name, tag) == 0) {
			g_free(name);
			return g_strdup(g_strstrip(eq + 1));
		}
		g_free(name);
	}
	return NULL;
}

/*
 * dkimv_refused - one record per DKIM-Signature field in FIELDS (their
 * values), all with RESULT and REASON: libopendkim refused the message as a
 * whole, so no signature has state of its own. The tags come from our own
 * plain reading of the field.
 */
static void
dkimv_refused(GPtrArray *out, GPtrArray *fields, guint max, enum auth_result result,
    const char *reason)
{
	for (guint i = 0; i < fields->len && i < max; i++) {
		const char *v = g_ptr_array_index(fields, i);
		struct auth_dkim *d = g_new0(struct auth_dkim, 1);
		char *t;

		d->result = result;
		d->reason = g_strdup(reason);
		d->domain = dkimv_copy(t = dkimv_tag(v, "d"));
		g_free(t);
		d->selector = dkimv_copy(t = dkimv_tag(v, "s"));
		g_free(t);
		d->algorithm = dkimv_alg_name(t = dkimv_tag(v, "a"));
		g_free(t);
		d->identity = dkimv_copy(t = dkimv_tag(v, "i"));
		g_free(t);
		d->b = dkimv_b8(t = dkimv_tag(v, "b"));
		g_free(t);
		g_ptr_array_add(out, d);
	}
}

/* dkimv_crlf - append IN to OUT with every bare LF made CRLF; *CR: last byte was CR */
static void
dkimv_crlf(GByteArray *out, const guint8 *in, gssize n, gboolean *cr)
{
	static const guint8 crlf[] = { '\r', '\n' };
	gssize start = 0;

	for (gssize i = 0; i < n; i++) {
		if (in[i] == '\n' && !(i > 0 ? in[i - 1] == '\r' : *cr)) {
			g_byte_array_append(out, in + start, i - start);
			g_byte_array_append(out, crlf, 2);
			start = i + 1;
		}
	}
	g_byte_array_append(out, in + start, n - start);
	if (n > 0)
		*cr = in[n - 1] == '\r';
}

/* dkimv_is_sig_field - whether the field at F (LEN bytes) is a DKIM-Signature */
static gboolean
dkimv_is_sig_field(const guint8 *f, size_t len)
{
	static const char name[] = "DKIM-Signature";
	size_t n = sizeof name - 1, i;

	if (len <= n || g_ascii_strncasecmp((const char *)f, name, n) != 0)
		return FALSE;
	for (i = n; i < len && (f[i] == ' ' || f[i] == '\t'); i++)
		;
	return i < len && f[i] == ':';
}

/*
 * dkimv_feed_headers - hand the header section HDR (HLEN bytes, CRLF, no
 * blank line) to DKIM one field at a time, without each field's final
 * CRLF; collect the DKIM-Signature fields' values in FIELDS. Returns the
 * first status that is neither OK nor SYNTAX (a field libopendkim would
 * not take, or a malformed signature it keeps: go on), else DKIM_STAT_OK.
 */
static DKIM_STAT
dkimv_feed_headers(DKIM *dkim, GPtrArray *fields, guint8 *hdr, size_t hlen)
{
	size_t start = 0;

	while (start < hlen) {
		size_t end = start;
		DKIM_STAT st;

		/* the field ends at a CRLF not followed by WSP */
		for (;;) {
			guint8 *nl = memchr(hdr + end, '\n', hlen - end);

			if (nl == NULL) {
				end = hlen;
				break;
			}
			end = nl - hdr + 1;
			if (end >= hlen || (hdr[end] != ' ' && hdr[end] != '\t'))
				break;
		}
		{
			size_t flen = end - start;

			if (flen > 0 && hdr[start + flen - 1] == '\n')
				flen--;
			if (flen > 0 && hdr[start + flen - 1] == '\r')
				flen--;
			if (flen > 0) {
				if (dkimv_is_sig_field(hdr + start, flen)) {
					const guint8 *c = memchr(hdr + start, ':', flen);

					g_ptr_array_add(fields, g_strndup((const char *)c + 1,
					    flen - (c + 1 - (hdr + start))));
				}
				st = dkim_header(dkim, hdr + start, flen);
				if (st != DKIM_STAT_OK && st != DKIM_STAT_SYNTAX)
					return st;
			}
		}
		start = end;
	}
	return DKIM_STAT_OK;
}

/* dkimv_find_eoh - offset of the blank line ending the header section in BUF, or -1 */
static gssize
dkimv_find_eoh(const GByteArray *buf, gsize from)
{
	if (buf->len >= 2 && buf->data[0] == '\r' && buf->data[1] == '\n')
		return 0;		/* no header fields at all */
	for (gsize i = from > 3 ? from - 3 : 0; i + 4 <= buf->len; i++)
		if (memcmp(buf->data + i, "\r\n\r\n", 4) == 0)
			return i + 2;
	return -1;
}

/*
 * dkimv_run - read STREAM into DKIM: headers, end of headers, body, end of
 * message. Returns the status that stopped it (DKIM_STAT_OK: dkim_eom()
 * was reached; its own status is ignored, each signature has its state),
 * with the DKIM-Signature field values in FIELDS.
 */
static DKIM_STAT
dkimv_run(DKIM *dkim, GPtrArray *fields, GMimeStream *stream, const char **why)
{
	g_autoptr(GByteArray) buf = g_byte_array_new();
	guint8 *chunk = g_malloc(DKIMV_CHUNK);
	gboolean cr = FALSE, in_body = FALSE, eof = FALSE;
	gssize eoh = -1;
	DKIM_STAT st = DKIM_STAT_OK;
	_Bool testkey = FALSE;

	*why = NULL;
	while (!in_body && !eof) {
		gsize before = buf->len;
		gssize n = g_mime_stream_read(stream, (char *)chunk, DKIMV_CHUNK);

		if (n <= 0) {
			eof = TRUE;
			break;
		}
		dkimv_crlf(buf, chunk, n, &cr);
		if ((eoh = dkimv_find_eoh(buf, before)) >= 0)
			in_body = TRUE;
		else if (buf->len > DKIMV_MAX_HEADER) {
			/* only to name the signatures seen so far in the results */
			(void)dkimv_feed_headers(dkim, fields, buf->data, buf->len);
			*why = "header section too large";
			st = DKIM_STAT_SYNTAX;
			goto out;
		}
	}
	if (eoh < 0)
		eoh = buf->len;		/* header only, no blank line */
	if ((st = dkimv_feed_headers(dkim, fields, buf->data, eoh)) != DKIM_STAT_OK)
		goto out;
	if ((st = dkim_eoh(dkim)) != DKIM_STAT_OK)
		goto out;
	/* the body is what follows the blank line */
	if (in_body && (gsize)eoh + 2 < buf->len &&
	    (st = dkim_body(dkim, buf->data + eoh + 2, buf->len - eoh - 2)) != DKIM_STAT_OK)
		goto out;
	while (in_body) {
		gssize n = g_mime_stream_read(stream, (char *)chunk, DKIMV_CHUNK);

		if (n <= 0)
			break;
		g_byte_array_set_size(buf, 0);
		dkimv_crlf(buf, chunk, n, &cr);
		if ((st = dkim_body(dkim, buf->data, buf->len)) != DKIM_STAT_OK)
			goto out;
	}
	(void)dkim_eom(dkim, &testkey);
	st = DKIM_STAT_OK;
out:
	g_free(chunk);
	return st;
}

void
dkimv_check(GPtrArray *out, struct auth_dns *dns, GMimeStream *stream,
    const struct moat_conf *conf)
{
	struct auth_dns no_zone = { 0 };
	struct dkimv_ctx ctx = { 0 };
	GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
	DKIM_SIGINFO **sigs = NULL;
	DKIM_LIB *lib;
	DKIM *dkim = NULL;
	DKIM_STAT st = DKIM_STAT_INTERNAL;
	const char *why = NULL;
	int nsigs = 0;
	char *reason;

	assert(out != NULL && stream != NULL && conf != NULL);
	ctx.dns = dns != NULL ? dns : &no_zone;
	ctx.max = conf->auth.dkim_max_signatures;
	ctx.marks = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_mime_stream_reset(stream);

	if ((lib = dkimv_lib(conf->auth.dkim_min_key_bits)) == NULL ||
	    (dkim = dkim_verify(lib, (const u_char *)"moat", NULL, &st)) == NULL) {
		why = "libopendkim could not be set up";
		st = DKIM_STAT_NORESOURCE;
	} else if (dkim_set_user_context(dkim, &ctx) != DKIM_STAT_OK) {
		why = "libopendkim could not be set up";
		st = DKIM_STAT_INTERNAL;
	} else {
		st = dkimv_run(dkim, fields, stream, &why);
	}
	if (st == DKIM_STAT_OK) {
		if (dkim_getsiglist(dkim, &sigs, &nsigs) != DKIM_STAT_OK)
			nsigs = 0;
		for (int i = 0; i < nsigs && (guint)i < ctx.max; i++) {
			if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) != 0)
				continue;
			g_ptr_array_add(out, dkimv_sig_new(dkim, sigs[i], &ctx));
		}
		goto done;
	}
	if (fields->len == 0)
		goto done;	/* nothing signed (as far as we read): nothing to say */
	if (why == NULL)
		why = dkim != NULL ? dkim_geterror(dkim) : NULL;
	if (why == NULL || *why == '\0')
		why = dkim_getresultstr(st);
	reason = g_strdup_printf("message not verifiable: %s", why != NULL ? why : "?");
	dkimv_refused(out, fields, ctx.max,
	    st == DKIM_STAT_NORESOURCE || st == DKIM_STAT_INTERNAL ? AUTH_TEMPERROR : AUTH_PERMERROR,
	    reason);
	g_free(reason);
done:
	if (dkim != NULL)
		dkim_free(dkim);
	g_hash_table_destroy(ctx.marks);
	g_ptr_array_unref(fields);
	g_mime_stream_reset(stream);
}
