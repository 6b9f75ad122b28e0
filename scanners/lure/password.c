/*
 * password.c - the passwords a message gives, and a password beside a download link (T1027.013)
 *
 * password_find() (password.h) reads the subject and every MIME text/plain
 * and text/html part whose bytes were kept (archive members are not read)
 * as text.h gives them: in their charset, HTML reduced to text, NFKC
 * (full-width letters and digits, as Japanese and Chinese mail writes
 * them, become ASCII), blanks as ' ', invisible characters out.
 *
 * Candidates, in this order:
 *  - cued: a password word in one of 40 languages (pw_cues[]), then a
 *    separator (":", "=", " - ", a tab, "is", "ist", "lautet", "est", "es",
 *    "é", "是", "为", "は", "는" ...), then the token: a quoted one, or the
 *    run up to the next blank (an ASCII run also ends at a CJK character,
 *    as in "パスワードは1234です"), trailing '.' ',' ';' ':' and unmatched
 *    closing quotes dropped; a token ending in '!' gives a second
 *    candidate without it. A strong word may have up to PW_WORDS_MAX words
 *    and a "(note)" before its separator ("Kennwort für das Archiv: X",
 *    "пароль от архива: X"); a weak one ("code", "pass", "pw", "clave")
 *    needs ':' or '=' right after it. A line that is only a password word
 *    (or ends in one and its separator) takes the next non-blank line when
 *    that line is one token. Quoted tokens near a strong word, in its
 *    sentence ("use \"Inv2026\" as the password"), are cued too.
 *  - uncued: date-like tokens (DD-MM-YYYY, DD.MM.YYYY, DD/MM/YYYY,
 *    YYYY-MM-DD, YYYYMMDD, DDMMYYYY) anywhere, and, only when the report
 *    holds an encrypted part, a line that is one token of 4-8 digits or of
 *    letters and digits.
 * Tokens are 3 to PASSWORD_MAX_LEN bytes; URLs, mail addresses, masks
 * ("****") and words that follow a password word in ordinary mail
 * ("reset", "expired", "your", "hier" ...: pw_stop[]) are not candidates,
 * and URLs are skipped whole (no "?pwd=x").
 *
 * lure_password_check(): a cued password (not a "code:" or "PIN:", which
 * licence mails give beside their setup.exe) and an http(s) link in a MIME
 * text part whose path ends in an archive a password opens (.zip .rar .7z
 * .ace .arj), a disk image, a program or a script (pw_link_exts[]), or
 * whose query asks for a download ("download", "dl=1", or a value ending
 * in such an extension, "%2e" decoded). The links are looked for first, in
 * the raw bytes; only a message with one has its passwords read, so ham
 * with no such link costs one memchr() pass per text part. .tar.gz, .tgz,
 * .bz2 and .xz are left out: they take no password and are what mailing
 * lists link.
 *
 * Bounded: PW_PART_MAX bytes per part, PW_TEXT_MAX for the message, every
 * look-ahead limited (a note, PW_WORDS_MAX words, PW_PEEK bytes of the next
 * line, a token); linear in the text. Pure functions of the report,
 * reentrant, no I/O.
 */
#include <string.h>

#include "moat/lure.h"
#include "moat/password.h"
#include "moat/text.h"

#define PW_PART_MAX	(256u * 1024)	/* bytes of one part read */
#define PW_TEXT_MAX	(2u * 1024 * 1024)	/* bytes of all parts read, per message */
#define PW_WORDS_MAX	4		/* words between a strong password word and its separator */
#define PW_WORD_MAX	24		/* bytes of one such word */
#define PW_NOTE_MAX	40		/* bytes of a "(case-sensitive)" note after the word */
#define PW_PEEK		128		/* bytes of the next line read for the own-line form */
#define PW_MIN_CHARS	3		/* characters of a candidate */
#define PW_QUOTE_NEAR	40		/* bytes between a quoted token and its password word */
#define PW_SPANS_MAX	8		/* password words of one line a quote may go with */
#define PW_URL_MAX	2048		/* bytes of one link read */
#define PW_URL_SHOWN	160		/* bytes of it the evidence shows */

/* Password words, lower-case (compared with pw_fold() on the text). */
enum {
	CUE_WEAK = 1 << 0,	/* a common word too: only "cue:" or "cue=" counts */
	CUE_INFIX = 1 << 1,	/* may end a compound word (Archivpasswort, zipwachtwoord) */
	CUE_CJK = 1 << 2,	/* a script written without blanks: no word boundaries */
	CUE_GENERIC = 1 << 3,	/* not a password: licence and activation codes, PINs (tried on
				 * archives, no evidence for lure.password_link) */
};

struct pw_cue {
	const char *word;
	guint flags;
};

