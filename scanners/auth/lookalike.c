/*
 * lookalike.c - look-alike sender domains and display names
 *
 * In: rep->hdr (first From mailbox and its display name), rep->env.rcpt_to,
 * rep->auth (DMARC), [auth] protected_domains, trusted_domains,
 * protected_names. Out: at most one auth.lookalike_domain and one
 * auth.display_name finding. Runs after SPF/DKIM/DMARC, inbound mail only
 * (auth.c calls it). No DNS.
 *
 * The protected set is [auth] protected_domains, or the recipients' domains
 * when that is empty, so the check works unconfigured (mailbox providers'
 * domains left out, la_providers[]). Domains are compared
 * as Unicode (libidn2 decodes xn-- labels), NFKC and case-folded. The rules
 * compare registrable labels (the organisational domain, dmarc_org_domain(),
 * minus its public suffix):
 *   TLD swap     the same label under another suffix (example.co), for
 *                configured protected domains only;
 *   homoglyphs   a non-ASCII label whose Latin skeleton (la_confusables[],
 *                accents dropped) is the protected label's (pаypal, Cyrillic а);
 *   look-alike letters  an ASCII label whose skeleton (rn->m, vv->w, cl->d,
 *                0->o, 1->l) is the protected one's (rnicrosoft, micros0ft);
 *   hyphens      the labels equal once hyphens are removed (ex-ample), or the
 *                protected label joined by '-' to a lure word (la_lures[]);
 *   edit distance  Damerau-Levenshtein (adjacent swaps count one) on labels
 *                or their skeletons: 1 when both are >= 4 characters, 2 when
 *                both are >= 8 (paypa1 is caught as look-alike letters first).
 * No rule looks at labels shorter than LA_MIN_LABEL characters: short names
 * (gmx.de and gmx.com, ibm.de) too often belong to unrelated owners.
 * Never flagged: D equal to or under a protected domain, the same
 * organisational domain, D or its organisational domain in (or under)
 * trusted_domains, D itself protected by the configured list, or by the
 * recipients when DMARC passed (recipients are the sender's to choose).
 *
 * Display names (casefolded, invisible characters and <U+...> marks of
 * report_clean_text() removed, homoglyphs mapped): one that shows an address
 * at a protected domain, or holds a protected name as whole words, while the
 * From domain is outside the protected and trusted ones.
 *
 * Limits: the first LA_MAX_DOMAINS protected (and trusted) domains, worked
 * out again for each message (a few ms for a full list); labels of at most
 * 63 bytes; LA_MAX_SHOWN addresses in the display name as the report keeps
 * it (998 bytes).
 * Reentrant: reads the config, writes only REP.
 */
#include <string.h>

#include <idn2.h>

#include "moat/dmarc.h"
#include "moat/lookalike.h"

#define LA_MAX_DOMAINS	1000	/* protected or trusted domains looked at */
#define LA_MAX_LABEL	63	/* bytes in a DNS label (RFC 1035) */
#define LA_MAX_NAME	255	/* bytes in a domain name */
#define LA_MIN_LABEL	4	/* characters for any rule */
#define LA_LONG_LABEL	8	/* characters for an edit distance of 2 */
#define LA_SHOW_MAX	80	/* characters of a display name in evidence */
#define LA_MAX_SHOWN	16	/* addresses looked at in one display name */

/* Letters of other scripts that look like Latin ones, lower case (after case
 * folding), after accents are dropped (NFKD). UTS #39's confusables, cut
 * down to the letters a domain label or a name is made of. */
