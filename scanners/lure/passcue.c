/*
 * passcue.c - the password words of over 40 languages, and what may follow one
 *
 * pw_cues[]: the words that announce a password ("password", "Kennwort",
 * "mot de passe", "hasło", "пароль", "密码", "パスワード" ...), lower-case,
 * matched case-folded (final sigma as sigma, ’ as '), with the word
 * boundaries their script needs: none in CJK and Thai, a compound's end
 * for the CUE_INFIX ones (Archivpasswort). A weak word ("code", "pass",
 * "pw", "clave") is also an ordinary word, so only "cue:" or "cue=" after
 * it counts (password.c). pw_sep() reads the separator after a word:
 * ':', '=', a tab, " - ", a dash, an "is" word (pw_is_words[],
 * pw_is_glued[]), an opening quote or a blank. pw_is_stop() says which
 * tokens are words that follow a password word in ordinary mail
 * (pw_stop[], per language), never passwords. Tables are read-only;
 * every match is bounded by the token or the line it is on. Reentrant.
 */
#include <string.h>

#include "password_int.h"

/* Password words, lower-case (compared with pw_fold() on the text). */
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
	{ "پاس ورڈ", 0 }, { "கடவுச்சொல்", 0 }, { "මුරපදය", 0 },
	/* Burmese, Khmer, Lao: written without blanks between words */
	{ "စကားဝှက်", CUE_CJK }, { "ពាក្យសម្ងាត់", CUE_CJK }, { "លេខសម្ងាត់", CUE_CJK },
	{ "ລະຫັດຜ່ານ", CUE_CJK },
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
 * Words that follow a password word in ordinary mail and are never the
 * password: a notice about passwords ("Password reset", "Passwort
 * abgelaufen"), or a sentence saying the password comes another way or
 * another time ("Kennwort: wie besprochen", "mot de passe : envoyé
 * séparément", "Password - ask me by phone", "Contraseña: sigue en otro
 * correo"). Lower-case, compared with pw_fold() on the text. An entry is
 * one word, the first of such a phrase; it stops a token that is that
 * word ("folgt."), not one that starts with it ("sent-2026"). Words of
 * fewer than 3 characters ("as" discussed, "by" phone, "in" the next
 * mail, "по" телефону) need no entry: no token that short is a
 * candidate. An entry in a script written without blanks (CJK, Thai)
 * stops a token that starts with it: "別途お送りします", "另行发送".
 * 250 entries; a new one goes under its language.
 */
static const char *const pw_stop[] = {
	/* English: notices, then where the password is instead */
	"reset", "change", "changed", "changes", "expired", "expires", "expire", "expiration",
	"expiry", "protected", "required", "incorrect", "invalid", "wrong", "policy", "manager",
	"recovery", "reminder", "request", "requested", "update", "updated", "strength", "secret",
	"correct", "optional", "user", "username", "login", "email", "e-mail", "unknown", "empty",
	"blank", "unchanged", "hidden", "removed", "needed", "set", "none", "n/a", "***", "see",
	"check", "enter", "click", "please", "the", "and", "for", "not", "your", "yours", "same",
	"sent", "separately", "separate", "follows", "following", "follow", "below", "above",
	"attached", "enclosed", "here", "will", "i'll", "we'll", "you'll", "ask", "call", "via",
	"per", "upon", "available", "provided", "given", "shared", "coming", "pending", "later",
	"soon", "tbd", "tba", "tbc", "texted", "emailed", "next", "usual", "known",
	/* German */
	"hier", "siehe", "unten", "oben", "bitte", "ihr", "ihre", "dein", "deine", "folgt",
	"folgend", "nachfolgend", "anbei", "wie", "separat", "getrennt", "gesondert", "kommt",
	"erfolgt", "wird", "schicke", "sende", "senden", "erhalten", "bekommen", "bekannt",
	"telefonisch", "später", "gleich", "mit",
	/* French */
	"votre", "vos", "ci-dessous", "ci-dessus", "ci-joint", "suivant", "suit", "suivra",
	"envoyé", "envoyée", "envoi", "séparément", "séparé", "par", "sera", "comme",
	"communiqué", "transmis", "dans", "identique",
	/* Spanish */
	"abajo", "siguiente", "sigue", "seguirá", "enviada", "enviado", "envío", "enviaré",
	"por", "aparte", "separado", "como", "adjunto", "mismo", "llegará",
	/* Portuguese */
	"abaixo", "segue", "enviarei", "separadamente", "pelo", "pela", "anexo", "mesma",
	/* Italian */
	"sotto", "seguente", "seguirà", "inviata", "inviato", "separatamente", "come", "allegato",
	/* Dutch */
	"volgt", "volgende", "apart", "zoals", "hieronder", "bijgevoegd", "wordt", "verstuurd",
	/* Nordic */
	"nedan", "nedenfor", "följer", "følger", "skickas", "sendes", "som",
	/* Polish, Czech, Slovak */
	"poniżej", "prześlę", "wyślę", "wyślemy", "osobno", "oddzielnie", "osobnym", "jak",
	"podam", "pošlu", "zašlu", "zvlášť", "níže", "samostatně",
	/* Russian, Ukrainian, Bulgarian */
	"ниже", "нижче", "ваш", "ваше", "пришлю", "вышлю", "отправлю", "сообщу", "отдельно",
	"отдельным", "окремо", "надішлю", "отделно", "как", "позже",
	/* Turkish, Hungarian */
	"aşağıda", "ayrıca", "ayrı", "gönderilecek", "külön", "alább", "később",
	/* Chinese, Japanese, Korean, Thai: the start of the token */
	"另行", "另外", "稍后", "随后", "隨後", "单独", "單獨", "另发", "另發", "见下", "見下",
	"如下", "电话", "電話", "別途", "後ほど", "後日", "追って", "別送", "下記", "별도",
	"따로", "추후", "나중에", "아래", "จะส่ง", "แยก", "ด้านล่าง",
};

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
gboolean
pw_is_cjk(gunichar c)
{
	return (c >= 0x2e80 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) ||
	    (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff61 && c <= 0xff9f) ||
	    (c >= 0x0e00 && c <= 0x0e7f) || (c >= 0x1100 && c <= 0x11ff) ||
	    (c >= 0x20000 && c <= 0x3ffff);
}

/* pw_word_char - whether C continues a word (letters, digits, marks) */
gboolean
pw_word_char(gunichar c)
{
	return g_unichar_isalnum(c) || g_unichar_ismark(c);
}

/* pw_prev - the character before P (LINE is the line's start), or 0 at the start */
gunichar
pw_prev(const char *line, const char *p)
{
	return p > line ? g_utf8_get_char(g_utf8_find_prev_char(line, p)) : 0;
}

/* pw_blanks - P past blanks (' ' and tabs: the text is cleaned) up to END */
const char *
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
const struct pw_cue *
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

/* What follows a password word -------------------------------------------------- */

/*
 * pw_stop_at - whether token T (LEN bytes) is a word of pw_stop[], or
 * starts with one written without blanks. One pass over the table, each
 * compare ending at the first character that differs: ham pays +0.02%
 * instructions for the 250 entries (callgrind, 300 easy_ham).
 */
static gboolean
pw_stop_at(const char *t, gsize len)
{
	for (gsize i = 0; i < G_N_ELEMENTS(pw_stop); i++) {
		const char *w = pw_stop[i], *e = pw_word_at(t, t + len, w);

		if (e != NULL && (e == t + len || pw_is_cjk(g_utf8_get_char(w))))
			return TRUE;
	}
	return FALSE;
}

/* pw_is_stop - whether token T (LEN bytes) is a word that follows a password word in ordinary mail */
gboolean
pw_is_stop(const char *t, gsize len)
{
	const char *after;

	if (pw_stop_at(t, len))
		return TRUE;
	/* another password word ("Password: Passwort") */
	return pw_cue_at(t, t, t + len, &after) != NULL && after == t + len;
}

/*
 * pw_sep - the separator at P (blanks skipped before), for a weak word
 * only ':' '=' and a tab; *AFTER gets where it ends. LOOSE (right after
 * the word) allows " - ", a dash and an opening quote too; IS_OK the "is"
 * words (not after one that led to nothing). 0: none, ':' for a
 * mark, 'w' for an "is" word, 'q' when a quote opens right there, 'b'
 * for a blank alone (neither consumed).
 */
int
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
	if (q + 3 <= eol && memcmp(q, "\xe1\x9f\x96", 3) == 0) {	/* U+17D6, Khmer's colon */
		*after = q + 3;
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
