/*
 * check_words.c - what the banner says (scanners/banner/words.c)
 *
 * The shipped templates (conf/banners/LANGUAGE.conf, found as the parent of
 * SAMPLES_DIR) have a sentence for every finding id of the catalogue in
 * every language, so a new finding without words fails here. Reports are
 * built by hand (findings with a score as the policy would leave them) and
 * put through banner_words(): order, max_reasons, duplicates, findings
 * switched off, {file} of a member, hostile names, the external notice, and
 * broken or missing templates.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "moat/auth.h"
#include "moat/banner.h"
#include "moat/conf.h"
#include "moat/lookalike.h"
#include "moat/moat.h"
#include "moat/report.h"

#define BANNERS_DIR SAMPLES_DIR "/../conf/banners"

static const char *const languages[] = { "en", "de", "fr" };

/* wd_conf - a config with [banner] templates DIR, LANGUAGE and MAX reasons */
static struct moat_conf *
wd_conf(const char *dir, const char *language, guint max)
{
	struct moat_conf *conf = NULL;
	g_autofree char *err = NULL;
	g_autofree char *data = g_strdup_printf("[banner]\ntemplates = %s\nlanguage = %s\n"
	    "max_reasons = %u\n", dir, language, max);

	ck_assert_msg(conf_load_data(&conf, &err, data, strlen(data)) == 0, "%s", err);
	return conf;
}

/* wd_path - a path (char *) from the names in SPEC, separated by '|'; "" is empty */
static GPtrArray *
wd_path(const char *spec)
{
	GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) v = g_strsplit(spec, "|", -1);

	for (guint i = 0; *spec != '\0' && v[i] != NULL; i++)
		g_ptr_array_add(p, g_strdup(v[i]));
	return p;
}

/* wd_add - finding ID at SPEC (wd_path()) scoring SCORE */
static struct moat_finding *
wd_add(struct moat_report *rep, const char *id, const char *spec, gint score,
    const char *evidence)
{
	g_autoptr(GPtrArray) path = wd_path(spec);
	struct moat_finding *f = report_add_finding(rep, id, path, "%s", evidence);

	f->score = score;
	return f;
}

/* wd_words - banner_words() under LANGUAGE (must succeed) */
static void
wd_words(struct banner_text *t, const struct moat_report *rep, const char *language, guint max,
    gboolean external)
{
	struct moat_conf *conf = wd_conf(BANNERS_DIR, language, max);
	g_autofree char *err = NULL;

	ck_assert_msg(banner_words(t, &err, rep, conf, external) == 0, "%s", err);
	ck_assert_ptr_nonnull(t->title);
	ck_assert_ptr_nonnull(t->reasons);
	conf_free(conf);
}

static const char *
wd_reason(const struct banner_text *t, guint i)
{
	ck_assert_uint_gt(t->reasons->len, i);
	return t->reasons->pdata[i];
}

/* Every catalogue id has words in every language: its own or its group's. */
START_TEST(test_every_id_has_words)
{
	const char *lang = languages[_i];
	g_autofree char *path = g_strdup_printf("%s/%s.conf", BANNERS_DIR, lang);
	g_autofree char *en_path = g_strdup_printf("%s/en.conf", BANNERS_DIR);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GKeyFile) en = g_key_file_new();
	g_autoptr(GError) gerr = NULL;
	static const char *const groups[] = { "banner", "reasons", "message" };
	gsize n = 0;
	const struct moat_finding_kind *k = report_kinds(&n);

	ck_assert_msg(g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr), "%s: %s",
	    path, gerr != NULL ? gerr->message : "");
	ck_assert(g_key_file_load_from_file(en, en_path, G_KEY_FILE_NONE, NULL));
	for (gsize i = 0; i < n; i++) {
		const char *dot = strchr(k[i].id, '.');
		g_autofree char *group = g_strdup_printf("%.*s.*", (int)(dot - k[i].id), k[i].id);

		ck_assert_msg(g_key_file_has_key(kf, "reasons", k[i].id, NULL) ||
		    g_key_file_has_key(kf, "reasons", group, NULL),
		    "%s: [reasons] has no sentence for %s", path, k[i].id);
	}
	/* and whatever English says, this language says too */
	for (guint g = 0; g < G_N_ELEMENTS(groups); g++) {
		g_auto(GStrv) keys = g_key_file_get_keys(en, groups[g], NULL, NULL);

		for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
			ck_assert_msg(g_key_file_has_key(kf, groups[g], keys[i], NULL),
			    "%s: [%s] %s is missing", path, groups[g], keys[i]);
	}
}
END_TEST