static const struct pw_cue pw_cues[] = {
	/* English, and what mail writes for it everywhere */
	{ "password", CUE_INFIX }, { "passwd", 0 }, { "passphrase", 0 }, { "passcode", 0 },
	{ "pass word", 0 }, { "pwd", CUE_WEAK }, { "pswd", CUE_WEAK }, { "pw", CUE_WEAK },
	{ "pass", CUE_WEAK }, { "code", CUE_WEAK | CUE_GENERIC },
	{ "pin", CUE_WEAK | CUE_GENERIC },
	/* Germanic, Nordic, Finnic */
	{ "passwort", CUE_INFIX }, { "kennwort", CUE_INFIX }, { "wachtwoord", CUE_INFIX },
	{ "lösenord", CUE_INFIX }, { "losenord", CUE_INFIX }, { "adgangskode", CUE_INFIX },
	{ "passord", CUE_INFIX }, { "kodeord", CUE_INFIX }, { "lykilorð", 0 },
	{ "salasana", CUE_INFIX }, { "salasõna", 0 }, { "parool", 0 },
	/* Romance */
	{ "mot de passe", 0 }, { "mdp", CUE_WEAK }, { "contraseña", 0 }, { "contrasena", 0 },
	{ "contrasenya", 0 }, { "contrasinal", 0 }, { "clave", CUE_WEAK }, { "senha", 0 },
	{ "parola", CUE_WEAK }, { "parolă", 0 }, { "parola d'ordine", 0 },
	/* Slavic, Baltic, Hungarian, Albanian, Turkic */
	{ "hasło", 0 }, { "haslo", 0 }, { "heslo", 0 }, { "geslo", 0 }, { "lozinka", 0 },
	{ "jelszó", 0 }, { "jelszo", 0 }, { "jelszava", 0 }, { "slaptažodis", 0 },
	{ "parole", CUE_WEAK }, { "fjalëkalimi", 0 }, { "şifre", 0 }, { "sifre", 0 },
	{ "şifrə", 0 }, { "parol", CUE_WEAK }, { "kata sandi", 0 }, { "kata laluan", 0 },
	{ "mật khẩu", 0 }, { "mat khau", 0 },
	/* Greek, Cyrillic, Caucasus */
	{ "κωδικός", 0 }, { "κωδικος", 0 }, { "συνθηματικό", 0 }, { "пароль", 0 },
	{ "пароля", 0 }, { "парола", 0 }, { "лозинка", 0 }, { "құпия сөз", 0 },
	{ "нууц үг", 0 }, { "პაროლი", 0 }, { "գաղտնաբառ", 0 },
	/* Semitic, Iranian, Indic, Thai */
	{ "كلمة المرور", 0 }, { "كلمة السر", 0 }, { "סיסמה", 0 }, { "סיסמא", 0 },
	{ "رمز عبور", 0 }, { "पासवर्ड", 0 }, { "পাসওয়ার্ড", 0 }, { "รหัสผ่าน", CUE_CJK },
	/* Chinese, Japanese, Korean */
	{ "密码", CUE_CJK }, { "密碼", CUE_CJK }, { "口令", CUE_CJK }, { "解压码", CUE_CJK },
	{ "解壓碼", CUE_CJK }, { "提取码", CUE_CJK }, { "提取碼", CUE_CJK }, { "访问码", CUE_CJK },
	{ "パスワード", CUE_CJK }, { "パスコード", CUE_CJK }, { "暗証番号", CUE_CJK },
	{ "비밀번호", CUE_CJK }, { "패스워드", CUE_CJK }, { "암호", CUE_CJK },
};

/* Words that say "is" between a password word and the password: blanks around them. */
static const char *const pw_is_words[] = {
	"is", "ist", "lautet", "heißt", "heisst", "est", "es", "é", "è", "jest", "to", "je",
	"är", "er", "on", "là", "adalah", "ialah", "είναι", "это", "е", "este",
};

/* ... and those that need no blanks (scripts written without them). */
static const char *const pw_is_glued[] = { "是", "为", "為", "は", "는", "은", "คือ" };

/*
 * What follows a password word in ordinary mail: never a candidate
 * (compared case-insensitively with the whole token).
 */
static const char *const pw_stop[] = {
	"reset", "change", "changed", "changes", "expired", "expires", "expire", "expiration",
	"expiry", "protected", "required", "incorrect", "invalid", "wrong", "policy", "manager",
	"recovery", "reminder", "request", "requested", "update", "updated", "strength", "sent",
	"below", "above", "attached", "enclosed", "here", "same", "your", "yours", "the", "and",
	"for", "not", "none", "n/a", "see", "check", "enter", "click", "please", "unknown",
	"empty", "blank", "unchanged", "hidden", "removed", "needed", "set", "separately",
	"follows", "following", "hier", "siehe", "unten", "oben", "bitte", "ihr", "ihre",
	"folgt", "anbei", "votre", "ci-dessous", "suivant", "abajo", "siguiente", "abaixo",
	"segue", "sotto", "seguente", "poniżej", "ниже", "ваш", "follow", "secret", "***",
	"correct", "optional", "user", "username", "login", "email", "e-mail",
};

/* Openers and their closers for quoted tokens. */
static const char *const pw_quotes[][2] = {
	{ "\"", "\"" }, { "'", "'" }, { "\xe2\x80\x9c", "\xe2\x80\x9d" },	/* “ ” */
	{ "\xe2\x80\x9e", "\xe2\x80\x9c" }, { "\xe2\x80\x9e", "\xe2\x80\x9d" },	/* „ “ „ ” */
	{ "\xc2\xab", "\xc2\xbb" }, { "\xc2\xbb", "\xc2\xab" },	/* « » » « */
	{ "\xe2\x80\x98", "\xe2\x80\x99" }, { "\xe2\x80\x9a", "\xe2\x80\x98" },	/* ‘ ’ ‚ ‘ */
	{ "\xe3\x80\x8c", "\xe3\x80\x8d" }, { "\xe3\x80\x8e", "\xe3\x80\x8f" },	/* 「」 『』 */
	{ "\xe3\x80\x90", "\xe3\x80\x91" }, { "[", "]" }, { "(", ")" }, { "<", ">" },	/* 【】 */
};

/* State of one password_find() call. */
struct pw_scan {
	GPtrArray *cued;		/* struct password *, owned */
	GPtrArray *uncued;		/* struct password *, owned */
	guint max;
	const char *where;		/* borrowed: "subject" or a part's path_display */
	gboolean lone;			/* lone tokens count (the report holds an encrypted part) */
	gboolean generic;		/* CUE_GENERIC words count */
};

void
password_free(struct password *pw)
{
	if (pw == NULL)
		return;
	g_free(pw->text);
	g_free(pw->where);
	g_free(pw);
}

/* Characters ------------------------------------------------------------------ */

/* pw_fold - C as the cue table writes it: lower-case, final sigma as sigma, ’ as ' */
static gunichar
pw_fold(gunichar c)
{
	if (c < 0x80)
		return g_ascii_tolower((gchar)c);
	if (c == 0x03c2)
		return 0x03c3;
	if (c == 0x2019)
		return '\'';
	return g_unichar_tolower(c);
}

/*
 * pw_may_start - whether a password word may start with C (folded): a
 * bitmap of the ASCII first letters, built once; every other character is
 * compared with the table
 */
static gboolean
pw_may_start(gunichar c)
{
	static gsize once;
	static guint64 ascii[2];

	if (g_once_init_enter(&once)) {
		for (gsize i = 0; i < G_N_ELEMENTS(pw_cues); i++) {
			guchar f = (guchar)pw_cues[i].word[0];

			if (f < 0x80)
				ascii[f >> 6] |= G_GUINT64_CONSTANT(1) << (f & 63);
		}
		g_once_init_leave(&once, 1);
	}
	return c >= 0x80 || (ascii[c >> 6] & (G_GUINT64_CONSTANT(1) << (c & 63))) != 0;
}