static const struct { gunichar c; char to; } la_confusables[] = {
	/* Cyrillic */
	{ 0x0430, 'a' }, { 0x0432, 'b' }, { 0x0435, 'e' }, { 0x043a, 'k' }, { 0x043e, 'o' },
	{ 0x0440, 'p' }, { 0x0441, 'c' }, { 0x0443, 'y' }, { 0x0445, 'x' }, { 0x044c, 'b' },
	{ 0x0455, 's' }, { 0x0456, 'i' }, { 0x0458, 'j' }, { 0x04bb, 'h' }, { 0x04cf, 'l' },
	{ 0x0501, 'd' }, { 0x051b, 'q' }, { 0x051d, 'w' }, { 0x0461, 'w' }, { 0x04af, 'y' },
	/* Greek */
	{ 0x03b1, 'a' }, { 0x03b3, 'y' }, { 0x03b5, 'e' }, { 0x03b7, 'n' }, { 0x03b9, 'i' },
	{ 0x03ba, 'k' }, { 0x03bd, 'v' }, { 0x03bf, 'o' }, { 0x03c1, 'p' }, { 0x03c4, 't' },
	{ 0x03c5, 'u' }, { 0x03c7, 'x' }, { 0x03c9, 'w' }, { 0x03f2, 'c' }, { 0x03f3, 'j' },
	/* Latin letters that are not plain ASCII ones, and Armenian */
	{ 0x0131, 'i' }, { 0x0261, 'g' }, { 0x0251, 'a' }, { 0x0269, 'i' }, { 0x026a, 'i' },
	{ 0x1d0f, 'o' }, { 0x2113, 'l' }, { 0x0578, 'n' }, { 0x057d, 'u' }, { 0x0585, 'o' },
};

/* ASCII sequences read as another letter, longest first per position. */
static const struct { const char *from; char to; } la_ascii_confusables[] = {
	{ "rn", 'm' }, { "vv", 'w' }, { "cl", 'd' }, { "0", 'o' }, { "1", 'l' },
};

/* Words phishers join to a brand with a hyphen (example-secure.com). Short
 * on purpose: each one is a way for a real partner's domain to be flagged. */
static const char *const la_lures[] = {
	"secure", "login", "signin", "verify", "account", "support", "billing", "invoice",
	"payroll", "hr", "it",
};

/* Registrable labels of mailbox providers. Their recipients do not make them
 * protected: their brands have real siblings (hotmail.fr, yahoo.co.jp,
 * mail.com beside gmail.com), and their users are not the organisation the
 * recipient-derived protection is for. A configured list may name them. */
static const char *const la_providers[] = {
	"aol", "gmail", "gmx", "googlemail", "hotmail", "icloud", "live", "mail", "msn",
	"outlook", "proton", "protonmail", "web", "yahoo", "yandex", "ymail", "zoho",
};

/* One domain as the rules compare it. Strings owned. */
struct la_domain {
	char *name;			/* Unicode, NFKC, case-folded, no trailing dot */
	char *org;			/* its organisational domain, same form */
	char *label;			/* the registrable label: org's first label */
	const char *suffix;		/* the rest of org, borrowed from it ("" for none) */
	char *skel;			/* la_skeleton() of label */
	char *bare;			/* label without hyphens */
	glong len;			/* characters in label */
	gboolean ascii;			/* label is plain ASCII */
};

static void
la_domain_clear(struct la_domain *d)
{
	g_free(d->name);
	g_free(d->org);
	g_free(d->label);
	g_free(d->skel);
	g_free(d->bare);
	memset(d, 0, sizeof(*d));
}

static void
la_domain_free(gpointer p)
{
	la_domain_clear(p);
	g_free(p);
}

/* la_strip_marks - S without the <U+XXXX> marks report_clean_text() puts for
 * invisible characters, without invisible characters and U+FFFD */
static char *
la_strip_marks(const char *s)
{
	GString *out = g_string_sized_new(strlen(s));

	for (const char *p = s; *p != '\0'; ) {
		gunichar c = g_utf8_get_char(p);

		if (g_str_has_prefix(p, "<U+")) {
			const char *q = p + 3;

			while (g_ascii_isxdigit(*q))
				q++;
			if (*q == '>' && q - p >= 7 && q - p <= 9) {
				p = q + 1;
				continue;
			}
		}
		if (c != 0xfffd && report_unichar_trick(c) == REPORT_TRICK_NONE)
			g_string_append_unichar(out, c);
		p = g_utf8_next_char(p);
	}
	return g_string_free(out, FALSE);
}