/* Every id's sentence loads (placeholders known) and fills in: no brace is left. */
START_TEST(test_every_id_formats)
{
	const char *lang = languages[_i];
	gsize n = 0;
	const struct moat_finding_kind *k = report_kinds(&n);

	for (gsize i = 0; i < n; i++) {
		const char *id = strcmp(k[i].id, "av.*") == 0 ? "av.Win.Test.EICAR_HDB-1" : k[i].id;

		/* about the message itself ([message] or [reasons]), then about a member */
		for (int at = 0; at < 2; at++) {
			struct moat_report *rep = report_new();
			struct banner_text t;

			rep->hdr.from_addr = g_strdup("a@example.net");
			wd_add(rep, id, at ? "invoice.zip|run.lnk" : "", 5, "evidence");
			wd_words(&t, rep, lang, 1, FALSE);
			ck_assert_uint_eq(t.reasons->len, 1);
			ck_assert_msg(strpbrk(wd_reason(&t, 0), "{}") == NULL, "%s %s: %s", lang, id,
			    wd_reason(&t, 0));
			ck_assert_msg(at == 0 || strstr(wd_reason(&t, 0), "invoice.zip") == NULL,
			    "%s %s: %s", lang, id, wd_reason(&t, 0));
			banner_text_clear(&t);
			report_free(rep);
		}
	}
}
END_TEST

/* Most serious first (score, then severity), at most max_reasons, each id once. */
START_TEST(test_order_and_limit)
{
	struct moat_report *rep = report_new();
	struct banner_text t;

	wd_add(rep, "mime.malformed", "", 1, "x");
	wd_add(rep, "attach.onenote", "notes.one", 6, "x");
	wd_add(rep, "attach.executable", "first.exe", 10, "x");
	wd_add(rep, "attach.executable", "second.exe", 10, "x");
	wd_add(rep, "av.Win.Test.EICAR_HDB-1", "eicar.com", 20, "x");
	/* the same score: critical av.* before high attach.script */
	wd_add(rep, "attach.script", "run.js", 20, "x");
	wd_words(&t, rep, "en", 3, FALSE);
	ck_assert_uint_eq(t.reasons->len, 3);
	ck_assert_str_eq(wd_reason(&t, 0),
	    "The file eicar.com contains known malware (Win.Test.EICAR_HDB-1).");
	ck_assert_str_eq(wd_reason(&t, 1),
	    "The attachment run.js is a script that Windows runs when opened.");
	ck_assert_str_eq(wd_reason(&t, 2),
	    "The attachment first.exe is a program that runs when opened.");
	ck_assert_str_eq(t.title, "Caution: this message may be dangerous.");
	ck_assert_ptr_nonnull(t.advice);
	ck_assert(!t.external);
	banner_text_clear(&t);

	wd_words(&t, rep, "en", 20, FALSE);
	ck_assert_uint_eq(t.reasons->len, 5);	/* attach.executable once, first path */
	ck_assert_str_eq(wd_reason(&t, 3), "The attachment notes.one is a OneNote notebook, "
	    "a format often used to hide harmful files.");
	ck_assert_str_eq(wd_reason(&t, 4), "The message is not correctly formatted.");
	for (guint i = 0; i < t.reasons->len; i++)
		ck_assert_ptr_null(strstr(wd_reason(&t, i), "second.exe"));
	banner_text_clear(&t);
	ck_assert_ptr_null(t.reasons);
	report_free(rep);
}
END_TEST

