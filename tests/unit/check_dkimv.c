/*
 * check_dkimv.c - DKIM verification (dkimv_check()): messages signed here
 * with libopendkim's own signer under RSA keys made here (512, 1024, 2048
 * bits, OpenSSL), verified through a test zone. Pass (1024, 2048, LF-only
 * input), body changed and header changed (fail), key missing (permerror),
 * key lookup timed out and DNS deadline passed (temperror, the signature
 * still read), key too short (policy), two signatures one good one bad
 * (both, in order), a garbage DKIM-Signature beside a good one (reported,
 * the good one passes), more signatures than dkim_max_signatures, a header
 * section over the cap (permerror, named), unsigned (nothing), and the
 * stream left at its start.
 */
#include <string.h>

#include <dkim.h>
#include <gmime/gmime.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "checks.h"
#include "moat/auth.h"
#include "moat/conf.h"
#include "moat/dkimv.h"

#define DOMAIN	"example.org"

/* one RSA key: the PEM private key dkim_sign() takes and the DKIM TXT record */
struct key {
	guint bits;
	char *pem;
	char *record;
};

static struct key keys[3] = { { 512, NULL, NULL }, { 1024, NULL, NULL }, { 2048, NULL, NULL } };
#define KEY512	(&keys[0])
#define KEY1024	(&keys[1])
#define KEY2048	(&keys[2])

static const char message[] =
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.net>\r\n"
    "Subject: quarterly figures\r\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
    "Message-ID: <dkimv-test@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Hello Bob,\r\n"
    "\r\n"
    "the figures are attached in spirit.\r\n"
    "Alice\r\n";

/* key_make - a new RSA key of K->bits into K */
static void
key_make(struct key *k)
{
	EVP_PKEY *pkey = EVP_RSA_gen(k->bits);
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char *der = NULL;
	g_autofree char *b64 = NULL;
	char *data;
	long n;
	int dlen;

	ck_assert_ptr_nonnull(pkey);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &data);
	k->pem = g_strndup(data, n);
	dlen = i2d_PUBKEY(pkey, &der);
	ck_assert_int_gt(dlen, 0);
	b64 = g_base64_encode(der, dlen);
	k->record = g_strdup_printf("v=DKIM1; k=rsa; p=%s", b64);
	OPENSSL_free(der);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
}

/* keys_setup - the keys, made once per run (unchecked fixture: before the forks) */
static void
keys_setup(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (keys[i].pem == NULL)
			key_make(&keys[i]);
}

/* crlf - S with bare LF made CRLF; caller g_free()s */
static char *
crlf(const char *s)
{
	GString *o = g_string_sized_new(strlen(s) + 64);

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			g_string_append_c(o, '\r');
		g_string_append_c(o, *p);
	}
	return g_string_free(o, FALSE);
}

/*
 * sign - MSG (CRLF) with a DKIM-Signature by K as SELECTOR._domainkey.DOMAIN
 * added on top, relaxed/relaxed rsa-sha256, through libopendkim's signer.
 * Caller g_free()s.
 */
static char *
sign(const char *msg, const struct key *k, const char *selector)
{
	static DKIM_LIB *lib;
	const char *eoh = strstr(msg, "\r\n\r\n");
	const char *body = eoh + 4;
	DKIM_STAT st;
	DKIM *dkim;
	u_char *hdr = NULL;
	size_t hlen = 0;
	unsigned int bits = 512;
	g_autofree char *sig = NULL;

	ck_assert_ptr_nonnull(eoh);
	if (lib == NULL) {
		lib = dkim_init(NULL, NULL);
		ck_assert_ptr_nonnull(lib);
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits, sizeof bits);
	}
	dkim = dkim_sign(lib, (const u_char *)"check", NULL, (dkim_sigkey_t)k->pem,
	    (const u_char *)selector, (const u_char *)DOMAIN, DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	ck_assert_msg(dkim != NULL, "dkim_sign: %s", dkim_getresultstr(st));
	/* one field at a time, continuation lines included, without the CRLF */
	for (const char *f = msg; f < eoh + 2;) {
		const char *e = f;

		do {
			e = strstr(e, "\r\n") + 2;
		} while (e < eoh + 2 && (*e == ' ' || *e == '\t'));
		ck_assert_int_eq(dkim_header(dkim, (u_char *)f, e - f - 2), DKIM_STAT_OK);
		f = e;
	}
	ck_assert_int_eq(dkim_eoh(dkim), DKIM_STAT_OK);
	ck_assert_int_eq(dkim_body(dkim, (u_char *)body, strlen(body)), DKIM_STAT_OK);
	ck_assert_int_eq(dkim_eom(dkim, NULL), DKIM_STAT_OK);
	ck_assert_int_eq(dkim_getsighdr_d(dkim, strlen("DKIM-Signature: "), &hdr, &hlen),
	    DKIM_STAT_OK);
	sig = g_strdup_printf("DKIM-Signature: %.*s\r\n%s", (int)hlen, hdr, msg);
	dkim_free(dkim);
	return crlf(sig);
}