/* pw_is_cjk - whether C belongs to a script written without blanks (CJK, kana, hangul, Thai) */
static gboolean
pw_is_cjk(gunichar c)
{
	return (c >= 0x2e80 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) ||
	    (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff61 && c <= 0xff9f) ||
	    (c >= 0x0e00 && c <= 0x0e7f) || (c >= 0x1100 && c <= 0x11ff) ||
	    (c >= 0x20000 && c <= 0x3ffff);
}

/* pw_word_char - whether C continues a word (letters, digits, marks) */
static gboolean
pw_word_char(gunichar c)
{
	return g_unichar_isalnum(c) || g_unichar_ismark(c);
}

/* pw_prev - the character before P (LINE is the line's start), or 0 at the start */
static gunichar
pw_prev(const char *line, const char *p)
{
	return p > line ? g_utf8_get_char(g_utf8_find_prev_char(line, p)) : 0;
}

/* pw_blanks - P past blanks (' ' and tabs: the text is cleaned) up to END */
static const char *
pw_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * pw_word_at - if WORD (lower-case, a ' ' in it matching a run of blanks)
 * starts at P in [P, END), the end of the match, else NULL. No boundary
 * checks: the caller makes them.
 */
static const char *
pw_word_at(const char *p, const char *end, const char *word)
{
	const char *w = word;

	while (*w != '\0') {
		gunichar want = pw_fold(g_utf8_get_char(w)), got;

		if (p >= end)
			return NULL;
		if (want == ' ') {
			if (*p != ' ' && *p != '\t')
				return NULL;
			p = pw_blanks(p, end);
			w++;
			continue;
		}
		got = g_utf8_get_char(p);
		if (pw_fold(got) != want)
			return NULL;
		p = g_utf8_next_char(p);
		w = g_utf8_next_char(w);
	}
	return p > end ? NULL : p;
}

/*
 * pw_cue_at - the password word starting at P (LINE is the line's start,
 * END its end), with the word boundaries its script needs; *AFTER gets
 * where it ends. The longest match wins ("passwort" over "pass").
 */
static const struct pw_cue *
pw_cue_at(const char *line, const char *p, const char *end, const char **after)
{
	const struct pw_cue *best = NULL;
	const char *best_end = NULL;
	gunichar first = pw_fold(g_utf8_get_char(p));
	gboolean start;

	*after = NULL;
	if (!pw_may_start(first))
		return NULL;
	start = !pw_word_char(pw_prev(line, p));
	for (gsize i = 0; i < G_N_ELEMENTS(pw_cues); i++) {
		const struct pw_cue *c = &pw_cues[i];
		const char *e;

		if (pw_fold(g_utf8_get_char(c->word)) != first)
			continue;
		if (!start && !(c->flags & (CUE_INFIX | CUE_CJK)))
			continue;
		if ((e = pw_word_at(p, end, c->word)) == NULL)
			continue;
		if (!(c->flags & CUE_CJK) && e < end && pw_word_char(g_utf8_get_char(e)))
			continue;
		if (best == NULL || e > best_end) {
			best = c;
			best_end = e;
		}
	}
	*after = best_end;
	return best;
}

/* Candidates ------------------------------------------------------------------ */

/* pw_is_stop - whether token T (LEN bytes) is a word that follows a password word in ordinary mail */
static gboolean
pw_is_stop(const char *t, gsize len)
{
	const char *after;

	for (gsize i = 0; i < G_N_ELEMENTS(pw_stop); i++)
		if (strlen(pw_stop[i]) == len && g_ascii_strncasecmp(t, pw_stop[i], len) == 0)
			return TRUE;
	/* another password word ("Password: Passwort") */
	return pw_cue_at(t, t, t + len, &after) != NULL && after == t + len;
}

/* pw_is_mask - whether T is a mask ("*****", "xxxx", "....", "<password>" was cut before) */
static gboolean
pw_is_mask(const char *t, gsize len)
{
	for (gsize i = 0; i < len; i++)
		if (strchr("*xX._-#?", t[i]) == NULL || t[i] != t[0])
			return FALSE;
	return TRUE;
}

/* pw_is_address - whether T looks like a mail address or a host: name@host.tld, www.x */
static gboolean
pw_is_address(const char *t, gsize len)
{
	const char *at = memchr(t, '@', len), *dot;

	if (g_strstr_len(t, (gssize)len, "://") != NULL ||
	    (len > 4 && g_ascii_strncasecmp(t, "www.", 4) == 0))
		return TRUE;
	if (at == NULL || at == t)
		return FALSE;
	dot = memchr(at, '.', (gsize)(t + len - at));
	if (dot == NULL || dot == at + 1 || dot + 2 >= t + len)
		return FALSE;
	for (const char *p = at + 1; p < t + len; p++)
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
			return FALSE;
	return TRUE;
}

/* pw_plausible - whether T (LEN bytes, UTF-8) can be a password */
static gboolean
pw_plausible(const char *t, gsize len)
{
	glong chars;

	if (len == 0 || len > PASSWORD_MAX_LEN || !g_utf8_validate_len(t, len, NULL))
		return FALSE;
	chars = g_utf8_strlen(t, (gssize)len);
	if (chars < PW_MIN_CHARS)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if ((guchar)t[i] <= ' ')
			return FALSE;
	return !pw_is_mask(t, len) && !pw_is_address(t, len) && !pw_is_stop(t, len);
}

/* pw_index - the index in LIST of the candidate with text T (LEN bytes), or -1 */
static gint
pw_index(GPtrArray *list, const char *t, gsize len)
{
	for (guint i = 0; i < list->len; i++) {
		const struct password *pw = list->pdata[i];

		if (strlen(pw->text) == len && memcmp(pw->text, t, len) == 0)
			return (gint)i;
	}
	return -1;
}

/*
 * pw_add - T (LEN bytes) as a candidate, cued or not, when plausible and
 * new; a cued one replaces the same text found uncued before. Each list
 * holds at most S->max. Returns whether T is plausible.
 */