/* la_fold - S (valid UTF-8) NFKC-normalised and case-folded; caller g_free()s */
static char *
la_fold(const char *s)
{
	g_autofree char *nfkc = g_utf8_normalize(s, -1, G_NORMALIZE_NFKC);

	return g_utf8_casefold(nfkc != NULL ? nfkc : s, -1);
}

static char
la_confusable(gunichar c)
{
	for (gsize i = 0; i < G_N_ELEMENTS(la_confusables); i++)
		if (la_confusables[i].c == c)
			return la_confusables[i].to;
	return '\0';
}

/*
 * la_skeleton - what folded text S looks like in Latin letters: accents
 * dropped, la_confusables[] mapped, and with ASCII true the
 * la_ascii_confusables[] too (domain labels; not names, where "cl" is just
 * "cl"). Caller g_free()s.
 */
static char *
la_skeleton(const char *s, gboolean ascii)
{
	g_autofree char *nfkd = g_utf8_normalize(s, -1, G_NORMALIZE_NFKD);
	GString *out = g_string_sized_new(strlen(s));
	GString *res;

	for (const char *p = nfkd != NULL ? nfkd : s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		char to;

		if (g_unichar_ismark(c) || report_unichar_trick(c) != REPORT_TRICK_NONE)
			continue;
		if ((to = la_confusable(c)) != '\0')
			g_string_append_c(out, to);
		else
			g_string_append_unichar(out, c);
	}
	if (!ascii)
		return g_string_free(out, FALSE);
	res = g_string_sized_new(out->len);
	for (const char *p = out->str; *p != '\0'; ) {
		gsize i;

		for (i = 0; i < G_N_ELEMENTS(la_ascii_confusables); i++)
			if (g_str_has_prefix(p, la_ascii_confusables[i].from))
				break;
		if (i < G_N_ELEMENTS(la_ascii_confusables)) {
			g_string_append_c(res, la_ascii_confusables[i].to);
			p += strlen(la_ascii_confusables[i].from);
		} else {
			g_string_append_c(res, *p++);
		}
	}
	g_string_free(out, TRUE);
	return g_string_free(res, FALSE);
}

/* la_decode - RAW's labels with xn-- ones decoded (libidn2); one a label
 * that does not decode is kept as it is. FALSE when a label is empty or
 * longer than LA_MAX_LABEL. */
static gboolean
la_decode(GString *out, const char *raw)
{
	g_auto(GStrv) labels = g_strsplit(raw, ".", -1);

	for (guint i = 0; labels[i] != NULL; i++) {
		char *u = NULL;

		if (*labels[i] == '\0' || strlen(labels[i]) > LA_MAX_LABEL)
			return FALSE;
		if (i > 0)
			g_string_append_c(out, '.');
		if (g_str_has_prefix(labels[i], "xn--") &&
		    idn2_to_unicode_8z8z(labels[i], &u, 0) == IDN2_OK && u != NULL &&
		    g_utf8_validate(u, -1, NULL))
			g_string_append(out, u);
		else
			g_string_append(out, labels[i]);
		idn2_free(u);
	}
	return TRUE;
}

static guint
la_count_labels(const char *s)
{
	guint n = 1;

	for (; *s != '\0'; s++)
		n += *s == '.';
	return n;
}

/*
 * la_domain_init - D from RAW (an address's domain, or a listed domain):
 * FALSE when it is no usable domain name (one label, too long, not UTF-8).
 */