/* zone_add - NAME answers REC (NULL: an empty RRset) */
static void
zone_add(GHashTable *zone, const char *name, const char *rec)
{
	GPtrArray *recs = g_ptr_array_new_with_free_func(g_free);

	if (rec != NULL)
		g_ptr_array_add(recs, g_strdup(rec));
	g_hash_table_replace(zone, g_strdup(name), recs);
}

/* zone_new - a zone with K's record at SELECTOR (K NULL: empty zone) */
static GHashTable *
zone_new(const struct key *k, const char *selector)
{
	GHashTable *zone = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	    (GDestroyNotify)g_ptr_array_unref);

	if (k != NULL) {
		g_autofree char *name = g_strdup_printf("%s._domainkey." DOMAIN, selector);

		zone_add(zone, name, k->record);
	}
	return zone;
}

/* check - dkimv_check() on MSG with ZONE (and DEADLINE) under CONF (NULL: defaults) */
static GPtrArray *
check_with(const char *msg, GHashTable *zone, gint64 deadline, struct moat_conf *conf)
{
	struct auth_dns dns = { .deadline = deadline, .zone = zone };
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)auth_dkim_free);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	struct moat_conf *own = conf == NULL ? conf_new_defaults() : NULL;

	/* start away from 0: dkimv_check() must read from the start and reset */
	g_mime_stream_seek(stream, 7, GMIME_STREAM_SEEK_SET);
	dkimv_check(out, &dns, stream, conf != NULL ? conf : own);
	ck_assert_int_eq(g_mime_stream_tell(stream), 0);
	g_object_unref(stream);
	conf_free(own);
	return out;
}

static GPtrArray *
check(const char *msg, GHashTable *zone)
{
	return check_with(msg, zone, 0, NULL);
}

static struct auth_dkim *
sig_at(GPtrArray *res, guint i)
{
	ck_assert_uint_gt(res->len, i);
	return g_ptr_array_index(res, i);
}

/* assert_result - signature I of RES has result R */
#define assert_result(res, i, r) \
	ck_assert_msg(sig_at((res), (i))->result == (r), "signature %u: %s (%s), expected %s", \
	    (i), auth_result_name(sig_at((res), (i))->result), \
	    sig_at((res), (i))->reason ? sig_at((res), (i))->reason : "-", auth_result_name(r))

START_TEST(test_pass)
{
	const struct key *k = _i == 0 ? KEY1024 : KEY2048;
	g_autofree char *signed_msg = sign(message, k, "sel");
	g_autoptr(GHashTable) zone = zone_new(k, "sel");
	g_autoptr(GPtrArray) res = check(signed_msg, zone);
	struct auth_dkim *d;
	const char *b;

	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_PASS);
	d = sig_at(res, 0);
	ck_assert_str_eq(d->domain, DOMAIN);
	ck_assert_str_eq(d->selector, "sel");
	ck_assert_str_eq(d->algorithm, "rsa-sha256");
	ck_assert_uint_eq(d->key_bits, k->bits);
	ck_assert_ptr_null(d->reason);
	/* header.b: the first 8 characters of b=, folding left out */
	for (b = strstr(signed_msg, "b="); b != NULL && !g_ascii_isspace(b[-1]) && b[-1] != ';';
	    b = strstr(b + 1, "b="))
		;
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(d->b);
	ck_assert_int_eq(strlen(d->b), 8);
	{
		char want[9];
		size_t n = 0;

		for (b += 2; *b != '\0' && n < 8; b++)
			if (!g_ascii_isspace(*b))
				want[n++] = *b;
		want[n] = '\0';
		ck_assert_str_eq(d->b, want);
	}
}
END_TEST

