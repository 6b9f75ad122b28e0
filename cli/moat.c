/*
 * moat.c - the moat admin command
 *
 *   moat [-c FILE] scan [--json] [ENVELOPE] FILE.eml...	offline verdict ("-" reads stdin)
 *	ENVELOPE: --from ADDR, --rcpt ADDR (repeatable), --client IP, --helo NAME,
 *	--auth USER, as moatd would get them from the MTA, to try [lists] and
 *	[outbound]; with --client, SPF, DKIM and DMARC run too (--no-auth: not)
 *   moat [-c FILE] config check		validate and print the effective config
 *   moat config reference [--man]		the key reference as a Markdown table
 *						(--man: roff, for moat.conf(5))
 *   moat config findings			the finding catalogue as a Markdown table
 *   moat [-c FILE] stats [--socket SPEC] [--raw]	moatd's counters (cli/stats.c)
 *   moat [-c FILE] quarantine list|show|release|delete|purge|export|migrate ...
 *						the quarantine store (cli/quarantine.c)
 *   moat [-c FILE] web user add|passwd|role|del|list ...
 *						moat-web's users (cli/web.c)
 *
 * Exit status of scan: 0 every message accepted, 1 any tagged or worse,
 * 2 on any error (unreadable file, bad option, bad config); 2 wins over 1.
 * It calls the library, never the milter.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moat/av.h"
#include "cmd.h"
#include "moat/conf.h"
#include "moat/moat.h"
#include "moat/report.h"
#include "moat/auth.h"
#include "moat/scan.h"

enum { EXIT_CLEAN = 0, EXIT_FLAGGED = 1, EXIT_ERROR = 2 };

static void
cmd_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: moat [-c FILE] scan [--json] [--from ADDR] [--rcpt ADDR]... [--client IP]\n"
	    "           [--helo NAME] [--auth USER] [--no-auth] FILE.eml...  (- reads standard input)\n"
	    "       moat [-c FILE] config check\n"
	    "       moat config reference [--man] | findings\n"
	    "       moat [-c FILE] stats [--socket SPEC] [--raw]\n"
	    "       moat [-c FILE] quarantine list [--since T] [--until T] [--from ADDR] [--rcpt ADDR]\n"
	    "           [--finding ID] [--status S|all] [--limit N] [--json]\n"
	    "       moat [-c FILE] quarantine show ID [--json] | release ID [--to RCPT]... |\n"
	    "           delete ID | purge [--older-than DAYS] | export ID >FILE.eml | migrate\n"
	    "       moat [-c FILE] web user add NAME ROLE | passwd NAME | role NAME ROLE | del NAME |\n"
	    "           list   (ROLE: admin, reviewer or auditor)\n"
	    "  -c FILE   config file (default " CONF_DEFAULT_PATH "; built-in defaults when absent)\n");
}

/* cmd_print_human - one readable block per message */
static void
cmd_print_human(const struct moat_report *rep, FILE *fp)
{
	fprintf(fp, "%s: %s (score %d%s)\n", rep->source ? rep->source : "-",
	    report_action_name(rep->verdict.action), rep->verdict.score,
	    rep->verdict.direction == MOAT_OUTBOUND ? ", outbound" : "");
	for (guint i = 0; i < rep->verdict.reasons->len; i++)
		if (g_str_has_prefix(rep->verdict.reasons->pdata[i], "allowed: "))
			fprintf(fp, "  %s\n", (const char *)rep->verdict.reasons->pdata[i]);
	if (rep->hdr.from || rep->hdr.subject)
		fprintf(fp, "  from %s, subject \"%s\"\n", rep->hdr.from ? rep->hdr.from : "(none)",
		    rep->hdr.subject ? rep->hdr.subject : "");
	fprintf(fp, "  %u part%s, %" G_GUINT64_FORMAT " bytes\n", rep->parts->len,
	    rep->parts->len == 1 ? "" : "s", rep->size);
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];

		if (p->parent != NULL)
			fprintf(fp, "  %*s%s (%s, %" G_GUINT64_FORMAT " bytes%s%s%s%s)\n",
			    (int)(2 * p->container_depth), "", p->path_display,
			    p->sniffed ? p->sniffed : "unread", p->decoded_size,
			    p->hidden ? ", hidden" : "", p->encrypted ? ", encrypted" : "",
			    p->derived ? ", " : "", p->derived ? p->derived : "");
	}
	if (rep->auth != NULL && rep->auth->skipped != NULL) {
		fprintf(fp, "  sender authentication not checked: %s\n", rep->auth->skipped);
	} else if (rep->auth != NULL) {
		g_autofree char *ar = auth_results_header(rep->auth, &rep->env, "moat");
		g_autofree char *indented = NULL;
		g_auto(GStrv) lines = g_strsplit(ar, "\n\t", -1);

		indented = g_strjoinv("\n      ", lines);
		fprintf(fp, "  Authentication-Results: %s\n", indented);
	}
	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		fprintf(fp, "  %+4d %-22s %-6s %-9s %s%s%s%s\n", f->score, f->id,
		    report_severity_name(f->kind->severity),
		    f->kind->attack[0] ? f->kind->attack : "-",
		    f->path_display, f->path_display[0] ? ": " : "", f->evidence,
		    f->allowed ? " [allowed]" : f->off ? " [off]" : "");
	}
}

