/*
 * check_catalogue.c - the finding catalogue in docs/findings.md against the code's table
 */
#include "checks.h"

Suite *
catalogue_suite(void)
{
	Suite *s = suite_create("catalogue");
	TCase *tc = tcase_create("catalogue");

	suite_add_tcase(s, tc);
	return s;
}