static gboolean
pw_add(struct pw_scan *s, const char *t, gsize len, gboolean cued)
{
	GPtrArray *list = cued ? s->cued : s->uncued;
	struct password *pw;
	gint i;

	if (!pw_plausible(t, len))
		return FALSE;
	if (list->len >= s->max || pw_index(s->cued, t, len) >= 0)
		return TRUE;
	if ((i = pw_index(s->uncued, t, len)) >= 0) {
		if (!cued)
			return TRUE;
		g_ptr_array_remove_index(s->uncued, (guint)i);
	}
	pw = g_new0(struct password, 1);
	pw->text = g_strndup(t, len);
	pw->cued = cued;
	pw->where = g_strdup(s->where);
	g_ptr_array_add(list, pw);
	return TRUE;
}

/*
 * pw_opener - the quote or bracket opening at P, or NULL; *OPEN_LEN gets
 * its length and CLOSERS (room for 2) the *NCLOSERS quotes that close it
 */
static const char *
pw_opener(const char *p, const char *end, gsize *open_len, const char **closers, gsize *nclosers)
{
	const char *opener = NULL;

	*nclosers = 0;
	for (gsize i = 0; i < G_N_ELEMENTS(pw_quotes); i++) {
		gsize n = strlen(pw_quotes[i][0]);

		if ((gsize)(end - p) >= n && memcmp(p, pw_quotes[i][0], n) == 0) {
			opener = pw_quotes[i][0];
			*open_len = n;
			closers[(*nclosers)++] = pw_quotes[i][1];
		}
	}
	return opener;
}

/*
 * pw_quoted_at - the token quoted at P: *T and *LEN get its inside (no
 * blanks, at most PASSWORD_MAX_LEN bytes) and the return is past its
 * closing quote; NULL when P opens no such quote on the line.
 */
static const char *
pw_quoted_at(const char *p, const char *end, const char **t, gsize *len)
{
	const char *closers[2];
	gsize open_len = 0, nclosers;
	const char *in, *limit;

	if (pw_opener(p, end, &open_len, closers, &nclosers) == NULL)
		return NULL;
	/* « Facture2026 »: French sets blanks inside its quotes */
	in = pw_blanks(p + open_len, end);
	limit = end - in > PASSWORD_MAX_LEN + 4 ? in + PASSWORD_MAX_LEN + 4 : end;
	for (const char *q = in; q < limit; q++) {
		const char *b = pw_blanks(q, limit);

		for (gsize k = 0; k < nclosers; k++) {
			gsize n = strlen(closers[k]);

			if (q > in && (gsize)(end - b) >= n && memcmp(b, closers[k], n) == 0) {
				*t = in;
				*len = (gsize)(q - in);
				return b + n;
			}
		}
		if (b > q)
			return NULL;	/* a blank inside: words, not a password */
	}
	return NULL;
}

/* pw_is_closer - whether C closes a quote or bracket */
static gboolean
pw_is_closer(gunichar c)
{
	return c == '"' || c == '\'' || c == ')' || c == ']' || c == '>' || c == 0x201d ||
	    c == 0x2019 || c == 0xbb || c == 0xab || c == 0x300d || c == 0x300f || c == 0x3011 ||
	    c == 0x201c;
}

/* pw_opener_of - the ASCII bracket that closer C matches, or 0 */
static gunichar
pw_opener_of(gunichar c)
{
	switch (c) {
	case ')': return '(';
	case ']': return '[';
	case '>': return '<';
	default: return 0;
	}
}

/*
 * pw_bare_at - the unquoted token at P: up to a blank, a closing quote, CJK
 * punctuation, or (for a token that is ASCII so far) a CJK character;
 * trailing '.' ',' ';' ':' '?' and unmatched closers dropped. *T and *LEN
 * get it; returns where it ended, or NULL when it is longer than a
 * password can be.
 */
static const char *
pw_bare_at(const char *p, const char *end, const char **t, gsize *len)
{
	const char *q = p;
	gboolean ascii = TRUE;

	while (q < end && *q != ' ' && *q != '\t') {
		gunichar c = g_utf8_get_char(q);

		if ((c >= 0x3000 && c <= 0x303f) || (c >= 0xff01 && c <= 0xff0f) ||
		    (q > p && pw_is_closer(c) && pw_opener_of(c) == 0 && c != '\''))
			break;
		if (pw_is_cjk(c) && ascii && q > p)
			break;
		if (c >= 0x80)
			ascii = FALSE;
		q = g_utf8_next_char(q);
		if (q - p > PASSWORD_MAX_LEN + 8)
			return NULL;
	}
	*t = p;
	*len = (gsize)(q - p);
	while (*len > 0) {
		char last = p[*len - 1];
		gunichar open = pw_opener_of((gunichar)(guchar)last);

		if (strchr(".,;:?", last) != NULL ||
		    (open != 0 && memchr(p, (int)open, *len - 1) == NULL) ||
		    (last == '\'' && memchr(p, '\'', *len - 1) == NULL))
			(*len)--;
		else
			break;
	}
	return q;
}

/*
 * pw_token - the candidate at P on a line ending at EOL, quoted or bare,
 * added as cued; a bare one ending in '!' also without it. After an "is"
 * word (SEP 'w'), a token of letters only counts only when its sentence
 * ends after it ("the password is infected." yes, "is about to" no);
 * after a quote (SEP 'q') only the quoted token counts. Returns whether a
 * plausible token was there.
 */
static gboolean
pw_token(struct pw_scan *s, const char *p, const char *eol, int sep)
{
	const char *t, *after;
	gsize len;
	gboolean ok;

	if (pw_quoted_at(p, eol, &t, &len) != NULL)
		return pw_add(s, t, len, TRUE);
	if (sep == 'q')
		return FALSE;
	if (strchr("\"'([<", *p) != NULL || (guchar)*p >= 0x80) {
		const char *closers[2];
		gsize open_len, n;

		if (pw_opener(p, eol, &open_len, closers, &n) != NULL)
			p = pw_blanks(p + open_len, eol);	/* an opener without its closer */
		if (p >= eol)
			return FALSE;
	}
	if ((after = pw_bare_at(p, eol, &t, &len)) == NULL || len == 0)
		return FALSE;
	if (sep == 'b') {
		const char *e = pw_blanks(after, eol);

		/* "(password 2026)", "Passwort 4711." but not "password 8 characters long" */
		gboolean digit = FALSE;

		for (gsize i = 0; i < len; i++)
			digit = digit || g_ascii_isdigit(t[i]);
		if (!digit || (e < eol && (t + len >= eol || strchr(").,;!", t[len]) == NULL)))
			return FALSE;
	}
	if (sep == 'w') {
		gboolean letters = TRUE;

		for (const char *q = t; q < t + len; q = g_utf8_next_char(q))
			letters = letters && g_unichar_isalpha(g_utf8_get_char(q));
		after = pw_blanks(after, eol);
		if (letters && after < eol && !(t + len < eol && strchr(".!", t[len]) != NULL))
			return FALSE;
	}
	ok = pw_add(s, t, len, TRUE);
	if (ok && len > 1 && t[len - 1] == '!')
		pw_add(s, t, len - 1, TRUE);
	return ok;
}

