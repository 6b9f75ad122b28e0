/*
 * check_password.c - passwords in the mail (scanners/lure/password.c, pass*.c)
 *
 * Mails are built here: a body written in UTF-8, converted to the charset
 * the row names (g_convert), base64-encoded, scanned, and password_find()
 * asked what it finds. Rows cover the languages and charsets lures come in,
 * HTML bodies, the own-line form, words that must not make a candidate,
 * and the bounds (a huge body, 10,000 password words). lure.password_link
 * is checked on whole scans and on the fixture mails of lures_password.py
 * that stay outside the manifest (they tag, a manifest lure must be held):
 * a password beside a download link is tagged, a password-change notice
 * with a link to a page is not. text.h is checked on its own at the end.
 */
#include <stdio.h>
#include <string.h>

#include "checks.h"
#include "helpers.h"
#include "moat/lure.h"
#include "moat/password.h"
#include "moat/text.h"

/*
 * mail_new - a message whose one part is TYPE in CHARSET (NULL: no
 * charset parameter, body as UTF-8) holding BODY (UTF-8, converted), with
 * SUBJECT (UTF-8, encoded-word). Caller g_free()s.
 */
static char *
mail_new(const char *subject, const char *type, const char *charset, const char *body)
{
	g_autofree char *conv = NULL, *b64 = NULL, *subj64 = NULL, *cs = NULL;
	gsize len = strlen(body);
	g_autoptr(GError) err = NULL;

	if (charset != NULL) {
		conv = g_convert(body, -1, charset, "UTF-8", NULL, &len, &err);
		ck_assert_msg(conv != NULL, "g_convert to %s: %s", charset, err->message);
	}
	b64 = g_base64_encode((const guchar *)(conv != NULL ? conv : body), len);
	subj64 = g_base64_encode((const guchar *)subject, strlen(subject));
	cs = charset != NULL ? g_strdup_printf("; charset=\"%s\"", charset) : g_strdup("");
	return g_strdup_printf("From: a@example.org\r\nTo: b@example.net\r\n"
	    "Subject: =?UTF-8?B?%s?=\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: %s%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
	    subj64, type, cs, b64);
}

/* find - password_find() of the mail mail_new() builds; *REP gets its report (caller frees) */
static GPtrArray *
find(struct moat_report **rep, const char *subject, const char *type, const char *charset,
    const char *body, guint max)
{
	g_autofree char *msg = mail_new(subject, type, charset, body);

	*rep = t_scan_text(msg, NULL);
	return password_find(*rep, max);
}

/* cand - the candidate with TEXT in PWS, or NULL */
static const struct password *
cand(GPtrArray *pws, const char *text)
{
	for (guint i = 0; i < pws->len; i++)
		if (strcmp(((const struct password *)pws->pdata[i])->text, text) == 0)
			return pws->pdata[i];
	return NULL;
}

/* list - PWS as "a|b|c" for failure messages (caller g_free()s) */
static char *
list(GPtrArray *pws)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < pws->len; i++) {
		const struct password *pw = pws->pdata[i];

		g_string_append_printf(s, "%s%s%s", i ? "|" : "", pw->text, pw->cued ? "" : "(uncued)");
	}
	return g_string_free(s, FALSE);
}

/* cued_count - how many of PWS are cued */
static guint
cued_count(GPtrArray *pws)
{
	guint n = 0;

	for (guint i = 0; i < pws->len; i++)
		n += ((const struct password *)pws->pdata[i])->cued;
	return n;
}