/* Findings switched off or allowed, or scoring nothing, say nothing. */
START_TEST(test_quiet_findings)
{
	struct moat_report *rep = report_new();
	struct banner_text t;
	struct moat_finding *f;

	f = wd_add(rep, "attach.executable", "off.exe", 0, "x");
	f->off = TRUE;
	f = wd_add(rep, "attach.script", "allowed.js", 10, "x");
	f->allowed = TRUE;
	wd_add(rep, "auth.temperror", "", 0, "x");
	wd_add(rep, "attach.shortcut", "invoice.zip|_/_/run.lnk", 10, "x");
	wd_words(&t, rep, "en", 5, FALSE);
	ck_assert(!t.external);
	ck_assert_uint_eq(t.reasons->len, 1);
	ck_assert_str_eq(wd_reason(&t, 0), "The attachment run.lnk is a Windows shortcut that "
	    "can run a command when opened.");
	banner_text_clear(&t);
	report_free(rep);
}
END_TEST

/* Accepted mail from outside: the one-line notice alone. */
START_TEST(test_external)
{
	struct moat_report *rep = report_new();
	struct banner_text t;

	wd_add(rep, "auth.temperror", "", 0, "x");
	wd_words(&t, rep, "en", 3, TRUE);
	ck_assert(t.external);
	ck_assert_str_eq(t.title, "This message comes from outside your organisation. "
	    "Be careful with its links and attachments.");
	ck_assert_uint_eq(t.reasons->len, 0);
	ck_assert_ptr_null(t.advice);
	banner_text_clear(&t);
	wd_words(&t, rep, "de", 3, TRUE);
	ck_assert(t.external);
	ck_assert_ptr_nonnull(strstr(t.title, "außerhalb Ihrer Organisation"));
	banner_text_clear(&t);
	/* accepted mail: a finding that scored below the tag threshold changes nothing */
	wd_add(rep, "mime.malformed", "", 1, "x");
	wd_words(&t, rep, "en", 3, TRUE);
	ck_assert(t.external);
	ck_assert_uint_eq(t.reasons->len, 0);
	banner_text_clear(&t);
	/* not external: the title and advice, and what scored */
	wd_words(&t, rep, "fr", 3, FALSE);
	ck_assert(!t.external);
	ck_assert_uint_eq(t.reasons->len, 1);
	ck_assert_ptr_nonnull(strstr(t.title, "Attention"));
	banner_text_clear(&t);
	report_free(rep);
}
END_TEST

/* {protected} comes from what lookalike.c writes: a change of its wording fails here */
START_TEST(test_lookalike_words)
{
	struct moat_report *rep = report_new();
	struct moat_conf *conf = conf_new_defaults();
	struct banner_text t;

	rep->hdr.from_addr = g_strdup("billing@paypa1.com");
	g_ptr_array_add(rep->env.rcpt_to, g_strdup("ann@paypal.com"));
	rep->auth = g_new0(struct moat_auth, 1);
	rep->auth->dkim = g_ptr_array_new();
	lookalike_check(rep, conf);
	ck_assert_uint_eq(rep->findings->len, 1);
	((struct moat_finding *)rep->findings->pdata[0])->score = 8;
	wd_words(&t, rep, "en", 3, FALSE);
	ck_assert_uint_eq(t.reasons->len, 1);
	ck_assert_str_eq(wd_reason(&t, 0), "The sender's domain paypa1.com imitates paypal.com.");
	banner_text_clear(&t);
	conf_free(conf);
	report_free(rep);
}
END_TEST