/*
 * pw_next_line - the token that is the whole of the next non-blank line
 * after NEXT (at most one blank line between), as pw_token() would add it
 */
static void
pw_next_line(struct pw_scan *s, const char *next, const char *end)
{
	for (int skipped = 0; next < end && skipped < 2; skipped++) {
		const char *peek = next + MIN((gsize)(end - next), PW_PEEK);
		const char *nl = memchr(next, '\n', (gsize)(peek - next));
		const char *eol = nl != NULL ? nl : peek;
		const char *b = pw_blanks(next, eol), *e = eol;

		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (b == e) {
			if (nl == NULL)
				return;
			next = nl + 1;
			continue;
		}
		if (nl == NULL && peek < end)
			return;		/* longer than PW_PEEK: not one token */
		if (memchr(b, ' ', (gsize)(e - b)) != NULL || memchr(b, '\t', (gsize)(e - b)) != NULL)
			return;
		pw_token(s, b, e, ':');
		return;
	}
}

/*
 * pw_sep - the separator at P (blanks skipped before), for a weak word
 * only ':' '=' and a tab; *AFTER gets where it ends. LOOSE (right after
 * the word) allows " - ", a dash and an opening quote too; IS_OK the "is"
 * words (not after one that led to nothing). 0: none, ':' for a
 * mark, 'w' for an "is" word, 'q' when a quote opens right there, 'b'
 * for a blank alone (neither consumed).
 */
static int
pw_sep(const char *p, const char *eol, gboolean weak, gboolean loose, gboolean is_ok,
    const char **after)
{
	const char *q = pw_blanks(p, eol), *e;
	gboolean tab = memchr(p, '\t', (gsize)(q - p)) != NULL;
	gsize n;

	*after = q;
	if (q >= eol)
		return 0;
	if (*q == ':' || *q == '=') {
		*after = q + 1;
		return ':';
	}
	if (tab)
		return ':';	/* the next table cell, or tab-aligned text */
	if (weak)
		return 0;
	if (loose && q > p && *q == '-' && q + 1 < eol && q[1] == ' ') {
		*after = q + 1;
		return ':';
	}
	if (loose && q + 3 <= eol && q > p && (memcmp(q, "\xe2\x80\x93", 3) == 0 ||
	    memcmp(q, "\xe2\x80\x94", 3) == 0)) {
		*after = q + 3;
		return ':';
	}
	for (gsize i = 0; is_ok && i < G_N_ELEMENTS(pw_is_glued); i++)
		if ((gsize)(eol - q) >= (n = strlen(pw_is_glued[i])) && memcmp(q, pw_is_glued[i], n) == 0) {
			*after = q + n;
			return 'w';
		}
	for (gsize i = 0; is_ok && q > p && i < G_N_ELEMENTS(pw_is_words); i++)
		if ((e = pw_word_at(q, eol, pw_is_words[i])) != NULL &&
		    (e == eol || *e == ' ' || *e == ':')) {
			*after = e;
			return 'w';
		}
	if (loose) {
		gsize ol, k;
		const char *closers[2];

		/* a '"' right after the word closes a quote around it ("Remember Password" box) */
		if (pw_opener(q, eol, &ol, closers, &k) != NULL && strchr("([<", *q) == NULL &&
		    (q > p || strcmp(closers[0], (char[]){ *q, '\0' }) != 0))
			return 'q';
		if (q > p && is_ok)
			return 'b';	/* only a blank: "(password 2026)" */
	}
	return 0;
}

/*
 * pw_take - the password after separator SEP (pw_sep()), which ends at Q
 * on the line ending at EOL: the token there, or the next line's when the
 * line ends. Returns FALSE when an "is" word or a quote led to nothing (the
 * caller reads on: "password to open the archive: X").
 */
static gboolean
pw_take(struct pw_scan *s, int sep, const char *q, const char *eol, const char *next,
    const char *end, gboolean weak)
{
	q = pw_blanks(q, eol);
	if (sep == 'w' && q < eol && *q == ':')
		q = pw_blanks(q + 1, eol);
	if (q >= eol) {
		if (!weak && next < end)
			pw_next_line(s, next, end);
		return TRUE;
	}
	return pw_token(s, q, eol, sep) || sep == ':';
}

/*
 * pw_after_cue - what follows password word CUE, which starts at
 * CUE_START and ends at P on the line [LINE, EOL) (NEXT: the next line's
 * start, END: the text's): an optional note, words and a separator, then
 * the token, or the next line when nothing follows.
 */
static void
pw_after_cue(struct pw_scan *s, const struct pw_cue *cue, const char *cue_start, const char *p,
    const char *line, const char *eol, const char *next, const char *end)
{
	gboolean weak = (cue->flags & CUE_WEAK) != 0;
	const char *q = pw_blanks(p, eol);

	if (!weak && q < eol && *q == '(') {
		const char *close = memchr(q, ')', (gsize)MIN(eol - q, PW_NOTE_MAX));

		if (close != NULL)
			p = close + 1;
	}
	for (int w = 0, is_ok = TRUE;; w++) {
		int sep = pw_sep(p, eol, weak, w == 0, is_ok, &q);
		const char *we;

		if (sep != 0 && pw_take(s, sep, q, eol, next, end, weak))
			return;
		is_ok = is_ok && sep != 'w';
		if (sep == 0 && w == 0 && q >= eol) {
			/* a line that is only the word: the password on the next line */
			if (!weak && pw_blanks(line, eol) == cue_start && next < end)
				pw_next_line(s, next, end);
			return;
		}
		if (weak || w >= PW_WORDS_MAX)
			return;
		/* one more word before the separator ("Kennwort für das Archiv: X") */
		q = pw_blanks(q, eol);
		for (we = q; we < eol && *we != ' ' && *we != ':' && *we != '\t';)
			we++;
		if (we == q || we - q > PW_WORD_MAX || strchr(".!?,;", we[-1]) != NULL)
			return;
		p = we;
	}
}