START_TEST(test_pass_lf_only)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GString) lf = g_string_new(signed_msg);
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	g_autoptr(GPtrArray) res = NULL;

	g_string_replace(lf, "\r\n", "\n", 0);
	res = check(lf->str, zone);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_PASS);
}
END_TEST

START_TEST(test_body_changed)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	g_autoptr(GPtrArray) res = NULL;
	char *p = strstr(signed_msg, "figures are");

	p[0] = 'F';
	res = check(signed_msg, zone);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_FAIL);
	ck_assert_str_eq(sig_at(res, 0)->reason, "body hash did not verify");
}
END_TEST

START_TEST(test_header_changed)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	g_autoptr(GPtrArray) res = NULL;
	char *p = strstr(signed_msg, "Subject: quarterly");

	memcpy(p + 9, "QUARTERLY", 9);	/* relaxed canonicalization keeps value case */
	res = check(signed_msg, zone);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_FAIL);
	ck_assert_str_eq(sig_at(res, 0)->reason, "signature did not verify");
}
END_TEST

START_TEST(test_key_missing)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "other");
	g_autoptr(GPtrArray) res = check(signed_msg, zone);

	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_PERMERROR);
	ck_assert_str_eq(sig_at(res, 0)->domain, DOMAIN);
}
END_TEST

START_TEST(test_key_revoked)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GHashTable) zone = zone_new(NULL, NULL);
	g_autoptr(GPtrArray) res = NULL;

	zone_add(zone, "sel._domainkey." DOMAIN, "v=DKIM1; k=rsa; p=");
	res = check(signed_msg, zone);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_PERMERROR);
}
END_TEST

START_TEST(test_timeout)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GHashTable) zone = zone_new(NULL, NULL);
	g_autoptr(GPtrArray) res = NULL;

	zone_add(zone, "sel._domainkey." DOMAIN, "TIMEOUT");
	res = check(signed_msg, zone);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_TEMPERROR);
}
END_TEST

START_TEST(test_past_deadline)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	/* a deadline already behind us: no lookup, but the signature is still read */
	g_autoptr(GPtrArray) res = check_with(signed_msg, zone, 1, NULL);

	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_TEMPERROR);
	ck_assert_str_eq(sig_at(res, 0)->domain, DOMAIN);
	ck_assert_str_eq(sig_at(res, 0)->selector, "sel");
}
END_TEST

START_TEST(test_key_too_short)
{
	g_autofree char *signed_msg = sign(message, KEY512, "short");
	g_autoptr(GHashTable) zone = zone_new(KEY512, "short");
	g_autoptr(GPtrArray) res = check(signed_msg, zone);	/* default: 1024 bits */

	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_POLICY);
	ck_assert_uint_eq(sig_at(res, 0)->key_bits, 512);
}
END_TEST

START_TEST(test_key_short_allowed)
{
	g_autofree char *signed_msg = sign(message, KEY512, "short");
	g_autoptr(GHashTable) zone = zone_new(KEY512, "short");
	struct moat_conf *conf = conf_new_defaults();
	g_autoptr(GPtrArray) res = NULL;

	conf->auth.dkim_min_key_bits = 512;
	res = check_with(signed_msg, zone, 0, conf);
	conf_free(conf);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_PASS);
}
END_TEST

START_TEST(test_one_good_one_bad)
{
	g_autofree char *once = sign(message, KEY1024, "good");
	/* the top one is signed by KEY2048, but "bad" publishes KEY1024's key */
	g_autofree char *twice = sign(once, KEY2048, "bad");
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "good");
	g_autoptr(GPtrArray) res = NULL;

	zone_add(zone, "bad._domainkey." DOMAIN, KEY1024->record);
	res = check(twice, zone);
	ck_assert_uint_eq(res->len, 2);
	ck_assert_str_eq(sig_at(res, 0)->selector, "bad");
	assert_result(res, 0, AUTH_FAIL);
	ck_assert_str_eq(sig_at(res, 1)->selector, "good");
	assert_result(res, 1, AUTH_PASS);
}
END_TEST

