/*
 * check_main.c - run every moat unit suite; exit 1 when any test failed
 */
#include <stdlib.h>

#include "checks.h"
#include "moat/scan.h"

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	scan_init();
	srunner_add_suite(sr, report_suite());
	srunner_add_suite(sr, sniff_suite());
	srunner_add_suite(sr, names_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, mime_suite());
	srunner_add_suite(sr, scan_suite());
	srunner_add_suite(sr, corpus_suite());
	srunner_add_suite(sr, moatd_suite());
	srunner_add_suite(sr, stats_suite());
	srunner_add_suite(sr, reload_suite());
	srunner_add_suite(sr, walk_suite());
	srunner_add_suite(sr, av_suite());
	srunner_add_suite(sr, lists_suite());
	srunner_add_suite(sr, zipdir_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