/* Where the strong password words of one line are, for pw_quotes_in(). */
struct pw_spans {
	const char *start[PW_SPANS_MAX], *end[PW_SPANS_MAX];
	guint n;
};

/* pw_gap_ok - whether [A, B) is short and holds no sentence end: a quote there goes with the word */
static gboolean
pw_gap_ok(const char *a, const char *b)
{
	if (b < a || b - a > PW_QUOTE_NEAR)
		return FALSE;
	for (const char *p = a; p < b; p++)
		if (strchr(".!?;", *p) != NULL && (p + 1 == b || p[1] == ' '))
			return FALSE;
	return TRUE;
}

/*
 * pw_quotes_in - the quoted tokens of line [LINE, EOL) in the sentence of
 * one of its strong password words SP and within PW_QUOTE_NEAR bytes of it
 * ("use \"Inv2026\" as the password"), cued; an ASCII apostrophe opens or
 * closes a quote only beside a non-letter ("l'archive" is none)
 */
static void
pw_quotes_in(struct pw_scan *s, const char *line, const char *eol, const struct pw_spans *sp)
{
	for (const char *p = line; p < eol && s->cued->len < s->max;) {
		const char *t, *after;
		gsize len;

		if ((*p != '\'' || !pw_word_char(pw_prev(line, p))) &&
		    (after = pw_quoted_at(p, eol, &t, &len)) != NULL &&
		    (*p != '\'' || after == eol || !pw_word_char(g_utf8_get_char(after)))) {
			gboolean near = FALSE;

			for (guint i = 0; !near && i < sp->n; i++)
				near = pw_gap_ok(after, sp->start[i]) || pw_gap_ok(sp->end[i], p);
			if (near && strchr("([<", *p) == NULL)
				pw_add(s, t, len, TRUE);
			p = after;
			continue;
		}
		p = g_utf8_next_char(p);
	}
}

/* pw_digits - how many ASCII digits start at P (at most MAX) */
static gsize
pw_digits(const char *p, const char *end, gsize max)
{
	gsize n = 0;

	while (p + n < end && n < max && g_ascii_isdigit(p[n]))
		n++;
	return n;
}

/* pw_num - the decimal value of the N digits at P */
static guint
pw_num(const char *p, gsize n)
{
	guint v = 0;

	for (gsize i = 0; i < n; i++)
		v = v * 10 + (guint)(p[i] - '0');
	return v;
}

/* pw_date_ok - whether A and B are a day and a month in some order, and Y a year */
static gboolean
pw_date_ok(guint a, guint b, guint y)
{
	return y >= 1950 && y <= 2099 && a >= 1 && b >= 1 &&
	    ((a <= 31 && b <= 12) || (a <= 12 && b <= 31));
}

/*
 * pw_date_at - the length of a date-like token at P (DD-MM-YYYY,
 * DD.MM.YYYY, DD/MM/YYYY, YYYY-MM-DD, YYYYMMDD, DDMMYYYY), 0 when none.
 */
static gsize
pw_date_at(const char *p, const char *end)
{
	gsize a = pw_digits(p, end, 9), b, c;
	const char *q;
	char sep;

	if (a == 8)
		return pw_date_ok(pw_num(p + 6, 2), pw_num(p + 4, 2), pw_num(p, 4)) ||
		    pw_date_ok(pw_num(p, 2), pw_num(p + 2, 2), pw_num(p + 4, 4)) ? 8 : 0;
	if ((a != 1 && a != 2 && a != 4) || p + a >= end || strchr("-./", p[a]) == NULL)
		return 0;
	sep = p[a];
	q = p + a + 1;
	b = pw_digits(q, end, 3);
	if ((b != 1 && b != 2) || q + b >= end || q[b] != sep)
		return 0;
	c = pw_digits(q + b + 1, end, 5);
	if (a == 4 && (c == 1 || c == 2) && pw_date_ok(pw_num(q + b + 1, c), pw_num(q, b), pw_num(p, 4)))
		return a + b + c + 2;
	if (a != 4 && c == 4 && pw_date_ok(pw_num(p, a), pw_num(q, b), pw_num(q + b + 1, 4)))
		return a + b + c + 2;
	return 0;
}

/* pw_lone - line [P, EOL) as an uncued candidate when it is one token of 4-8 digits or of letters and digits */
static void
pw_lone(struct pw_scan *s, const char *p, const char *eol)
{
	const char *b = pw_blanks(p, eol), *e = eol;
	gboolean digit = FALSE, letter = FALSE;
	gsize n;

	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (gsize)(e - b);
	if (n < 4 || n > 32 || memchr(b, ' ', n) != NULL || memchr(b, '\t', n) != NULL)
		return;
	for (const char *q = b; q < e; q++) {
		if (strchr("/:@", *q) != NULL)
			return;
		digit = digit || g_ascii_isdigit(*q);
		letter = letter || g_ascii_isalpha(*q) || (guchar)*q >= 0x80;
	}
	if (digit && (letter || n <= 8))
		pw_add(s, b, n, FALSE);
}

/* pw_url_end - if a URL starts at P, where it ends (the next blank), else NULL */
static const char *
pw_url_end(const char *p, const char *eol)
{
	static const char *const schemes[] = { "http://", "https://", "ftp://", "www.", "mailto:" };

	if (g_ascii_tolower(*p) != 'h' && g_ascii_tolower(*p) != 'f' &&
	    g_ascii_tolower(*p) != 'w' && g_ascii_tolower(*p) != 'm')
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(schemes); i++) {
		gsize n = strlen(schemes[i]);

		if ((gsize)(eol - p) >= n && g_ascii_strncasecmp(p, schemes[i], n) == 0) {
			const char *q = p + n;

			while (q < eol && *q != ' ' && *q != '\t')
				q++;
			return q;
		}
	}
	return NULL;
}