/* cmd_load_av - the libclamav engine for `moat scan`; skipped directories are worth a word */
static int
cmd_load_av(const struct moat_conf *conf)
{
	g_autofree char *err = NULL, *warn = NULL;

	if (av_load(conf, &err, &warn) < 0) {
		fprintf(stderr, "moat scan: %s\n", err);
		return -1;
	}
	if (warn != NULL)
		fprintf(stderr, "moat scan: %s\n", warn);
	return 0;
}

/* cmd_address - ADDR as moatd keeps an envelope address: without the MTA's <> */
static char *
cmd_address(const char *addr)
{
	gsize n = strlen(addr);

	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>')
		return g_strndup(addr + 1, n - 2);
	return g_strdup(addr);
}

static int
cmd_scan(const struct moat_conf *conf, int argc, char **argv)
{
	enum { OPT_NO_AUTH = 255, OPT_FROM, OPT_RCPT, OPT_CLIENT, OPT_AUTH, OPT_HELO };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "rcpt", required_argument, NULL, OPT_RCPT },
		{ "client", required_argument, NULL, OPT_CLIENT },
		{ "auth", required_argument, NULL, OPT_AUTH },
		{ "helo", required_argument, NULL, OPT_HELO },
		{ "no-auth", no_argument, NULL, OPT_NO_AUTH },
		{ NULL, 0, NULL, 0 },
	};
	gboolean json = FALSE, have_env = FALSE, no_auth = FALSE;
	struct scan_opts opts = { 0 };
	int status = EXIT_CLEAN, ch;
	struct moat_envelope env;
	guint8 ip[16];

	report_envelope_init(&env);
	optind = 0;	/* 0, not 1: glibc then forgets main()'s "+" (stop at the first file) */
	while ((ch = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = TRUE;
			break;
		case 'h':
			status = EXIT_CLEAN;
			cmd_usage(stdout);
			goto out;
		case OPT_FROM:
			g_free(env.mail_from);
			env.mail_from = cmd_address(optarg);
			break;
		case OPT_RCPT:
			g_ptr_array_add(env.rcpt_to, cmd_address(optarg));
			break;
		case OPT_CLIENT:
			/* What moatd gets from the MTA: an address, never a name. */
			if (inet_pton(AF_INET, optarg, ip) != 1 && inet_pton(AF_INET6, optarg, ip) != 1) {
				fprintf(stderr, "moat scan: --client '%s': not an IPv4 or IPv6 address\n",
				    optarg);
				status = EXIT_ERROR;
				goto out;
			}
			g_free(env.client_addr);
			env.client_addr = g_strdup(optarg);
			break;
		case OPT_AUTH:
			g_free(env.auth);
			env.auth = g_strdup(optarg);
			break;
		case OPT_HELO:
			g_free(env.helo);
			env.helo = g_strdup(optarg);
			break;
		case OPT_NO_AUTH:
			no_auth = TRUE;
			break;
		default:
			cmd_usage(stderr);
			status = EXIT_ERROR;
			goto out;
		}
		have_env |= ch >= OPT_FROM;
	}
	if (optind >= argc) {
		fprintf(stderr, "moat scan: no message given\n");
		cmd_usage(stderr);
		status = EXIT_ERROR;
		goto out;
	}
	/* SPF needs the client: without --client the checks would only say so */
	opts.auth = env.client_addr != NULL && conf->auth.enabled && !no_auth;
	scan_init();
	if (cmd_load_av(conf) < 0) {
		status = EXIT_ERROR;
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		struct moat_report *rep = NULL;
		char *err = NULL;

		if (scan_file_opts(&rep, &err, argv[i], have_env ? &env : NULL, conf, &opts) < 0) {
			fprintf(stderr, "moat scan: %s\n", err);
			g_free(err);
			status = EXIT_ERROR;
			continue;
		}
		if (json) {
			g_autofree char *doc = report_to_json(rep, TRUE);

			printf("%s\n", doc);
		} else {
			cmd_print_human(rep, stdout);
		}
		if (rep->verdict.action != MOAT_ACCEPT && status == EXIT_CLEAN)
			status = EXIT_FLAGGED;
		report_free(rep);
	}