/* Names a sender chose are shown, not obeyed: bidi and controls made visible, long ones cut. */
START_TEST(test_hostile_names)
{
	struct moat_report *rep = report_new();
	struct banner_text t;
	g_autofree char *longname = g_strnfill(600, 'a');
	g_autofree char *longpath = g_strconcat(longname, ".exe", NULL);

	wd_add(rep, "name.bidi_control", "invoice\xe2\x80\xaegpj.exe", 10, "x");
	wd_add(rep, "attach.executable", longpath, 9, "x");
	wd_add(rep, "attach.script", "a\r\nb.js", 8, "x");
	wd_add(rep, "type.mismatch", "(part 2, application/octet-stream)", 4, "x");
	wd_words(&t, rep, "en", 5, FALSE);
	ck_assert_uint_eq(t.reasons->len, 4);
	ck_assert_str_eq(wd_reason(&t, 0), "The name of the attachment invoice<U+202E>gpj.exe "
	    "contains hidden characters that reverse how it is shown.");
	ck_assert_ptr_null(strstr(wd_reason(&t, 0), "\xe2\x80\xae"));
	ck_assert_uint_lt(strlen(wd_reason(&t, 1)), 200);
	ck_assert_ptr_nonnull(strstr(wd_reason(&t, 1), ".exe is a program"));
	ck_assert_ptr_nonnull(strstr(wd_reason(&t, 1), "\xe2\x80\xa6"));	/* … */
	ck_assert_ptr_null(strpbrk(wd_reason(&t, 2), "\r\n"));
	ck_assert_str_eq(wd_reason(&t, 3), "The attachment an unnamed part is not the kind of "
	    "file its name says.");
	banner_text_clear(&t);
	report_free(rep);
}
END_TEST

/* Sender findings name the sender: {from_domain}, {protected}, {from_name}, {from}. */
START_TEST(test_sender_words)
{
	struct moat_report *rep = report_new();
	struct banner_text t;

	rep->hdr.from_addr = g_strdup("ceo@examp1e.com");
	rep->hdr.from_name = g_strdup("Jane \xe2\x80\x8b" "Doe");
	wd_add(rep, "auth.lookalike_domain", "", 8,
	    "From domain examp1e.com imitates example.com (one letter off)");
	wd_add(rep, "auth.display_name", "", 6, "display name \"Jane Doe\" is protected");
	wd_add(rep, "policy.blocked_sender", "", 5, "x");
	wd_words(&t, rep, "en", 5, FALSE);
	ck_assert_str_eq(wd_reason(&t, 0), "The sender's domain examp1e.com imitates example.com.");
	ck_assert_str_eq(wd_reason(&t, 1), "The sender's name \"Jane <U+200B>Doe\" belongs to your "
	    "organisation, but the message comes from examp1e.com.");
	ck_assert_str_eq(wd_reason(&t, 2),
	    "The sender ceo@examp1e.com is on your organisation's block list.");
	banner_text_clear(&t);
	report_free(rep);
}
END_TEST

/* German and French say it in their words. */
START_TEST(test_languages)
{
	struct moat_report *rep = report_new();
	struct banner_text t;

	wd_add(rep, "attach.shortcut", "invoice.zip|run.lnk", 10, "x");
	wd_add(rep, "lure.html_smuggling", "page.html", 15, "x");
	wd_words(&t, rep, "de", 3, FALSE);
	ck_assert_str_eq(wd_reason(&t, 0), "Der Anhang page.html ist eine Webseite, die eine "
	    "versteckte Datei erzeugt und speichert.");
	ck_assert_ptr_nonnull(strstr(wd_reason(&t, 1), "Windows-Verknüpfung"));
	ck_assert_ptr_nonnull(strstr(t.title, "Vorsicht"));
	ck_assert_ptr_nonnull(strstr(t.advice, "Anhänge"));
	banner_text_clear(&t);
	wd_words(&t, rep, "fr", 3, FALSE);
	ck_assert_ptr_nonnull(strstr(wd_reason(&t, 0), "La pièce jointe page.html est une page web"));
	ck_assert_ptr_nonnull(strstr(wd_reason(&t, 1), "raccourci Windows"));
	ck_assert_ptr_nonnull(strstr(t.advice, "pièces jointes"));
	banner_text_clear(&t);
	report_free(rep);
}
END_TEST