/* pw_line - the candidates of line [LINE, EOL); NEXT and END as pw_after_cue() */
static void
pw_line(struct pw_scan *s, const char *line, const char *eol, const char *next, const char *end)
{
	struct pw_spans sp = { .n = 0 };
	const char *p = line;

	while (p < eol && s->cued->len < s->max) {
		const struct pw_cue *cue;
		const char *after;
		gsize n;

		if ((after = pw_url_end(p, eol)) != NULL && !pw_word_char(pw_prev(line, p))) {
			p = after;
			continue;
		}
		if ((guchar)*p >= 0x80 || g_ascii_isalpha(*p)) {
			if ((cue = pw_cue_at(line, p, eol, &after)) != NULL) {
				if ((cue->flags & CUE_GENERIC) && !s->generic) {
					p = after;
					continue;
				}
				if (!(cue->flags & CUE_WEAK) && sp.n < PW_SPANS_MAX) {
					sp.start[sp.n] = p;
					sp.end[sp.n++] = after;
				}
				pw_after_cue(s, cue, p, after, line, eol, next, end);
				p = after;
				continue;
			}
		} else if (g_ascii_isdigit(*p) && !pw_word_char(pw_prev(line, p)) &&
		    (n = pw_date_at(p, eol)) > 0 &&
		    (p + n == eol || !pw_word_char(g_utf8_get_char(p + n)))) {
			pw_add(s, p, n, FALSE);
			p += n;
			continue;
		}
		p = g_utf8_next_char(p);
	}
	if (sp.n > 0)
		pw_quotes_in(s, line, eol, &sp);
	if (s->lone)
		pw_lone(s, line, eol);
}

/* pw_text - the candidates of cleaned TEXT, line by line */
static void
pw_text(struct pw_scan *s, const char *text)
{
	const char *end = text + strlen(text);

	for (const char *line = text; line < end && s->cued->len < s->max;) {
		const char *nl = memchr(line, '\n', (gsize)(end - line));
		const char *eol = nl != NULL ? nl : end;
		const char *next = nl != NULL ? nl + 1 : end;

		pw_line(s, line, eol, next, end);
		line = next;
	}
}

/* pw_has_encrypted - whether REP holds an encrypted part */
static gboolean
pw_has_encrypted(const struct moat_report *rep)
{
	for (guint i = 0; i < rep->parts->len; i++)
		if (((const struct moat_part *)rep->parts->pdata[i])->encrypted)
			return TRUE;
	return FALSE;
}

/* pw_sources - the candidates of REP's subject and text parts, into S */
static void
pw_sources(struct pw_scan *s, const struct moat_report *rep)
{
	gsize left = PW_TEXT_MAX;

	if (rep->hdr.subject != NULL) {
		g_autofree char *subject = text_clean(rep->hdr.subject);

		s->where = "subject";
		pw_text(s, subject);
	}
	for (guint i = 0; i < rep->parts->len && left > 0 && s->cued->len < s->max; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		g_autofree char *text = NULL;
		gboolean html;
		gsize take;

		if (!text_part_is_text(p, &html))
			continue;
		take = MIN(g_bytes_get_size(p->content), MIN(PW_PART_MAX, left));
		left -= take;
		text = text_part(p, take);
		s->where = p->path_display;
		pw_text(s, text);
	}
}

/* pw_find - password_find(), with or without the CUE_GENERIC words ("code:", "PIN:") */
static GPtrArray *
pw_find(const struct moat_report *rep, guint max, gboolean generic)
{
	struct pw_scan s = {
		.cued = g_ptr_array_new_with_free_func((GDestroyNotify)password_free),
		.uncued = g_ptr_array_new_with_free_func((GDestroyNotify)password_free),
		.max = max,
		.lone = pw_has_encrypted(rep),
		.generic = generic,
	};

	if (max > 0)
		pw_sources(&s, rep);
	/* cued first, then the likely shapes, at most MAX in all */
	for (guint i = 0; i < s.uncued->len && s.cued->len < max; i++) {
		g_ptr_array_add(s.cued, s.uncued->pdata[i]);
		s.uncued->pdata[i] = NULL;
	}
	g_ptr_array_unref(s.uncued);
	return s.cued;
}

GPtrArray *
password_find(const struct moat_report *rep, guint max)
{
	return pw_find(rep, max, TRUE);
}

/* lure.password_link ---------------------------------------------------------- */

/*
 * What a download link's path ends in: archives a password opens, disk
 * images, programs, scripts. Not ".com": query values end in host names.
 */
static const char *const pw_link_exts[] = {
	"zip", "rar", "7z", "ace", "arj", "r00", "001", "iso", "img", "vhd", "vhdx", "exe", "scr",
	"pif", "msi", "msix", "appx", "dll", "cpl", "js", "jse", "vbs", "vbe", "wsf", "wsh",
	"hta", "lnk", "bat", "cmd", "ps1", "jar", "chm", "one",
};

/* pw_link_ext - whether NAME (LEN bytes) ends in ".EXT" of pw_link_exts[] */
static gboolean
pw_link_ext(const char *name, gsize len)
{
	const char *dot = len > 1 ? memrchr(name, '.', len) : NULL;
	gsize n = dot != NULL ? (gsize)(name + len - dot - 1) : 0;
	char ext[8];

	if (n == 0 || n >= sizeof(ext) || dot == name)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		ext[i] = g_ascii_tolower(dot[1 + i]);
	ext[n] = '\0';
	for (gsize i = 0; i < G_N_ELEMENTS(pw_link_exts); i++)
		if (strcmp(ext, pw_link_exts[i]) == 0)
			return TRUE;
	return FALSE;
}

/* pw_unescape - S (LEN bytes) with %XX decoded and "&amp;" as '&'. Caller g_free()s. */
static char *
pw_unescape(const char *s, gsize len)
{
	GString *out = g_string_sized_new(len + 1);

	for (gsize i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && g_ascii_isxdigit(s[i + 1]) && g_ascii_isxdigit(s[i + 2])) {
			g_string_append_c(out, (char)(g_ascii_xdigit_value(s[i + 1]) * 16 +
			    g_ascii_xdigit_value(s[i + 2])));
			i += 2;
		} else if (s[i] == '&' && i + 4 < len && strncmp(s + i, "&amp;", 5) == 0) {
			g_string_append_c(out, '&');
			i += 4;
		} else {
			g_string_append_c(out, s[i]);
		}
	}
	return g_string_free(out, FALSE);
}

/*
 * pw_query_downloads - the pair of query Q (decoded) that asks for a
 * download or names such a file ("export=download", "url=https://x/a.zip"),
 * or NULL. Caller g_free()s.
 */