static gboolean
la_domain_init(struct la_domain *d, const char *raw)
{
	g_autofree char *clean = NULL, *lower = NULL, *org = NULL;
	g_autoptr(GString) uni = g_string_new(NULL);
	const char *dot;
	guint n, norg;
	gsize len;

	memset(d, 0, sizeof(*d));
	if (raw == NULL || !g_utf8_validate(raw, -1, NULL))
		return FALSE;
	clean = la_strip_marks(raw);
	g_strstrip(clean);
	len = strlen(clean);
	while (len > 0 && (clean[len - 1] == '.' || clean[len - 1] == '>'))
		clean[--len] = '\0';
	if (len == 0 || len > LA_MAX_NAME || strchr(clean, '.') == NULL)
		return FALSE;
	lower = g_utf8_strdown(clean, -1);
	if (!la_decode(uni, lower))
		return FALSE;
	d->name = la_fold(uni->str);

	/* The organisational domain is a tail of the name's labels, whatever
	 * form they are written in: take as many labels from the folded name. */
	org = dmarc_org_domain(lower);
	n = la_count_labels(d->name);
	norg = org != NULL && *org != '\0' ? la_count_labels(org) : n;
	if (norg > n || norg == 0)
		norg = n;
	dot = d->name;
	for (guint skip = n - norg; skip > 0; skip--)
		dot = strchr(dot, '.') + 1;
	d->org = g_strdup(dot);
	if ((dot = strchr(d->org, '.')) != NULL) {
		d->label = g_strndup(d->org, (gsize)(dot - d->org));
		d->suffix = dot + 1;
	} else {
		d->label = g_strdup(d->org);
		d->suffix = "";
	}
	d->len = g_utf8_strlen(d->label, -1);
	d->ascii = TRUE;
	for (const char *p = d->label; *p != '\0'; p++)
		if ((guchar)*p >= 0x80)
			d->ascii = FALSE;
	d->skel = la_skeleton(d->label, TRUE);
	d->bare = g_strdup(d->label);
	{
		char *w = d->bare;	/* hyphens out: '-' is one byte in UTF-8 too */

		for (const char *p = d->label; *p != '\0'; p++)
			if (*p != '-')
				*w++ = *p;
		*w = '\0';
	}
	return TRUE;
}

/* la_under - NAME is DOMAIN or one of its subdomains */
static gboolean
la_under(const char *name, const char *domain)
{
	gsize n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' && strcmp(name + n - d, domain) == 0;
}

/* la_inside - D belongs with P: the same name, a subdomain, the same organisation */
static gboolean
la_inside(const struct la_domain *d, const struct la_domain *p)
{
	return la_under(d->name, p->name) || strcmp(d->org, p->org) == 0;
}

/* la_inside_any - D belongs with one of SET (struct la_domain *) */
static gboolean
la_inside_any(const struct la_domain *d, const GPtrArray *set)
{
	for (guint i = 0; i < set->len; i++)
		if (la_inside(d, set->pdata[i]))
			return TRUE;
	return FALSE;
}

/* la_trusted - D or its organisational domain is, or is under, a trusted one */
static gboolean
la_trusted(const struct la_domain *d, const GPtrArray *trusted)
{
	for (guint i = 0; i < trusted->len; i++) {
		const struct la_domain *t = trusted->pdata[i];

		if (la_under(d->name, t->name) || la_under(d->org, t->name))
			return TRUE;
	}
	return FALSE;
}

/* la_provider - D is a mailbox provider's (la_providers[]) */
static gboolean
la_provider(const struct la_domain *d)
{
	for (gsize i = 0; i < G_N_ELEMENTS(la_providers); i++)
		if (strcmp(d->label, la_providers[i]) == 0)
			return TRUE;
	return FALSE;
}

/* la_add - RAW to SET unless unusable, already there, SET is full, or
 * (PROVIDERS false) it is a mailbox provider's */
static void
la_add(GPtrArray *set, const char *raw, gboolean providers)
{
	struct la_domain *d;

	if (set->len >= LA_MAX_DOMAINS)
		return;
	d = g_new0(struct la_domain, 1);
	if (!la_domain_init(d, raw) || (!providers && la_provider(d))) {
		la_domain_free(d);
		return;
	}
	for (guint i = 0; i < set->len; i++)
		if (strcmp(((struct la_domain *)set->pdata[i])->name, d->name) == 0) {
			la_domain_free(d);
			return;
		}
	g_ptr_array_add(set, d);
}

/* la_list - the domains of a NULL-terminated list */
static GPtrArray *
la_list(char *const *list)
{
	GPtrArray *set = g_ptr_array_new_with_free_func(la_domain_free);

	for (guint i = 0; list != NULL && list[i] != NULL; i++)
		la_add(set, list[i], TRUE);
	return set;
}

