/*
 * checks.h - one Check suite per module; check_main.c runs them all
 *
 * SAMPLES_DIR, TESTDATA_DIR and BUILD_DIR (where samples/build-binary.sh
 * wrote its files, under BUILD_DIR/samples) come from the Makefile.
 * TESTDATA_DIR holds the third-party corpora (../shared/testdata or
 * tests/data, read-only) and is "" when neither exists: a test that needs a
 * corpus is added to its suite only when testdata_have() finds it.
 */
#ifndef MOAT_TESTS_CHECKS_H
#define MOAT_TESTS_CHECKS_H

#include <check.h>
#include <glib.h>

Suite *conf_suite(void);
Suite *report_suite(void);
Suite *sniff_suite(void);
Suite *names_suite(void);
Suite *policy_suite(void);
Suite *mime_suite(void);
Suite *salvage_suite(void);
Suite *scan_suite(void);
Suite *corpus_suite(void);
Suite *moatd_suite(void);
Suite *stats_suite(void);
Suite *reload_suite(void);
Suite *walk_suite(void);
Suite *av_suite(void);
Suite *lists_suite(void);
Suite *zipdir_suite(void);
Suite *lnk_suite(void);
Suite *pe_suite(void);
Suite *diskimg_suite(void);
Suite *lure_suite(void);
Suite *sha256_suite(void);
Suite *quarsmtp_suite(void);
Suite *quarantine_suite(void);
Suite *dmarc_suite(void);
Suite *lookalike_suite(void);
Suite *dkimv_suite(void);
Suite *spf_suite(void);
Suite *auth_suite(void);
Suite *banner_suite(void);
Suite *words_suite(void);
Suite *office_suite(void);
Suite *script_suite(void);
Suite *password_suite(void);
Suite *decrypt_suite(void);
Suite *catalogue_suite(void);
Suite *web_suite(void);
Suite *charset_suite(void);

/* testdata_have - TRUE when the corpus folder CORPUS is in TESTDATA_DIR; else
 * prints "skipped: TEST (no CORPUS)" and records TEST in BUILD_DIR/skipped.txt,
 * which `make check` prints at its end */
gboolean testdata_have(const char *corpus, const char *test);

#endif
