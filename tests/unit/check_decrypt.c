/*
 * check_decrypt.c - encrypted archives opened with the mail's passwords (scanners/containers/decrypt.c)
 */
#include "checks.h"

Suite *
decrypt_suite(void)
{
	Suite *s = suite_create("decrypt");
	TCase *tc = tcase_create("decrypt");

	suite_add_tcase(s, tc);
	return s;
}