/* la_addr_domain - the domain of ADDR (after its last '@'), borrowed, or NULL */
static const char *
la_addr_domain(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* la_protected - the protected set: the configured list, else the recipients' domains */
static GPtrArray *
la_protected(const struct moat_report *rep, const struct moat_conf *conf, gboolean *configured)
{
	GPtrArray *set = la_list(conf->auth.protected_domains);

	*configured = set->len > 0;
	if (*configured || rep->env.rcpt_to == NULL)
		return set;
	for (guint i = 0; i < rep->env.rcpt_to->len; i++)
		la_add(set, la_addr_domain(rep->env.rcpt_to->pdata[i]), FALSE);
	return set;
}

/*
 * la_distance - Damerau-Levenshtein distance (optimal string alignment:
 * an adjacent swap costs one) between A and B, in characters; at most
 * LA_MAX_LABEL characters each. *SWAP tells whether the one edit of a
 * distance of 1 is a swap.
 */
static guint
la_distance(const char *a, const char *b, gboolean *swap)
{
	gunichar x[LA_MAX_LABEL + 1], y[LA_MAX_LABEL + 1];
	guint row[3][LA_MAX_LABEL + 2];
	guint m = 0, n = 0;

	for (const char *p = a; *p != '\0' && m < LA_MAX_LABEL; p = g_utf8_next_char(p))
		x[m++] = g_utf8_get_char(p);
	for (const char *p = b; *p != '\0' && n < LA_MAX_LABEL; p = g_utf8_next_char(p))
		y[n++] = g_utf8_get_char(p);
	*swap = FALSE;
	for (guint j = 0; j <= n; j++)
		row[0][j] = j;
	for (guint i = 1; i <= m; i++) {
		guint *cur = row[i % 3], *prev = row[(i - 1) % 3], *prev2 = row[(i + 1) % 3];

		cur[0] = i;
		for (guint j = 1; j <= n; j++) {
			guint cost = x[i - 1] == y[j - 1] ? 0 : 1;
			guint v = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);

			if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	if (m == n && row[m % 3][n] == 1)
		for (guint i = 0; i + 1 < m; i++)
			if (x[i] != y[i]) {
				*swap = x[i] == y[i + 1] && x[i + 1] == y[i];
				break;
			}
	return row[m % 3][n];
}

/* la_scripts - how a non-ASCII label imitates: its scripts ("mixed scripts:
 * Latin with Cyrillic"), or "accented letters" for Latin alone */
static const char *
la_scripts(const char *label)
{
	gboolean latin = FALSE, cyrillic = FALSE, greek = FALSE;

	for (const char *p = label; *p != '\0'; p = g_utf8_next_char(p))
		switch (g_unichar_get_script(g_utf8_get_char(p))) {
		case G_UNICODE_SCRIPT_LATIN: latin = TRUE; break;
		case G_UNICODE_SCRIPT_CYRILLIC: cyrillic = TRUE; break;
		case G_UNICODE_SCRIPT_GREEK: greek = TRUE; break;
		default: break;
		}
	if (latin && (cyrillic || greek))
		return cyrillic && greek ? "mixed scripts: Latin, Cyrillic and Greek" :
		    cyrillic ? "mixed scripts: Latin with Cyrillic" : "mixed scripts: Latin with Greek";
	return cyrillic ? "homoglyphs: Cyrillic letters" : greek ? "homoglyphs: Greek letters" :
	    latin ? "accented letters" : "homoglyphs";
}

/* la_lure - L is P joined by '-' to a lure word, on either side */
static gboolean
la_lure(const char *l, const char *p)
{
	gsize pl = strlen(p);

	for (gsize i = 0; i < G_N_ELEMENTS(la_lures); i++) {
		gsize wl = strlen(la_lures[i]);

		if (strlen(l) != pl + wl + 1)
			continue;
		if (strncmp(l, p, pl) == 0 && l[pl] == '-' && strcmp(l + pl + 1, la_lures[i]) == 0)
			return TRUE;
		if (strncmp(l, la_lures[i], wl) == 0 && l[wl] == '-' && strcmp(l + wl + 1, p) == 0)
			return TRUE;
	}
	return FALSE;
}

/*
 * la_rule - which rule makes D imitate P (static text), or NULL. The same
 * label under another suffix counts only when TLD_SWAP: for a configured
 * protected domain. A recipient's domain does not make its other-suffix
 * namesakes suspect (python.net writes to python.org lists, example.com to
 * example.org): a site that wants that names its domains in [auth]
 * protected_domains.
 */
static const char *
la_rule(const struct la_domain *d, const struct la_domain *p, gboolean tld_swap)
{
	glong shortest = MIN(d->len, p->len);
	guint k = shortest >= LA_LONG_LABEL ? 2 : 1, dist;
	gboolean swap;

	if (shortest < LA_MIN_LABEL || d->len > LA_MAX_LABEL || p->len > LA_MAX_LABEL)
		return NULL;
	if (strcmp(d->label, p->label) == 0)
		return tld_swap && strcmp(d->suffix, p->suffix) != 0 ? "TLD swap" : NULL;
	if (!d->ascii && (strcmp(d->skel, p->skel) == 0 || la_distance(d->skel, p->skel, &swap) <= k))
		return la_scripts(d->label);
	if (strcmp(d->skel, p->skel) == 0)
		return "look-alike letters";
	if (strcmp(d->bare, p->bare) == 0)
		return strlen(d->label) > strlen(p->label) ? "hyphen added" : "hyphen removed";
	if (la_lure(d->label, p->label))
		return "lure word added";
	if ((dist = la_distance(d->label, p->label, &swap)) <= k)
		return dist == 2 ? "two letters off" : swap ? "letters swapped" : "one letter off";
	if (la_distance(d->skel, p->skel, &swap) <= k)
		return "look-alike letters";
	return NULL;
}

/* la_check_domain - auth.lookalike_domain for D against the protected set */
static void
la_check_domain(struct moat_report *rep, const struct la_domain *d, const GPtrArray *prot,
    gboolean configured, const GPtrArray *trusted)
{
	gboolean dmarc_pass = rep->auth != NULL && rep->auth->dmarc.result == AUTH_PASS;

	if (la_trusted(d, trusted))
		return;
	/* A protected sender is not a look-alike of another protected one. The
	 * recipients are the sender's to choose, so there DMARC must vouch too. */
	if ((configured || dmarc_pass) && la_inside_any(d, prot))
		return;
	for (guint i = 0; i < prot->len; i++) {
		const struct la_domain *p = prot->pdata[i];
		const char *rule;

		if (la_inside(d, p) || (rule = la_rule(d, p, configured)) == NULL)
			continue;
		report_add_finding(rep, "auth.lookalike_domain", NULL,
		    "From domain %s imitates %s (%s)", d->name, p->name, rule);
		return;
	}
}

/* la_name - a display name or a protected name as compared: marks and
 * invisible characters removed, folded, homoglyphs mapped, blanks collapsed */
static char *
la_name(const char *s)
{
	g_autofree char *clean = la_strip_marks(s);
	g_autofree char *folded = la_fold(clean);
	g_autofree char *skel = la_skeleton(folded, FALSE);
	GString *out = g_string_new(NULL);

	for (const char *p = skel; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_isspace(c)) {
			if (out->len > 0 && out->str[out->len - 1] != ' ')
				g_string_append_c(out, ' ');
		} else {
			g_string_append_unichar(out, c);
		}
	}
	if (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

static gboolean
la_word_char(const char *p)
{
	return g_unichar_isalnum(g_utf8_get_char(p));
}

/* la_has_words - HAY holds NEEDLE (both la_name()d) not inside a longer word */
static gboolean
la_has_words(const char *hay, const char *needle)
{
	gsize n = strlen(needle);

	if (n == 0)
		return FALSE;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
		gboolean start = p == hay || !la_word_char(g_utf8_prev_char(p));
		gboolean end = p[n] == '\0' || !la_word_char(p + n);

		if (start && end)
			return TRUE;
	}
	return FALSE;
}

static gboolean
la_addr_char(gunichar c, gboolean domain)
{
	if (c < 0x80)
		return g_ascii_isalnum((char)c) || c == '.' || c == '-' ||
		    (!domain && strchr("_+=!#$%&'*/?^`{|}~", (int)c) != NULL);
	return g_unichar_isalnum(c);
}

/*
 * la_shown_addr - the first address in NAME (la_name()d) whose domain is
 * protected: *ADDR gets it (caller g_free()s). FALSE when there is none.
 */
static gboolean
la_shown_addr(char **addr, const char *name, const GPtrArray *prot)
{
	guint seen = 0;

	for (const char *at = strchr(name, '@'); at != NULL && seen < LA_MAX_SHOWN;
	    at = strchr(at + 1, '@')) {
		const char *start = at, *end = at + 1;
		g_autofree char *domain = NULL;
		struct la_domain d;
		gboolean hit;

		while (start > name && la_addr_char(g_utf8_get_char(g_utf8_prev_char(start)), FALSE))
			start = g_utf8_prev_char(start);
		while (*end != '\0' && la_addr_char(g_utf8_get_char(end), TRUE))
			end = g_utf8_next_char(end);
		while (end > at + 1 && end[-1] == '.')
			end--;
		if (start == at || end == at + 1)
			continue;
		seen++;
		domain = g_strndup(at + 1, (gsize)(end - at - 1));
		if (!la_domain_init(&d, domain)) {
			la_domain_clear(&d);
			continue;
		}
		hit = la_inside_any(&d, prot);
		la_domain_clear(&d);
		if (hit) {
			*addr = g_strndup(start, (gsize)(end - start));
			return TRUE;
		}
	}
	return FALSE;
}

/* la_check_name - auth.display_name: D is outside, the name claims to be inside */
static void
la_check_name(struct moat_report *rep, const struct moat_conf *conf, const struct la_domain *d,
    const GPtrArray *prot, const GPtrArray *trusted)
{
	g_autofree char *name = NULL, *shown = NULL, *addr = NULL;
	g_auto(GStrv) names = NULL;

	if (rep->hdr.from_name == NULL || *rep->hdr.from_name == '\0' ||
	    !g_utf8_validate(rep->hdr.from_name, -1, NULL) ||
	    la_inside_any(d, prot) || la_trusted(d, trusted))
		return;
	name = la_name(rep->hdr.from_name);
	if (la_shown_addr(&addr, name, prot)) {
		report_add_finding(rep, "auth.display_name", NULL,
		    "display name shows %s, From is %s", addr, rep->hdr.from_addr);
		return;
	}
	if (conf->auth.protected_names == NULL)
		return;
	names = g_strsplit(conf->auth.protected_names, ";", -1);
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree char *want = NULL;

		if (!g_utf8_validate(g_strstrip(names[i]), -1, NULL) || *names[i] == '\0')
			continue;
		want = la_name(names[i]);
		if (!la_has_words(name, want))
			continue;
		shown = g_utf8_substring(rep->hdr.from_name, 0,
		    MIN(g_utf8_strlen(rep->hdr.from_name, -1), LA_SHOW_MAX));
		report_add_finding(rep, "auth.display_name", NULL,
		    "display name \"%s\" is protected, From %s is outside", shown,
		    rep->hdr.from_addr);
		return;
	}
}

void
lookalike_check(struct moat_report *rep, const struct moat_conf *conf)
{
	g_autoptr(GPtrArray) prot = NULL;
	g_autoptr(GPtrArray) trusted = NULL;
	struct la_domain d;
	gboolean configured;

	if (!la_domain_init(&d, la_addr_domain(rep->hdr.from_addr))) {
		la_domain_clear(&d);
		return;
	}
	prot = la_protected(rep, conf, &configured);
	trusted = la_list(conf->auth.trusted_domains);
	if (prot->len > 0) {
		la_check_domain(rep, &d, prot, configured, trusted);
		la_check_name(rep, conf, &d, prot, trusted);
	}
	la_domain_clear(&d);
}