/* Languages, charsets, forms: each body gives WANT as a cued candidate. */
static const struct {
	const char *lang, *type, *charset, *body, *want;
} finds[] = {
	{ "en", "text/plain", "us-ascii", "Please find the invoice attached.\nPassword: Inv2026!\n",
	    "Inv2026!" },
	{ "en-bang", "text/plain", NULL, "Password: Inv2026!\n", "Inv2026" },
	{ "en-is", "text/plain", "utf-8", "The password for the attached file is Q4-report_77.\n",
	    "Q4-report_77" },
	{ "en-infected", "text/plain", "utf-8", "Sample attached, the password is infected.", "infected" },
	{ "en-to", "text/plain", "utf-8", "The password to open the archive: 58abc%x", "58abc%x" },
	{ "en-quoted", "text/plain", "utf-8", "Use \"Inv2026\" as the password to open it.", "Inv2026" },
	{ "en-note", "text/plain", "utf-8", "Password (case sensitive): AbC-991", "AbC-991" },
	{ "en-pw", "text/plain", "utf-8", "Dokumente anbei, PW: 7hj2K", "7hj2K" },
	{ "en-code", "text/plain", "utf-8", "Access code: Doc-5531", "Doc-5531" },
	{ "en-blank", "text/plain", "utf-8", "Documents (password 2026)", "2026" },
	{ "de-blank", "text/plain", "utf-8", "Im Anhang die Liste, Passwort 4711.", "4711" },
	{ "de", "text/plain", "iso-8859-1", "Das Kennwort für das Archiv lautet: Rechnung#4711.",
	    "Rechnung#4711" },
	{ "de-compound", "text/plain", "iso-8859-15", "Archivpasswort: Grüße2026", "Grüße2026" },
	{ "fr", "text/plain", "windows-1252", "Le mot de passe est « Facture2026 ».", "Facture2026" },
	{ "es", "text/plain", "iso-8859-1", "La contraseña es: Pago-2026", "Pago-2026" },
	{ "pt", "text/plain", "iso-8859-1", "A senha do arquivo é 8841Q.", "8841Q" },
	{ "it", "text/plain", "iso-8859-1", "La password è Fattura99", "Fattura99" },
	{ "nl", "text/plain", "iso-8859-1", "Het wachtwoord is: Factuur88", "Factuur88" },
	{ "sv", "text/plain", "iso-8859-1", "Lösenord: Faktura77", "Faktura77" },
	{ "fi", "text/plain", "iso-8859-1", "Arkiston salasana on lasku55.", "lasku55" },
	{ "pl", "text/plain", "iso-8859-2", "Hasło do pliku: Zażółć7", "Zażółć7" },
	{ "pl-upper", "text/plain", "iso-8859-2", "HASŁO: Faktura-12", "Faktura-12" },
	{ "cs", "text/plain", "iso-8859-2", "Heslo k archivu je X3d9p.", "X3d9p" },
	{ "hu", "text/plain", "iso-8859-2", "A jelszó: Szamla2026", "Szamla2026" },
	{ "ru-koi8", "text/plain", "koi8-r", "Пароль от архива: счет2026", "счет2026" },
	{ "ru-1251", "text/plain", "windows-1251", "ПАРОЛЬ: Q7w8e9", "Q7w8e9" },
	{ "el", "text/plain", "iso-8859-7", "ΚΩΔΙΚΌΣ: abc123", "abc123" },
	{ "tr", "text/plain", "iso-8859-9", "Şifre: Fatura2026", "Fatura2026" },
	{ "zh-gb2312", "text/plain", "gb2312", "附件已加密，解压密码：fp8866，请查收。", "fp8866" },
	{ "zh-is", "text/plain", "utf-8", "压缩包密码是 654321", "654321" },
	{ "zh-big5", "text/plain", "big5", "密碼：tw2026", "tw2026" },
	{ "ja-sjis", "text/plain", "shift_jis", "パスワードは「Ｐａｓｓ１２３」です。", "Pass123" },
	{ "ja-glued", "text/plain", "shift_jis", "パスワードは1234です", "1234" },
	{ "ja-2022", "text/plain", "iso-2022-jp", "パスワード：abc789", "abc789" },
	{ "ko", "text/plain", "euc-kr", "비밀번호는 qwe321 입니다", "qwe321" },
	{ "vi", "text/plain", "utf-8", "Mật khẩu: hd2026", "hd2026" },
	{ "ar", "text/plain", "utf-8", "كلمة المرور: 7788aa", "7788aa" },
	{ "he", "text/plain", "iso-8859-8", "סיסמה: 5566bb", "5566bb" },
	{ "th", "text/plain", "tis-620", "รหัสผ่าน: 9090th", "9090th" },
	{ "my", "text/plain", "utf-8", "ဖိုင်ကို ဖွင့်ရန် စကားဝှက်: Mm2026", "Mm2026" },
	{ "km", "text/plain", "utf-8", "ពាក្យសម្ងាត់៖ Kh2026", "Kh2026" },
	{ "lo", "text/plain", "utf-8", "ລະຫັດຜ່ານ: La2026", "La2026" },
	{ "ta", "text/plain", "utf-8", "கடவுச்சொல்: Ta2026", "Ta2026" },
	{ "own-line", "text/plain", "utf-8", "Invoice attached.\n\nArchive password:\n\n  K8s!mq2\n\nBest",
	    "K8s!mq2" },
	{ "own-line-bare", "text/plain", "utf-8", "Hello,\nPasswort\nWinter-2026\nGruß", "Winter-2026" },
	{ "html", "text/html", "utf-8",
	    "<html><body><p>Invoice attached.</p><p><b>Password:</b>&nbsp;Fa&#107;tura&#x32;026</p>",
	    "Faktura2026" },
	{ "html-own-line", "text/html", "iso-8859-1", "<div>Password</div>\n<div>Zx9-44q</div>",
	    "Zx9-44q" },
	{ "html-table", "text/html", "utf-8",
	    "<table><tr><td>Password</td><td>Tbl-7781</td></tr></table>", "Tbl-7781" },
	{ "html-meta", "text/html", NULL,
	    "<meta charset=\"utf-8\"><p>Hasło:<br>Qq-8812</p>", "Qq-8812" },
	{ "html-zero-width", "text/html", "utf-8", "Pass&#8203;word: Zw-5531", "Zw-5531" },
};

