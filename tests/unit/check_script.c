/*
 * check_script.c - scripts, OneNote and CHM (scanners/lure/script.c, embedded.c)
 */
#include "checks.h"

Suite *
script_suite(void)
{
	Suite *s = suite_create("script");
	TCase *tc = tcase_create("script");

	suite_add_tcase(s, tc);
	return s;
}
