/*
 * check_main.c - run every moat unit suite; exit 1 when any test failed
 *
 * Tests that need a third-party corpus missing from TESTDATA_DIR are left
 * out of their suites by testdata_have(): each is named on stdout as it is
 * left out, all of them again after Check's summary, and in
 * BUILD_DIR/skipped.txt for `make check` to print last.
 */
#include <stdio.h>
#include <stdlib.h>

#include "checks.h"
#include "moat/scan.h"

#define SKIPPED_FILE BUILD_DIR "/skipped.txt"

static GPtrArray *skipped;

gboolean
testdata_have(const char *corpus, const char *test)
{
	g_autofree char *dir = g_build_filename(TESTDATA_DIR, corpus, NULL);

	if (TESTDATA_DIR[0] != '\0' && g_file_test(dir, G_FILE_TEST_IS_DIR))
		return TRUE;
	g_ptr_array_add(skipped, g_strdup_printf("%s (no %s)", test, corpus));
	printf("skipped: %s (no %s)\n", test, corpus);
	return FALSE;
}

/* skipped_write - the list for `make check`; an empty file when nothing was skipped */
static void
skipped_write(void)
{
	FILE *f = fopen(SKIPPED_FILE, "w");

	if (f == NULL) {
		perror(SKIPPED_FILE);
		return;
	}
	for (guint i = 0; i < skipped->len; i++)
		fprintf(f, "%s\n", (char *)skipped->pdata[i]);
	fclose(f);
}

int
main(void)
{
	SRunner *sr;
	int failed;

	skipped = g_ptr_array_new_with_free_func(g_free);
	sr = srunner_create(conf_suite());
	scan_init();
	srunner_add_suite(sr, report_suite());
	srunner_add_suite(sr, sniff_suite());
	srunner_add_suite(sr, names_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, mime_suite());
	srunner_add_suite(sr, salvage_suite());
	srunner_add_suite(sr, scan_suite());
	srunner_add_suite(sr, corpus_suite());
	srunner_add_suite(sr, moatd_suite());
	srunner_add_suite(sr, stats_suite());
	srunner_add_suite(sr, reload_suite());
	srunner_add_suite(sr, walk_suite());
	srunner_add_suite(sr, av_suite());
	srunner_add_suite(sr, lists_suite());
	srunner_add_suite(sr, zipdir_suite());
	srunner_add_suite(sr, lnk_suite());
	srunner_add_suite(sr, pe_suite());
	srunner_add_suite(sr, diskimg_suite());
	srunner_add_suite(sr, lure_suite());
	srunner_add_suite(sr, sha256_suite());
	srunner_add_suite(sr, quarsmtp_suite());
	srunner_add_suite(sr, quarantine_suite());
	srunner_add_suite(sr, dmarc_suite());
	srunner_add_suite(sr, lookalike_suite());
	srunner_add_suite(sr, dkimv_suite());
	srunner_add_suite(sr, spf_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, banner_suite());
	srunner_add_suite(sr, words_suite());
	srunner_add_suite(sr, office_suite());
	srunner_add_suite(sr, script_suite());
	srunner_add_suite(sr, password_suite());
	srunner_add_suite(sr, decrypt_suite());
	srunner_add_suite(sr, catalogue_suite());
	srunner_add_suite(sr, web_suite());
	srunner_add_suite(sr, charset_suite());
	skipped_write();
	fflush(stdout);	/* before Check forks: a child would print the buffer again */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (skipped->len > 0) {
		printf("%u test%s skipped, their corpus is not in the test data (%s):\n",
		    skipped->len, skipped->len == 1 ? "" : "s", TESTDATA_DIR[0] != '\0' ? TESTDATA_DIR : "none found");
		for (guint i = 0; i < skipped->len; i++)
			printf("  %s\n", (char *)skipped->pdata[i]);
		printf("get them with scripts/testdata.sh (README, \"Test data\")\n");
	}
	g_ptr_array_unref(skipped);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
