/*
 * static.c - the style sheet moat-web serves (/static/moat-web.css)
 *
 * web/style.css goes into the program itself (the assembler's .incbin,
 * run from the top of the tree as the Makefile does), so there is no
 * file to install and no path to configure. The only static file: the
 * pages need no script.
 */
#include "web.h"

__asm__(".section .rodata\n"
	".balign 16\n"
	"web_css_start:\n"
	".incbin \"web/style.css\"\n"
	"web_css_end:\n"
	".byte 0\n"
	".previous\n");

extern const char web_css_start[], web_css_end[];

const char *
web_css(gsize *len)
{
	*len = (gsize)(web_css_end - web_css_start);
	return web_css_start;
}