START_TEST(finds_in_languages)
{
	struct moat_report *rep;
	GPtrArray *pws = find(&rep, "Invoice", finds[_i].type, finds[_i].charset, finds[_i].body,
	    PASSWORD_MAX_CANDIDATES);
	g_autofree char *got = list(pws);
	const struct password *pw = cand(pws, finds[_i].want);

	ck_assert_msg(pw != NULL, "%s: no '%s' in [%s]", finds[_i].lang, finds[_i].want, got);
	ck_assert_msg(pw->cued, "%s: '%s' not cued", finds[_i].lang, finds[_i].want);
	ck_assert_msg(g_str_has_prefix(pw->where, "(part"), "%s: where %s", finds[_i].lang, pw->where);
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/* Bodies that name passwords without giving one: no cued candidate (NOT must not show). */
static const struct {
	const char *what, *type, *body, *not;
} nones[] = {
	{ "reset heading", "text/plain", "Password reset\n\nYou asked to reset your password. Click "
	    "https://example.com/reset?token=abc123 to choose a new one.\n", "abc123" },
	{ "expiry", "text/plain", "Your password expires in 3 days. Change it at "
	    "https://portal.example.com/password/change\n", NULL },
	{ "about to", "text/plain", "The password is about to expire, please change it.", NULL },
	{ "length", "text/plain", "Choose a password 12 characters long, or a password 2026 "
	    "style passphrase.", NULL },
	{ "inside words", "text/plain", "I pwned it; a passage in the codec passport encode.", NULL },
	{ "url query", "text/plain", "Log in at https://x.example/login?pwd=abc123&code=778899 now",
	    "abc123" },
	{ "mask", "text/plain", "Username: jsmith\nPassword: ********\n", NULL },
	{ "your usual", "text/plain", "Password: your usual one", NULL },
	{ "address", "text/plain", "Password: support@example.com can help", NULL },
	{ "url after", "text/plain", "Password: https://example.com/forgot", NULL },
	{ "too long", "text/plain", "Password: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", NULL },
	{ "script", "text/html", "<script>var password = 'Js-99887';</script><p>Hello</p>",
	    "Js-99887" },
	{ "empty part", "text/plain", "", NULL },
	{ "newsletter", "text/html", "<h1>Password managers compared</h1><p>Which password manager "
	    "is best for 2026? We tested 12.</p>", NULL },
};

START_TEST(finds_nothing)
{
	struct moat_report *rep;
	GPtrArray *pws = find(&rep, "Hello", nones[_i].type, "utf-8", nones[_i].body,
	    PASSWORD_MAX_CANDIDATES);
	g_autofree char *got = list(pws);

	ck_assert_msg(cued_count(pws) == 0, "%s: cued [%s]", nones[_i].what, got);
	ck_assert_msg(nones[_i].not == NULL || cand(pws, nones[_i].not) == NULL, "%s: [%s]",
	    nones[_i].what, got);
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/*
 * Sentences that say the password comes another way or another time: the
 * word after the cue is no password (pw_stop[] in passcue.c), in each
 * language that has entries. None gives a cued candidate.
 */
static const struct {
	const char *lang, *body;
} elsewhere[] = {
	{ "de", "Kennwort: wie besprochen" },
	{ "de-sms", "Das Archiv ist verschlüsselt. Passwort: kommt per SMS" },
	{ "de-folgt", "Passwort folgt." },
	{ "de-unten", "Passwort: siehe unten" },
	{ "fr", "mot de passe : envoyé séparément" },
	{ "fr-suit", "Mot de passe : suit dans un autre mail" },
	{ "fr-dessous", "Mot de passe : ci-dessous" },
	{ "en-ask", "Password - ask me by phone" },
	{ "en-sent", "password sent separately" },
	{ "en-sent-colon", "Password: sent separately" },
	{ "en-follows", "Password: follows in the next mail" },
	{ "en-below", "Password: below" },
	{ "en-will", "Password: will be sent separately" },
	{ "en-ill", "Password: I\xe2\x80\x99ll send it by SMS" },
	{ "en-upper", "PASSWORD: TBD" },
	{ "es", "Contraseña: sigue en otro correo" },
	{ "es-por", "Contraseña: por separado" },
	{ "pt", "Senha: enviada separadamente" },
	{ "it", "Password: inviata separatamente" },
	{ "nl", "Wachtwoord: zoals besproken" },
	{ "pl", "Hasło: prześlę SMS-em" },
	{ "cs", "Heslo: pošlu zvlášť" },
	{ "ru", "Пароль: пришлю отдельно" },
	{ "ru-upper", "ПАРОЛЬ: НИЖЕ" },
	{ "tr", "Şifre: ayrıca gönderilecek" },
	{ "zh", "密码：另行发送" },
	{ "ja", "パスワードは別途お送りします" },
	{ "ja-colon", "パスワード：後ほどお送りします" },
	{ "ko", "비밀번호: 따로 보내드리겠습니다" },
	{ "th", "รหัสผ่าน: จะส่งให้แยกต่างหาก" },
};

START_TEST(elsewhere_no_candidate)
{
	struct moat_report *rep;
	GPtrArray *pws = find(&rep, "Invoice", "text/plain", "utf-8", elsewhere[_i].body,
	    PASSWORD_MAX_CANDIDATES);
	g_autofree char *got = list(pws);

	ck_assert_msg(cued_count(pws) == 0, "%s: cued [%s]", elsewhere[_i].lang, got);
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/* A stop word stops only the whole token: these stay cued passwords. */
static const struct {
	const char *body, *want;
} kept[] = {
	{ "Password: sunshine", "sunshine" },
	{ "Password: sent-2026", "sent-2026" },
	{ "Password: Sent2026", "Sent2026" },
	{ "Kennwort: Wiesel7", "Wiesel7" },
	{ "Mot de passe : suivant2026", "suivant2026" },
	{ "Password: infected", "infected" },
};

START_TEST(stop_words_keep)
{
	struct moat_report *rep;
	GPtrArray *pws = find(&rep, "Invoice", "text/plain", "utf-8", kept[_i].body,
	    PASSWORD_MAX_CANDIDATES);
	g_autofree char *got = list(pws);
	const struct password *pw = cand(pws, kept[_i].want);

	ck_assert_msg(pw != NULL && pw->cued, "%s: [%s]", kept[_i].body, got);
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/* The subject is read first and named as the place. */
START_TEST(finds_in_subject)
{
	struct moat_report *rep;
	GPtrArray *pws = find(&rep, "Rechnung 4711 (Passwort: re4711)", "text/plain", "utf-8",
	    "Kennwort: zweites-99\n", PASSWORD_MAX_CANDIDATES);
	g_autofree char *got = list(pws);

	ck_assert_msg(pws->len >= 2, "[%s]", got);
	ck_assert_str_eq(((struct password *)pws->pdata[0])->text, "re4711");
	ck_assert_str_eq(((struct password *)pws->pdata[0])->where, "subject");
	ck_assert_str_eq(((struct password *)pws->pdata[1])->text, "zweites-99");
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/* Dates are uncued and come after the cued ones; a cued date is cued. */
START_TEST(dates_uncued_last)
{
	struct moat_report *rep;
	GPtrArray *pws = find(&rep, "Scan 07.12.2026", "text/plain", "utf-8",
	    "Archive of 2026-12-07, sent 20261207.\nPassword: Cued-123\nKennwort: 01/02/2026\n",
	    PASSWORD_MAX_CANDIDATES);
	g_autofree char *got = list(pws);
	const struct password *a = cand(pws, "07.12.2026"), *b = cand(pws, "2026-12-07"),
	    *c = cand(pws, "20261207"), *d = cand(pws, "01/02/2026");

	ck_assert_msg(a != NULL && b != NULL && c != NULL && d != NULL, "[%s]", got);
	ck_assert(!a->cued && !b->cued && !c->cued && d->cued);
	ck_assert_str_eq(((struct password *)pws->pdata[0])->text, "Cued-123");
	ck_assert_str_eq(((struct password *)pws->pdata[1])->text, "01/02/2026");
	ck_assert_msg(cand(pws, "2026") == NULL && cand(pws, "12.2026") == NULL, "[%s]", got);
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/* A lone token on its line is a candidate only when the message holds an encrypted part. */
START_TEST(lone_token_needs_encrypted)
{
	struct moat_report *rep;
	GPtrArray *pws = find(&rep, "Docs", "text/plain", "utf-8",
	    "Here you go:\n\nQx7Lm2\n\nRegards\n", PASSWORD_MAX_CANDIDATES);
	g_autofree char *got = list(pws);

	ck_assert_msg(cand(pws, "Qx7Lm2") == NULL, "[%s]", got);
	g_ptr_array_unref(pws);
	((struct moat_part *)rep->parts->pdata[0])->encrypted = TRUE;
	pws = password_find(rep, PASSWORD_MAX_CANDIDATES);
	ck_assert(cand(pws, "Qx7Lm2") != NULL && !cand(pws, "Qx7Lm2")->cued);
	ck_assert(cand(pws, "Regards") == NULL);
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/* Bounds: MAX, a part read to PW_PART_MAX only, 10,000 password words, 0 asked. */
START_TEST(bounds)
{
	GString *body = g_string_new("Password: First-001\n");
	struct moat_report *rep;
	GPtrArray *pws;
	gint64 t0;

	while (body->len < 3 * 1024 * 1024)
		g_string_append(body, "lorem ipsum dolor sit amet ");
	g_string_append(body, "\nPassword: Last-999\n");
	pws = find(&rep, "Big", "text/plain", "utf-8", body->str, PASSWORD_MAX_CANDIDATES);
	ck_assert(cand(pws, "First-001") != NULL);
	ck_assert_msg(cand(pws, "Last-999") == NULL, "read past the part bound");
	g_ptr_array_unref(pws);
	report_free(rep);

	g_string_truncate(body, 0);
	for (int i = 0; i < 10000; i++)
		g_string_append(body, "password ");
	t0 = g_get_monotonic_time();
	pws = find(&rep, "password password", "text/plain", "utf-8", body->str,
	    PASSWORD_MAX_CANDIDATES);
	ck_assert_uint_eq(pws->len, 0);
	g_ptr_array_unref(pws);
	report_free(rep);

	g_string_truncate(body, 0);
	for (int i = 0; i < 10000; i++)
		g_string_append_printf(body, "Passwort: tok%05d\n", i);
	pws = find(&rep, "x", "text/plain", "utf-8", body->str, PASSWORD_MAX_CANDIDATES);
	ck_assert_uint_eq(pws->len, PASSWORD_MAX_CANDIDATES);
	ck_assert_str_eq(((struct password *)pws->pdata[0])->text, "tok00000");
	g_ptr_array_unref(pws);
	pws = password_find(rep, 3);
	ck_assert_uint_eq(pws->len, 3);
	g_ptr_array_unref(pws);
	pws = password_find(rep, 0);
	ck_assert_uint_eq(pws->len, 0);
	g_ptr_array_unref(pws);
	report_free(rep);
	ck_assert_msg(g_get_monotonic_time() - t0 < 5 * G_USEC_PER_SEC, "too slow");
	g_string_free(body, TRUE);
}
END_TEST

/* Text parts keep their charset (lower-case); others and parts without one have none. */
START_TEST(charset_kept)
{
	static const char msg[] =
	    "From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain; charset=\"ISO-8859-2\"\r\n\r\nHas\xb3o: abc\r\n"
	    "--b\r\nContent-Type: text/html; charset=Windows-1251\r\n\r\n<p>x</p>\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
	    "--b\r\nContent-Type: text/plain; charset=\"bad name\"\r\n\r\nx\r\n"
	    "--b\r\nContent-Type: application/pdf; charset=utf-8; name=a.pdf\r\n\r\n%PDF-1.4\r\n"
	    "--b--\r\n";
	struct moat_report *rep = t_scan_text(msg, NULL);
	GPtrArray *pws;

	ck_assert_uint_ge(rep->parts->len, 5);
	ck_assert_str_eq(((struct moat_part *)rep->parts->pdata[0])->charset, "iso-8859-2");
	ck_assert_str_eq(((struct moat_part *)rep->parts->pdata[1])->charset, "windows-1251");
	ck_assert_ptr_null(((struct moat_part *)rep->parts->pdata[2])->charset);
	ck_assert_ptr_null(((struct moat_part *)rep->parts->pdata[3])->charset);
	ck_assert_ptr_null(t_part_named(rep, "a.pdf")->charset);
	pws = password_find(rep, PASSWORD_MAX_CANDIDATES);
	ck_assert(cand(pws, "abc") != NULL);	/* "Hasło" read as ISO-8859-2 */
	g_ptr_array_unref(pws);
	report_free(rep);
}
END_TEST

/* lure.password_link: a password and a download link (USE: the body), tagged or not. */
static const struct {
	const char *what, *subject, *type, *body, *host;	/* host NULL: no finding */
} links[] = {
	{ "zip", "Invoice", "text/plain", "Your invoice: https://files.example.net/d/invoice.zip\n"
	    "Password: Inv2026\n", "files.example.net" },
	{ "html exe", "Order", "text/html", "<p>Download <a href=\"https://cdn.example.org/"
	    "Order_4471.exe\">here</a>.</p><p>Kennwort: 4471-ab</p>", "cdn.example.org" },
	{ "query download", "Docs", "text/plain", "Get it: https://drive.example.com/uc?export="
	    "download&id=1xYz\nPassword: Dk-5531", "drive.example.com" },
	{ "safelinks", "Docs", "text/plain", "https://eur01.safelinks.protection.outlook.com/?url="
	    "https%3A%2F%2Fx.example%2Fa.7z&data=05\npassword: 7z-0001", "eur01.safelinks.protection.outlook.com" },
	{ "subject password", "Scan (Passwort: 0815-x)", "text/plain", "https://x.example/s.iso",
	    "x.example" },
	{ "reset notice", "Reset", "text/plain", "Your password was reset. Change your password at "
	    "https://portal.example.com/account/password\n", NULL },
	{ "pdf link", "Invoice", "text/plain", "Password: Inv2026\nhttps://x.example/invoice.pdf",
	    NULL },
	{ "tarball", "Release", "text/plain", "Download https://x.example/foo-1.2.tar.gz\n"
	    "pass: abc123", NULL },
	{ "zip no password", "Files", "text/plain", "Here: https://x.example/photos.zip\nThanks", NULL },
	{ "licence", "Licence", "text/plain", "Installer: https://dl.example.com/Editor-setup.exe\n"
	    "Activation code: EXED-7K2M-99QA\nPIN: 4471", NULL },
	{ "host in query", "Ticket", "text/plain", "https://urldefense.example.com/v2/url?u=http-3A__"
	    "help.example.com&d=Dw\nCode: '4625' - Type: 'Critical'", NULL },
};

START_TEST(password_link)
{
	g_autofree char *msg = mail_new(links[_i].subject, links[_i].type, "utf-8", links[_i].body);
	struct moat_report *rep = t_scan_text(msg, NULL);
	const struct moat_finding *f = report_has_finding(rep, "lure.password_link");

	if (links[_i].host == NULL) {
		ck_assert_msg(f == NULL, "%s: %s", links[_i].what, f != NULL ? f->evidence : "");
		ck_assert_int_lt(rep->verdict.score, 5);
	} else {
		ck_assert_msg(f != NULL, "%s: no finding", links[_i].what);
		ck_assert_msg(strstr(f->evidence, links[_i].host) != NULL, "%s: %s", links[_i].what,
		    f->evidence);
		ck_assert_int_eq(f->score, 8);
		ck_assert_int_eq(rep->verdict.action, MOAT_TAG);
	}
	report_free(rep);
}
END_TEST

/* The evidence names the password and where it was. */
START_TEST(password_link_evidence)
{
	g_autofree char *msg = mail_new("Invoice", "text/plain", "utf-8",
	    "Your invoice: https://files.example.net/d/invoice.zip?x=1\nPassword: Inv2026\n");
	struct moat_report *rep = t_scan_text(msg, NULL);
	const struct moat_finding *f = t_finding(rep, "lure.password_link");

	ck_assert_str_eq(f->evidence, "password \"Inv2026\" and a link to download from "
	    "files.example.net in (part 1, text/plain): https://files.example.net/d/invoice.zip");
	ck_assert_uint_eq(f->path->len, 0);
	report_free(rep);

	g_free(msg);
	msg = mail_new("Scan (Passwort: 0815-x)", "text/plain", "utf-8",
	    "https://x.example/get?id=7&file=Scan%2Eiso&sig=abc");
	rep = t_scan_text(msg, NULL);
	f = t_finding(rep, "lure.password_link");
	ck_assert_str_eq(f->evidence, "password \"0815-x\" in the subject, and a link to download "
	    "from x.example in (part 1, text/plain): https://x.example/get?file=Scan.iso");
	report_free(rep);
}
END_TEST

/* The fixtures of tests/fixtures/lures_password.py outside the manifest: each tagged, with its password. */
static const struct {
	const char *mail, *password, *host;
} fixtures[] = {
	{ "mail-password-zip-en.eml", "1187", "files.billing-example.net" },
	{ "mail-password-rar-de.eml", "Re4711!", "share.example-cloud.de" },
	{ "mail-password-7z-ja.eml", "Sk1102", "dl.example.jp" },
	{ "mail-password-iso-ru.eml", "akt2026", "185.0.2.17" },
	{ "mail-password-exe-pl.eml", "Fv-11-2026", "pliki.example.pl" },
	{ "mail-password-subject-password.eml", "0412scan", "scan.example.org" },
	{ "mail-password-safelinks.eml", "Doc-5531", "eur01.safelinks.protection.outlook.com" },
};

START_TEST(password_link_fixtures)
{
	g_autofree char *path = g_build_filename(BUILD_DIR, "fixtures", "lures", fixtures[_i].mail,
	    NULL);
	g_autofree char *want = g_strdup_printf("password \"%s\"", fixtures[_i].password);
	struct moat_report *rep = t_scan_file(path, NULL);
	const struct moat_finding *f = t_finding(rep, "lure.password_link");

	ck_assert_msg(g_str_has_prefix(f->evidence, want), "%s: %s", fixtures[_i].mail, f->evidence);
	ck_assert_msg(strstr(f->evidence, fixtures[_i].host) != NULL, "%s", f->evidence);
	ck_assert_int_eq(rep->verdict.action, MOAT_TAG);
	report_free(rep);
}
END_TEST

/* text.h on its own: charsets, HTML, cleaning. */
START_TEST(text_module)
{
	static const guint8 cut_utf8[] = { 'a', 'b', 0xc5 };		/* "ab" and half an "ł" */
	static const guint8 latin1[] = { 'L', 0xf6, 's', 'e', 'n' };	/* "Lösen", undeclared */
	static const guint8 nul[] = { 'a', 0, 'b' };
	static const guint8 utf16[] = { 0xff, 0xfe, 'h', 0, 'i', 0 };
	g_autofree char *a = text_utf8(cut_utf8, sizeof(cut_utf8), NULL);
	g_autofree char *b = text_utf8(latin1, sizeof(latin1), NULL);
	g_autofree char *c = text_utf8(nul, sizeof(nul), "utf-8");
	g_autofree char *d = text_utf8(utf16, sizeof(utf16), "utf-16");
	g_autofree char *e = text_utf8(latin1, sizeof(latin1), "x-no-such-charset");
	g_autofree char *f = text_utf8(latin1, sizeof(latin1), "utf-8");
	const char *html = "<p>a&amp;b&#x41;&#66;&nbsp;&bogus;</p><!-- <p>hidden</p> -->"
	    "<script>x<y</script><style>p{}</style>c<br>d<td>e</td>f\ng <unclosed";
	g_autofree char *h = text_html(html, strlen(html));
	g_autofree char *k = text_clean("\xef\xbc\xb0\xef\xbc\xa1\xef\xbc\x93 x\xe2\x80\x8by\r\nz\xc2\xa0w");

	ck_assert_str_eq(a, "ab");
	ck_assert_str_eq(b, "L\xc3\xb6sen");
	ck_assert_str_eq(c, "a b");
	ck_assert_str_eq(d, "hi");
	ck_assert_str_eq(e, "L\xc3\xb6sen");
	ck_assert_str_eq(f, "L\xef\xbf\xbdsen");
	ck_assert_str_eq(h, "\na&bAB\xc2\xa0&bogus;\nc\nd\te\tf g ");
	ck_assert_str_eq(k, "PA3 xy\nz w");
}
END_TEST

/*
 * A part in UCS-4 (a charset the mail names) with code points past
 * U+10FFFF: glibc's iconv writes them as 4- to 6-byte forms, which
 * text_utf8() must not hand on as UTF-8.
 */
START_TEST(text_ucs4_valid)
{
	static const guint8 be[] = {
		0, 0, 0, 'A', 0x7f, 0xff, 0xff, 0xff, 0, 0x11, 0, 0, 0, 0, 0, 'B',
	};
	static const guint8 le[] = {
		'A', 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0x11, 0, 'B', 0, 0, 0,
	};
	static const struct { const char *charset; const guint8 *d; } cases[] = {
		{ "ucs-4", be }, { "iso-10646-ucs-4", be }, { "ucs-4le", le }, { "wchar_t", le },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *s = text_utf8(cases[i].d, sizeof(be), cases[i].charset);

		ck_assert_msg(g_utf8_validate(s, -1, NULL), "%s: not UTF-8", cases[i].charset);
		ck_assert_msg(s[0] == 'A' && g_str_has_suffix(s, "B") &&
		    strstr(s, "\xef\xbf\xbd") != NULL, "%s: '%s'", cases[i].charset, s);
	}
}
END_TEST

/* ham_dir - over every mail in DIR: *MAILS, *CUED (a cued candidate), *LINKED (lure.password_link) */
static void
ham_dir(const char *dir, guint *mails, guint *cued, guint *linked)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		struct moat_report *rep = t_scan_file(path, NULL);
		GPtrArray *pws = password_find(rep, PASSWORD_MAX_CANDIDATES);

		(*mails)++;
		*cued += cued_count(pws) > 0;
		if (report_has_finding(rep, "lure.password_link") != NULL) {
			(*linked)++;
			printf("ham with lure.password_link: %s: %s\n", name,
			    report_has_finding(rep, "lure.password_link")->evidence);
		}
		g_ptr_array_unref(pws);
		report_free(rep);
	}
}

/*
 * The ham corpus: no lure.password_link, and a cued password in almost
 * no mail (one when this was written: a promotion's "Code: EX8664").
 */
START_TEST(ham_corpus)
{
	guint mails = 0, cued = 0, linked = 0;

	ham_dir(TESTDATA_DIR "/ham-spamassassin/easy_ham", &mails, &cued, &linked);
	ham_dir(TESTDATA_DIR "/ham-spamassassin/hard_ham", &mails, &cued, &linked);
	printf("password: ham %u mails, %u with a cued candidate, %u lure.password_link\n", mails,
	    cued, linked);
	ck_assert_uint_ge(mails, 2750);
	ck_assert_uint_eq(linked, 0);
	ck_assert_uint_le(cued, 5);
}
END_TEST

Suite *
password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *tc = tcase_create("password");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, finds_in_languages, 0, G_N_ELEMENTS(finds));
	tcase_add_loop_test(tc, finds_nothing, 0, G_N_ELEMENTS(nones));
	tcase_add_loop_test(tc, elsewhere_no_candidate, 0, G_N_ELEMENTS(elsewhere));
	tcase_add_loop_test(tc, stop_words_keep, 0, G_N_ELEMENTS(kept));
	tcase_add_test(tc, finds_in_subject);
	tcase_add_test(tc, dates_uncued_last);
	tcase_add_test(tc, lone_token_needs_encrypted);
	tcase_add_test(tc, bounds);
	tcase_add_test(tc, charset_kept);
	tcase_add_loop_test(tc, password_link, 0, G_N_ELEMENTS(links));
	tcase_add_test(tc, password_link_evidence);
	tcase_add_loop_test(tc, password_link_fixtures, 0, G_N_ELEMENTS(fixtures));
	tcase_add_test(tc, text_module);
	tcase_add_test(tc, text_ucs4_valid);
	if (testdata_have("ham-spamassassin", "password/ham_corpus"))
		tcase_add_test(tc, ham_corpus);
	suite_add_tcase(s, tc);
	return s;
}