/* A template that is missing, outside the directory or broken is an error naming it. */
START_TEST(test_bad_templates)
{
	static const char *const bad_names[] = { "xx", "../en", "../../etc/passwd", "a/b", ".." };
	struct moat_report *rep = report_new();
	struct banner_text t;
	g_autofree char *dir = g_dir_make_tmp("moat-words-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "zz.conf", NULL);
	g_autofree char *en_path = g_build_filename(BANNERS_DIR, "en.conf", NULL);
	g_autofree char *en = NULL;
	gsize en_len = 0;

	wd_add(rep, "attach.executable", "run.exe", 10, "x");
	for (guint i = 0; i < G_N_ELEMENTS(bad_names); i++) {
		struct moat_conf *conf = wd_conf(BANNERS_DIR, "en", 3);
		g_autofree char *err = NULL;

		g_free(conf->banner.language);
		conf->banner.language = g_strdup(bad_names[i]);
		ck_assert_int_eq(banner_words(&t, &err, rep, conf, FALSE), MOAT_EINVAL);
		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_null(t.title);
		conf_free(conf);
	}

	/* a file of our own: good, then with a typo, then good again (read each time it changes) */
	ck_assert(g_file_get_contents(en_path, &en, &en_len, NULL));
	{
		struct moat_conf *conf = wd_conf(dir, "zz", 3);
		g_autofree char *err = NULL, *typo = NULL, *other = NULL;
		char *at;

		ck_assert_int_eq(banner_words(&t, &err, rep, conf, FALSE), MOAT_EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "zz.conf"));
		g_clear_pointer(&err, g_free);

		ck_assert(g_file_set_contents(file, en, (gssize)en_len, NULL));
		ck_assert_int_eq(banner_words(&t, &err, rep, conf, FALSE), 0);
		banner_text_clear(&t);

		typo = g_strdup(en);
		at = strstr(typo, "{file} is a program");
		ck_assert_ptr_nonnull(at);
		memcpy(at, "{fil}  ", 7);
		ck_assert(g_file_set_contents(file, typo, -1, NULL));
		ck_assert_int_eq(banner_words(&t, &err, rep, conf, FALSE), MOAT_EINVAL);
		ck_assert_msg(strstr(err, "zz.conf: [reasons] attach.executable: unknown "
		    "placeholder {fil}") != NULL, "%s", err);
		g_clear_pointer(&err, g_free);

		/* an unclosed brace, a missing [banner] key */
		memcpy(at, "{file is", 8);
		ck_assert(g_file_set_contents(file, typo, -1, NULL));
		ck_assert_int_eq(banner_words(&t, &err, rep, conf, FALSE), MOAT_EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "[reasons] attach.executable"));
		g_clear_pointer(&err, g_free);
		ck_assert(g_file_set_contents(file, "[banner]\ntitle = T\n[reasons]\ndefault = D\n",
		    -1, NULL));
		ck_assert_int_eq(banner_words(&t, &err, rep, conf, FALSE), MOAT_EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "zz.conf: [banner] advice"));
		g_clear_pointer(&err, g_free);

		/* the file changes: the new words are used */
		other = g_strconcat("[banner]\ntitle = Look out, {from_domain}\nadvice = A\n"
		    "external = E\nmessage = M\nunnamed = U\nunknown = ?\n[reasons]\n"
		    "default = Odd: {file} {{x}}\n", NULL);
		ck_assert(g_file_set_contents(file, other, -1, NULL));
		ck_assert_int_eq(banner_words(&t, &err, rep, conf, FALSE), 0);
		ck_assert_str_eq(t.title, "Look out, ?");
		ck_assert_str_eq(wd_reason(&t, 0), "Odd: run.exe {x}");
		banner_text_clear(&t);
		conf_free(conf);
	}
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	report_free(rep);
}
END_TEST

Suite *
words_suite(void)
{
	Suite *s = suite_create("words");
	TCase *tc = tcase_create("words");

	tcase_add_loop_test(tc, test_every_id_has_words, 0, G_N_ELEMENTS(languages));
	tcase_add_loop_test(tc, test_every_id_formats, 0, G_N_ELEMENTS(languages));
	tcase_add_test(tc, test_order_and_limit);
	tcase_add_test(tc, test_quiet_findings);
	tcase_add_test(tc, test_external);
	tcase_add_test(tc, test_lookalike_words);
	tcase_add_test(tc, test_hostile_names);
	tcase_add_test(tc, test_sender_words);
	tcase_add_test(tc, test_languages);
	tcase_add_test(tc, test_bad_templates);
	suite_add_tcase(s, tc);
	return s;
}
