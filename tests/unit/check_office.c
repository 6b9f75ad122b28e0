/*
 * check_office.c - Office macros and remote templates (scanners/lure/office.c)
 */
#include "checks.h"

Suite *
office_suite(void)
{
	Suite *s = suite_create("office");
	TCase *tc = tcase_create("office");

	suite_add_tcase(s, tc);
	return s;
}
