/*
 * check_password.c - passwords in the mail (scanners/lure/password.c)
 */
#include "checks.h"

Suite *
password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *tc = tcase_create("password");

	suite_add_tcase(s, tc);
	return s;
}