START_TEST(test_garbage_signature)
{
	static const char *const garbage[] = {
		"DKIM-Signature: synerr\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; d=\r\n",
		"DKIM-Signature: v=1; a=rsa-sha256; c=foobar; d=" DOMAIN "; s=sel; h=from; bh=x; b=y\r\n",
		"DKIM-Signature: ;;;===;;\r\n",
		"DKIM-Signature: v=1; d=\x01\x7f\xff; s=..; b=\r\n",
		"DKIM-Signature:\r\n",
	};
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autofree char *msg = g_strconcat(garbage[_i], signed_msg, NULL);
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	g_autoptr(GPtrArray) res = check(msg, zone);

	ck_assert_uint_eq(res->len, 2);
	ck_assert(sig_at(res, 0)->result != AUTH_PASS);
	ck_assert_ptr_nonnull(sig_at(res, 0)->reason);
	assert_result(res, 1, AUTH_PASS);
}
END_TEST

START_TEST(test_max_signatures)
{
	g_autofree char *once = sign(message, KEY1024, "good");
	g_autofree char *twice = sign(once, KEY1024, "good");
	g_autofree char *thrice = sign(twice, KEY1024, "good");
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "good");
	struct moat_conf *conf = conf_new_defaults();
	g_autoptr(GPtrArray) res = NULL;
	g_autoptr(GPtrArray) all = NULL;

	conf->auth.dkim_max_signatures = 2;
	res = check_with(thrice, zone, 0, conf);
	conf_free(conf);
	ck_assert_uint_eq(res->len, 2);
	assert_result(res, 0, AUTH_PASS);
	assert_result(res, 1, AUTH_PASS);
	all = check(thrice, zone);
	ck_assert_uint_eq(all->len, 3);
}
END_TEST

START_TEST(test_unsigned)
{
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	g_autoptr(GPtrArray) res = check(message, zone);
	g_autoptr(GPtrArray) empty = check("", zone);
	g_autoptr(GPtrArray) headers_only = check("From: a@example.org\r\nSubject: x", zone);

	ck_assert_uint_eq(res->len, 0);
	ck_assert_uint_eq(empty->len, 0);
	ck_assert_uint_eq(headers_only->len, 0);
}
END_TEST

START_TEST(test_hostile_headers)
{
	/* no From:, a field without a colon, NUL-free binary bytes, a huge folded field */
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GString) msg = g_string_new("no colon here\r\nX-Bin: \x01\x02\xfe\r\nX-Long: a");
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	g_autoptr(GPtrArray) res = NULL;

	for (int i = 0; i < 20000; i++)
		g_string_append(msg, "\r\n\tfolded continuation line");
	g_string_append(msg, "\r\n");
	g_string_append(msg, signed_msg);
	res = check(msg->str, zone);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_PASS);
}
END_TEST

START_TEST(test_header_too_large)
{
	g_autofree char *signed_msg = sign(message, KEY1024, "sel");
	g_autoptr(GString) msg = g_string_new(signed_msg);
	g_autoptr(GHashTable) zone = zone_new(KEY1024, "sel");
	g_autoptr(GPtrArray) res = NULL;
	char *eoh = strstr(msg->str, "\r\n\r\n");

	/* 2 MiB of header fields between the signed ones and the body */
	g_string_truncate(msg, eoh - msg->str + 2);
	for (int i = 0; i < 40000; i++)
		g_string_append(msg, "X-Filler: 0123456789012345678901234567890123456789\r\n");
	g_string_append(msg, strstr(signed_msg, "\r\n\r\n") + 2);
	res = check(msg->str, zone);
	ck_assert_uint_eq(res->len, 1);
	assert_result(res, 0, AUTH_PERMERROR);
	ck_assert_str_eq(sig_at(res, 0)->domain, DOMAIN);
}
END_TEST

Suite *
dkimv_suite(void)
{
	Suite *s = suite_create("dkimv");
	TCase *tc = tcase_create("verify");

	tcase_add_unchecked_fixture(tc, keys_setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_pass, 0, 2);
	tcase_add_test(tc, test_pass_lf_only);
	tcase_add_test(tc, test_body_changed);
	tcase_add_test(tc, test_header_changed);
	tcase_add_test(tc, test_key_missing);
	tcase_add_test(tc, test_key_revoked);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_past_deadline);
	tcase_add_test(tc, test_key_too_short);
	tcase_add_test(tc, test_key_short_allowed);
	tcase_add_test(tc, test_one_good_one_bad);
	tcase_add_loop_test(tc, test_garbage_signature, 0, 6);
	tcase_add_test(tc, test_max_signatures);
	tcase_add_test(tc, test_unsigned);
	tcase_add_test(tc, test_hostile_headers);
	tcase_add_test(tc, test_header_too_large);
	suite_add_tcase(s, tc);
	return s;
}