out:
	report_envelope_clear(&env);
	return status;
}

static int
cmd_config(const struct moat_conf *conf, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "check") == 0) {
		conf_print(conf, stdout);
		return EXIT_CLEAN;
	}
	if (argc == 2 && strcmp(argv[1], "reference") == 0) {
		conf_print_reference(stdout);
		return EXIT_CLEAN;
	}
	if (argc == 3 && strcmp(argv[1], "reference") == 0 && strcmp(argv[2], "--man") == 0) {
		conf_print_reference_man(stdout);
		return EXIT_CLEAN;
	}
	if (argc == 2 && strcmp(argv[1], "findings") == 0) {
		gsize n;
		const struct moat_finding_kind *k = report_kinds(&n);

		printf("| id | score | severity | ATT&CK | meaning |\n| --- | --- | --- | --- | --- |\n");
		for (gsize i = 0; i < n; i++)
			printf("| `%s` | %d | %s | %s | %s |\n", k[i].id, k[i].score,
			    report_severity_name(k[i].severity), k[i].attack[0] ? k[i].attack : "-",
			    k[i].summary);
		return EXIT_CLEAN;
	}
	cmd_usage(stderr);
	return EXIT_ERROR;
}

int
main(int argc, char **argv)
{
	const char *path = CONF_DEFAULT_PATH;
	gboolean explicit = FALSE;
	struct moat_conf *conf = NULL;
	char *err = NULL;
	int ch, status;

	/* "+": stop at the subcommand; its own options are parsed there. */
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			explicit = TRUE;
			break;
		case 'h':
			cmd_usage(stdout);
			return EXIT_CLEAN;
		default:
			cmd_usage(stderr);
			return EXIT_ERROR;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		cmd_usage(stderr);
		return EXIT_ERROR;
	}
	/*
	 * The key reference and the finding catalogue come from the tables
	 * alone: no config is read, so the build can make moat.conf(5) with
	 * them whatever /etc/moat/moat.conf holds.
	 */
	if (strcmp(argv[0], "config") == 0 && argc >= 2 &&
	    (strcmp(argv[1], "reference") == 0 || strcmp(argv[1], "findings") == 0))
		return cmd_config(NULL, argc, argv);
	/* The default path may be absent (built-in defaults); a named one must exist. */
	if (conf_load(&conf, &err, path, !explicit) < 0) {
		fprintf(stderr, "moat: %s\n", err);
		g_free(err);
		return EXIT_ERROR;
	}
	if (strcmp(argv[0], "scan") == 0) {
		status = cmd_scan(conf, argc, argv);
	} else if (strcmp(argv[0], "quarantine") == 0) {
		status = cmd_quarantine(conf, argc, argv);
	} else if (strcmp(argv[0], "stats") == 0) {
		status = cmd_stats(conf, argc, argv);
	} else if (strcmp(argv[0], "web") == 0) {
		status = cmd_web(conf, argc, argv);
	} else if (strcmp(argv[0], "config") == 0) {
		status = cmd_config(conf, argc, argv);
	} else {
		fprintf(stderr, "moat: unknown command '%s'\n", argv[0]);
		cmd_usage(stderr);
		status = EXIT_ERROR;
	}
	conf_free(conf);
	return status;
}