static char *
pw_query_downloads(const char *q)
{
	g_auto(GStrv) pairs = g_strsplit_set(q, "&;", 64);

	for (guint i = 0; pairs[i] != NULL; i++) {
		const char *eq = strchr(pairs[i], '=');
		const char *v = eq != NULL ? eq + 1 : pairs[i];
		gsize klen = eq != NULL ? (gsize)(eq - pairs[i]) : strlen(pairs[i]);

		if (g_ascii_strcasecmp(v, "download") == 0 || (klen == 8 &&
		    g_ascii_strncasecmp(pairs[i], "download", 8) == 0) ||
		    g_ascii_strcasecmp(pairs[i], "dl=1") == 0 || pw_link_ext(v, strlen(v)))
			return g_strdup(pairs[i]);
	}
	return NULL;
}

/* pw_has_ci - whether [P, END) holds ASCII NEEDLE (lower-case), either case */
static gboolean
pw_has_ci(const char *p, const char *end, const char *needle)
{
	gsize n = strlen(needle);

	for (; p + n <= end; p++)
		if (g_ascii_tolower(*p) == needle[0] && g_ascii_strncasecmp(p, needle, n) == 0)
			return TRUE;
	return FALSE;
}

/*
 * pw_download_link - whether the URL at P (its scheme starts it; END ends
 * the part) is a download, as its path or its query says; *URL gets it
 * for the evidence, its query cut to the pair that said so (caller
 * g_free()s).
 */
static gboolean
pw_download_link(const char *p, const char *end, char **url)
{
	const char *q = p, *host, *path, *query, *frag;
	g_autofree char *qs = NULL, *pair = NULL;
	gsize path_len;

	while (q < end && q - p < PW_URL_MAX && (guchar)*q > ' ' && strchr("\"'<>`", *q) == NULL)
		q++;
	host = memchr(p, ':', (gsize)(q - p));
	if (host == NULL || q - host < 4 || host[1] != '/' || host[2] != '/')
		return FALSE;
	host += 3;
	path = host;
	while (path < q && strchr("/?#", *path) == NULL)
		path++;
	if (path == host)
		return FALSE;
	frag = memchr(path, '#', (gsize)(q - path));
	if (frag == NULL)
		frag = q;
	query = memchr(path, '?', (gsize)(frag - path));
	path_len = (gsize)((query != NULL ? query : frag) - path);
	while (path_len > 0 && strchr(").,;", path[path_len - 1]) != NULL && query == NULL &&
	    frag == q)
		path_len--;	/* a link at a sentence's end: "see https://x/y.zip." */
	if (pw_link_ext(path, path_len)) {
		*url = g_strndup(p, (gsize)(path + path_len - p));
		return TRUE;
	}
	/* a query that can ask for nothing: no "download", no "dl", no '.', no '%' */
	if (query == NULL || (!pw_has_ci(query, frag, "dl") && !pw_has_ci(query, frag, "download") &&
	    memchr(query, '.', (gsize)(frag - query)) == NULL &&
	    memchr(query, '%', (gsize)(frag - query)) == NULL))
		return FALSE;
	qs = pw_unescape(query + 1, (gsize)(frag - query - 1));
	if ((pair = pw_query_downloads(qs)) == NULL)
		return FALSE;
	*url = g_strdup_printf("%.*s?%s", (int)(query - p), p, pair);
	return TRUE;
}

/*
 * pw_link_in - the first download link in text part P's kept bytes (read
 * raw: URLs are ASCII in every charset mail uses but UTF-16), or NULL.
 * Caller g_free()s.
 */
static char *
pw_link_in(const struct moat_part *p)
{
	gsize len;
	const char *data = (const char *)lure_data(p, &len), *end;

	if (data == NULL || len == 0)
		return NULL;		/* an empty part: GBytes may give NULL */
	len = MIN(len, PW_PART_MAX);
	end = data + len;
	/* memchr() for each ':' is cheaper than memmem() for "://" (callgrind, ham) */
	for (const char *q = data; q < end;) {
		const char *h = memchr(q, ':', (gsize)(end - q));
		char *url = NULL;
		const char *start;

		if (h == NULL || end - h < 3)
			break;
		if (h[1] != '/' || h[2] != '/') {
			q = h + 1;
			continue;
		}
		start = h;
		while (start > data && h - start < 5 && g_ascii_isalpha(start[-1]))
			start--;
		if ((h - start == 4 && g_ascii_strncasecmp(start, "http", 4) == 0) ||
		    (h - start == 5 && g_ascii_strncasecmp(start, "https", 5) == 0)) {
			if (pw_download_link(start, end, &url))
				return url;
		}
		q = h + 3;
	}
	return NULL;
}

void
lure_password_check(struct moat_report *rep, const struct moat_conf *conf)
{
	g_autofree char *url = NULL, *shown = NULL, *place = NULL;
	g_autoptr(GPtrArray) pws = NULL;
	const struct moat_part *at = NULL;
	const struct password *pw = NULL;
	const char *host;

	(void)conf;
	for (guint i = 0; i < rep->parts->len && url == NULL; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		gboolean html;

		if (text_part_is_text(p, &html) && (url = pw_link_in(p)) != NULL)
			at = p;
	}
	if (url == NULL)
		return;
	/* a licence mail gives an "activation code:" beside its setup.exe: not a password */
	pws = pw_find(rep, PASSWORD_MAX_CANDIDATES, FALSE);
	for (guint i = 0; i < pws->len && pw == NULL; i++)
		if (((const struct password *)pws->pdata[i])->cued)
			pw = pws->pdata[i];
	if (pw == NULL)
		return;
	host = strstr(url, "://") + 3;
	shown = report_shorten_dup(url, PW_URL_SHOWN);
	if (strcmp(pw->where, at->path_display) != 0)
		place = g_strdup_printf(" in %s%s,", strcmp(pw->where, "subject") == 0 ? "the " : "",
		    pw->where);
	/* about the message: the password and the link may sit in different parts */
	report_add_finding(rep, "lure.password_link", NULL, "password \"%s\"%s and a link to "
	    "download from %.*s in %s: %s", pw->text, place != NULL ? place : "",
	    (int)strcspn(host, "/?#"), host, at->path_display, shown);
}
