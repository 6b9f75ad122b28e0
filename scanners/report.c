/*
 * report.c - the report model: finding catalogue, lifecycle, JSON
 *
 * The catalogue below is the one place a finding id, its default score,
 * severity and ATT&CK technique are defined; README.md lists the same table.
 * JSON is written with json-glib; the schema is REPORT_SCHEMA_VERSION and
 * is documented in README.md. A report is used by one thread at a time.
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "moat/auth.h"
#include "moat/report.h"

static const struct moat_finding_kind report_catalogue[] = {
	{ "attach.executable", 10, MOAT_SEV_HIGH, "T1204.002",
	    "executable program (PE, ELF, Mach-O; .exe .dll .scr .com .pif .cpl .msi .msc ...)" },
	{ "attach.script", 10, MOAT_SEV_HIGH, "T1059",
	    "script Windows runs on a double-click (.js .vbs .wsf .hta .ps1 .bat .cmd .jar .reg ...)" },
	{ "attach.shortcut", 10, MOAT_SEV_HIGH, "T1204.002",
	    "Windows shortcut (.lnk) or shell command file (.scf .settingcontent-ms .library-ms ...)" },
	{ "attach.internet_shortcut", 2, MOAT_SEV_LOW, "T1204.001",
	    "Internet shortcut (.url); one that opens a file:// or UNC path is lure.url_file" },
	{ "attach.disk_image", 10, MOAT_SEV_MEDIUM, "T1553.005",
	    "disk image (.iso .img .vhd .vhdx): its files escape Mark-of-the-Web" },
	{ "attach.compiled_help", 10, MOAT_SEV_MEDIUM, "T1218.001",
	    "compiled HTML help (.chm)" },
	{ "attach.onenote", 6, MOAT_SEV_MEDIUM, "T1566.001",
	    "OneNote notebook (.one), a common lure carrier" },
	{ "name.double_extension", 8, MOAT_SEV_HIGH, "T1036.007",
	    "a document-like name hides a dangerous extension (invoice.pdf.exe)" },
	{ "name.bidi_control", 10, MOAT_SEV_HIGH, "T1036.002",
	    "name contains a Unicode bidi control (U+202E ...) that reorders what the user sees" },
	{ "name.invisible_char", 4, MOAT_SEV_MEDIUM, "T1036",
	    "name contains an invisible character (zero-width, filler, tag)" },
	{ "name.conflict", 3, MOAT_SEV_LOW, "T1036",
	    "Content-Disposition filename and Content-Type name disagree" },
	{ "type.mismatch", 4, MOAT_SEV_MEDIUM, "T1036.008",
	    "the bytes are not of the type the name or Content-Type declares" },
	{ "mime.malformed", 1, MOAT_SEV_LOW, "",
	    "the MIME structure breaks the RFCs (GMime warning)" },
	{ "mime.ambiguous", 5, MOAT_SEV_MEDIUM, "T1027",
	    "the MIME structure can be read in more than one way (GMime critical warning)" },
	{ "mime.bad_base64", 3, MOAT_SEV_LOW, "T1027",
	    "a base64 body holds characters outside the base64 alphabet" },
	{ "mime.too_many_parts", 10, MOAT_SEV_MEDIUM, "T1027",
	    "more MIME parts than [limits] max_parts; the rest were not inventoried" },
	{ "mime.too_deep", 10, MOAT_SEV_MEDIUM, "T1027",
	    "MIME nesting deeper than [limits] max_depth; deeper parts were not inventoried" },
	{ "mime.too_large", 3, MOAT_SEV_LOW, "",
	    "decoded parts exceed [limits] max_decoded_bytes; the rest are scanned, not kept" },
	{ "mime.message_too_large", 10, MOAT_SEV_MEDIUM, "",
	    "message larger than [limits] max_message_bytes; it was not parsed" },
	{ "mime.unopened", 10, MOAT_SEV_MEDIUM, "T1027",
	    "an encoded message/rfc822 was not opened: the encoded messages around it exceed "
	    "[limits] max_decoded_bytes (libclamav scanned it whole)" },
	{ "mime.long_header", 2, MOAT_SEV_LOW, "",
	    "a header field longer than [limits] max_header_bytes" },
	{ "scan.budget_exceeded", 10, MOAT_SEV_MEDIUM, "T1499",
	    "the scan ran past [limits] scan_budget_ms; the rest of the message was not examined" },
	{ "mime.tnef", 1, MOAT_SEV_INFO, "",
	    "Outlook TNEF container (winmail.dat); its members are not opened yet" },
	{ "av.*", 20, MOAT_SEV_CRITICAL, "T1204.002",
	    "a ClamAV signature matched; the id is av.<signature name>" },
	{ "container.opaque_image", 10, MOAT_SEV_MEDIUM, "T1553.005",
	    "a disk image moat cannot list (VHDX, NTFS, exFAT, UDF-only, an unknown file "
	    "system): its files were not inventoried" },
	{ "container.encrypted", 5, MOAT_SEV_MEDIUM, "T1027.013",
	    "an encrypted archive member moat could not open (no password in the message opens "
	    "it, or moat cannot decrypt the format): its content was not scanned" },
	{ "container.decrypted", 0, MOAT_SEV_INFO, "T1027.013",
	    "encrypted archive members opened with a password the message gives, then scanned "
	    "like any member (the verdict is their contents')" },
	{ "container.too_deep", 10, MOAT_SEV_MEDIUM, "T1027",
	    "containers nested deeper than [containers] max_depth; deeper members were not opened" },
	{ "container.too_many_members", 10, MOAT_SEV_MEDIUM, "T1027",
	    "more members than [containers] max_members; the rest were not inventoried" },
	{ "container.bomb", 10, MOAT_SEV_MEDIUM, "T1499",
	    "a container expands past [containers] max_expanded_bytes or max_ratio" },
	{ "container.unscanned", 10, MOAT_SEV_MEDIUM, "T1027",
	    "an archive lists members whose data libclamav could not read (offsets that point "
	    "nowhere, an unsupported method): they were not scanned" },
	{ "container.unreadable", 1, MOAT_SEV_LOW, "",
	    "an archive could not be read to the end (truncated or corrupt)" },
	{ "lure.lnk_interpreter", 10, MOAT_SEV_HIGH, "T1204.002",
	    "a shortcut runs a command interpreter or a system binary that runs code "
	    "(cmd, powershell, mshta, rundll32, regsvr32, wscript, conhost, forfiles, curl ...)" },
	{ "lure.lnk_padding", 10, MOAT_SEV_HIGH, "T1027",
	    "a shortcut's arguments sit behind a run of blanks ([lure] lnk_blanks) that pushes "
	    "them out of the Properties dialog" },
	{ "lure.lnk_relative_target", 10, MOAT_SEV_HIGH, "T1204.002",
	    "a shortcut runs a file from a folder of the same archive or disk image" },
	{ "lure.lnk_document_icon", 4, MOAT_SEV_MEDIUM, "T1036",
	    "a shortcut to a program shows a document's or browser's icon" },
	{ "lure.lnk_malformed", 6, MOAT_SEV_MEDIUM, "T1027",
	    "a file with a shortcut's header that moat cannot read as a shortcut" },
	{ "lure.url_file", 15, MOAT_SEV_HIGH, "T1204.002",
	    "an Internet shortcut opens a file:// URL or a UNC/WebDAV path: it runs a remote file" },
	{ "lure.sideload", 15, MOAT_SEV_CRITICAL, "T1574.002",
	    "DLL side-loading bundle: a program beside a DLL it imports by name, stronger with an "
	    "opaque payload, a hidden folder, a shortcut into the folder or a known host/DLL pair" },
	{ "lure.disk_image_payload", 10, MOAT_SEV_HIGH, "T1553.005",
	    "a disk image holds programs, scripts, shortcuts or hidden files" },
	{ "lure.decoy_folder", 12, MOAT_SEV_HIGH, "T1564.001",
	    "a container shows only a shortcut or a document at its top while a hidden or "
	    "oddly named folder (_ __ # ~ blanks) holds programs" },
	{ "lure.encrypted_runnable", 10, MOAT_SEV_HIGH, "T1027.013",
	    "an encrypted archive moat could not open lists programs, scripts, shortcuts, "
	    "archives or disk images" },
	{ "lure.encrypted_hidden_names", 10, MOAT_SEV_HIGH, "T1027.013",
	    "an archive whose file names are encrypted too (7z, RAR): nothing in it can be seen "
	    "or scanned" },
	{ "lure.password_mismatch", 10, MOAT_SEV_HIGH, "T1027.013",
	    "the message gives a password, but it opens none of the members of its encrypted "
	    "archive" },
	{ "lure.nested_archive", 8, MOAT_SEV_MEDIUM, "T1027",
	    "an archive inside an archive whose innermost holds programs, scripts or shortcuts" },
	{ "lure.program_as_document", 10, MOAT_SEV_HIGH, "T1036.008",
	    "a program named as a document (report.pdf, ~$report.docx), or inside an archive so "
	    "named (topic.pdf.zip)" },
	{ "lure.mixed_script_name", 6, MOAT_SEV_MEDIUM, "T1036",
	    "a program's or shortcut's name mixes Latin with Cyrillic or Greek letters in one word" },
	{ "lure.office_macro", 6, MOAT_SEV_MEDIUM, "T1204.002",
	    "an Office document carries VBA macros (a project in an OLE2 .doc/.xls, or "
	    "vbaProject.bin in a docm/xlsm/pptm) or an Excel 4.0 macro sheet" },
	{ "lure.macro_autoexec", 12, MOAT_SEV_HIGH, "T1204.002",
	    "a document's macros run on opening (AutoOpen, Document_Open, Workbook_Open ...) and "
	    "start programs or download (Shell, WScript.Shell, URLDownloadToFile, XMLHTTP, "
	    "PowerShell ..., or CreateObject with a name hidden by Chr() or StrReverse)" },
	{ "lure.macro_renamed", 10, MOAT_SEV_HIGH, "T1036.008",
	    "a macro document named as a type without macros (a docm called .docx, a macro .doc "
	    "called .docx) or as a Word/Excel 97 file (a docm called .doc)" },
	{ "lure.remote_template", 12, MOAT_SEV_HIGH, "T1221",
	    "a document loads a template, OLE object or frame from another machine on opening: an "
	    "external attachedTemplate/oleObject/frame/subDocument relationship or an RTF "
	    "\\template to http(s), a UNC path or file://host" },
	{ "lure.dde_field", 12, MOAT_SEV_HIGH, "T1559.002",
	    "a document runs a program through DDE on opening: a Word DDE/DDEAUTO field (also "
	    "spelled by a QUOTE field), or an Excel or CSV formula APP|'...'! that starts cmd, "
	    "PowerShell, mshta ..." },
	{ "lure.equation_editor", 15, MOAT_SEV_HIGH, "T1203",
	    "a document embeds an Equation Editor 3.0 object (EQNEDT32.EXE, removed from Office "
	    "in 2018; CVE-2017-11882 and CVE-2018-0802 exploits): an RTF \\objdata of class "
	    "Equation.3 or with its CLSID, or one in a .doc/.xls or a docx's embeddings" },
	{ "lure.script_downloader", 10, MOAT_SEV_HIGH, "T1059",
	    "a script (.js .vbs .ps1 .bat .hta .wsf ..., or one inside a OneNote or CHM) downloads "
	    "or drops code and runs it: IEX of a download, mshta/regsvr32/rundll32 given a URL, "
	    "XMLHTTP + ADODB.Stream, a fetched file run, a base64 blob that is a program" },
	{ "lure.script_obfuscated", 6, MOAT_SEV_MEDIUM, "T1027.010",
	    "a script hides its code: Script Encoder (.vbe/.jse), a long base64 blob for "
	    "-EncodedCommand or FromBase64String, char codes, carets or %VAR:~x,y% in batch, "
	    "backticks or {1}{0} -f in PowerShell, pieces glued together, a reversed URL" },
	{ "lure.onenote_payload", 10, MOAT_SEV_HIGH, "T1566.001",
	    "a OneNote notebook carries an embedded program, script, HTA, batch file, shortcut or "
	    "disk image (behind a fake \"double-click to view\" button)" },
	{ "lure.chm_payload", 10, MOAT_SEV_HIGH, "T1218.001",
	    "a compiled help file (.chm) carries a program or script, or a page that runs one "
	    "(the HHCtrl ShortCut command, WScript.Shell)" },
	{ "lure.html_smuggling", 15, MOAT_SEV_HIGH, "T1027.006",
	    "HTML smuggling: a page's script builds a file it carries encoded (base64, char codes) "
	    "and saves it (Blob, msSaveOrOpenBlob, createObjectURL, a clicked download), or a "
	    "data: URL of an archive or program" },
	{ "lure.html_script_payload", 6, MOAT_SEV_MEDIUM, "T1027.006",
	    "a page's script carries a long encoded payload that it decodes (atob, fromCharCode, "
	    "unescape) or that is a program, archive, disk image or script, with no save seen" },
	{ "lure.password_link", 8, MOAT_SEV_MEDIUM, "T1027.013",
	    "the body gives a password and links to a download of an archive, disk image, "
	    "program or script: the file is fetched and opened past the gateway" },
	/* Sender authentication (scanners/auth/): inbound mail only. */
	{ "auth.spf_fail", 3, MOAT_SEV_MEDIUM, "T1566",
	    "SPF fail: the client may not send for the MAIL FROM domain (or the HELO name when "
	    "MAIL FROM is empty)" },
	{ "auth.spf_softfail", 1, MOAT_SEV_LOW, "T1566",
	    "SPF softfail: the domain says the client is probably not allowed to send for it" },
	{ "auth.dkim_fail", 2, MOAT_SEV_MEDIUM, "T1566",
	    "a DKIM signature does not verify (the message was changed, or the signature forged)" },
	{ "auth.dmarc_reject", 8, MOAT_SEV_HIGH, "T1656",
	    "DMARC fail for a From domain whose policy is reject: the From domain is forged" },
	{ "auth.dmarc_quarantine", 5, MOAT_SEV_MEDIUM, "T1656",
	    "DMARC fail for a From domain whose policy is quarantine" },
	{ "auth.dmarc_fail", 1, MOAT_SEV_LOW, "T1656",
	    "DMARC fail for a From domain whose policy is none (monitoring only)" },
	{ "auth.from_missing", 2, MOAT_SEV_LOW, "",
	    "no From address in the header: DMARC cannot say who sent the message" },
	{ "auth.from_multiple", 3, MOAT_SEV_MEDIUM, "T1656",
	    "several From addresses: which one a mail client shows is not what DMARC checked" },
	{ "auth.lookalike_domain", 8, MOAT_SEV_HIGH, "T1566.001",
	    "the From domain imitates a protected domain (one letter off, homoglyphs or mixed "
	    "scripts, a hyphen added or removed, another top-level domain)" },
	{ "auth.display_name", 6, MOAT_SEV_MEDIUM, "T1656",
	    "the display name shows a protected name or address while the From domain is outside" },
	{ "auth.temperror", 0, MOAT_SEV_INFO, "",
	    "a check could not finish (DNS timeout or server failure, or past [auth] dns_budget_ms)" },
	/* Scored at the reject threshold of the message's direction, not 20 (policy.c). */
	{ "policy.blocked_sender", 20, MOAT_SEV_HIGH, "",
	    "the envelope sender or its domain is in [lists] block_senders or block_domains "
	    "(scores the reject threshold)" },
	{ "policy.recipients_dropped", 1, MOAT_SEV_LOW, "",
	    "more recipients than [milter] max_recipients: the rest were counted, not kept, "
	    "and no allow entry can allow the message by its recipients" },
	{ "policy.blocked_network", 20, MOAT_SEV_HIGH, "",
	    "the SMTP client is in [lists] block_networks (scores the reject threshold)" },
	{ "policy.blocked_hash", 20, MOAT_SEV_HIGH, "",
	    "a part's SHA-256 is in [lists] block_sha256 (scores the reject threshold)" },
};

#define EVIDENCE_MAX 400	/* bytes of evidence kept: one line, not a dump */

const struct moat_finding_kind *
report_kinds(gsize *n)
{
	*n = G_N_ELEMENTS(report_catalogue);
	return report_catalogue;
}

const struct moat_finding_kind *
report_kind_lookup(const char *id)
{
	const char *dot = strchr(id, '.');

	for (gsize i = 0; i < G_N_ELEMENTS(report_catalogue); i++)
		if (strcmp(report_catalogue[i].id, id) == 0)
			return &report_catalogue[i];
	if (dot == NULL || dot[1] == '\0' || strcmp(dot, ".*") == 0)
		return NULL;
	/* "av.Win.Test.EICAR_HDB-1" belongs to "av.*". */
	for (gsize i = 0; i < G_N_ELEMENTS(report_catalogue); i++) {
		const char *k = report_catalogue[i].id;
		gsize glen = (gsize)(dot - id);

		if (g_str_has_suffix(k, ".*") && strlen(k) == glen + 2 && strncmp(k, id, glen) == 0)
			return &report_catalogue[i];
	}
	return NULL;
}

const char *
report_action_name(enum moat_action a)
{
	static const char *const names[] = { "accept", "tag", "quarantine", "reject", "tempfail" };

	return (unsigned)a < G_N_ELEMENTS(names) ? names[a] : "unknown";
}

const char *
report_severity_name(enum moat_severity s)
{
	static const char *const names[] = { "info", "low", "medium", "high", "critical" };

	return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "unknown";
}

const char *
report_direction_name(enum moat_direction d)
{
	return d == MOAT_OUTBOUND ? "outbound" : "inbound";
}

int
report_unichar_trick(gunichar c)
{
	/* Explicit embeddings, overrides and isolates reorder displayed text. */
	if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
		return REPORT_TRICK_BIDI;
	/*
	 * Characters that draw nothing. Directional marks (LRM, RLM, ALM) are
	 * here rather than above: they cannot reorder a name on their own.
	 * Ordinary Arabic or Hebrew letters are neither.
	 */
	if (c == 0x00ad || c == 0x034f || c == 0x061c || c == 0x115f || c == 0x1160 ||
	    c == 0x17b4 || c == 0x17b5 || c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2060 && c <= 0x2064) || (c >= 0x206a && c <= 0x206f) ||
	    c == 0x3164 || c == 0xfeff || c == 0xffa0 || (c >= 0xe0000 && c <= 0xe007f))
		return REPORT_TRICK_INVISIBLE;
	return REPORT_TRICK_NONE;
}

char *
report_clean_text(const char *s, gssize len, gsize max)
{
	g_autofree char *valid = NULL;
	GString *out;

	if (s == NULL)
		return NULL;
	valid = g_utf8_make_valid(s, len);
	out = g_string_sized_new(strlen(valid));
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		char piece[16];
		gsize n;

		/* Line and paragraph separators would break the one line too. */
		if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029)
			n = (gsize)g_strlcpy(piece, "\xef\xbf\xbd", sizeof(piece));	/* U+FFFD */
		else if (report_unichar_trick(c) != REPORT_TRICK_NONE)
			n = (gsize)g_snprintf(piece, sizeof(piece), "<U+%04X>", c);
		else
			n = (gsize)g_unichar_to_utf8(c, piece);
		/* Keep room for the ellipsis that says the text was cut. */
		if (max != 0 && out->len + n + (*g_utf8_next_char(p) != '\0' ? 3 : 0) > max) {
			if (out->len + 3 <= max)
				g_string_append(out, "\xe2\x80\xa6");	/* … */
			break;
		}
		g_string_append_len(out, piece, (gssize)n);
	}
	return g_string_free(out, FALSE);
}

/*
 * report_shorten - NAME cut to at most MAX bytes (head, an ellipsis, tail; on
 * UTF-8 character boundaries when NAME is UTF-8), or NULL when it fits
 */
char *
report_shorten(const char *name, gsize max)
{
	static const char ell[] = "\xe2\x80\xa6";	/* … */
	gsize len = name != NULL ? strlen(name) : 0, head, tail;
	GString *out;

	if (len <= max || max < 16)
		return NULL;
	/* A third of the room for the tail: the extension and a little before it. */
	tail = (max - (sizeof(ell) - 1)) / 3;
	head = max - (sizeof(ell) - 1) - tail;
	while (head > 0 && ((guchar)name[head] & 0xc0) == 0x80)
		head--;		/* never cut a character in two */
	while (tail > 0 && ((guchar)name[len - tail] & 0xc0) == 0x80)
		tail--;
	out = g_string_sized_new(max + 1);
	g_string_append_len(out, name, (gssize)head);
	g_string_append(out, ell);
	g_string_append(out, name + len - tail);
	return g_string_free(out, FALSE);
}

char *
report_shorten_dup(const char *name, gsize max)
{
	char *cut = report_shorten(name, max);

	return cut != NULL ? cut : g_strdup(name);
}

/*
 * report_display_join - HEAD (a display path, may be NULL or "") and NAME
 * (cleaned) joined with REPORT_PATH_SEP, cut to REPORT_DISPLAY_MAX bytes.
 * Caller g_free()s.
 */
static char *
report_display_join(const char *head, const char *name)
{
	g_autofree char *full = head != NULL && *head != '\0' ?
	    g_strconcat(head, REPORT_PATH_SEP, name, NULL) : g_strdup(name);

	return report_shorten_dup(full, REPORT_DISPLAY_MAX);
}

char *
report_path_display(GPtrArray *path)
{
	char *out = g_strdup("");

	for (guint i = 0; path != NULL && i < path->len; i++) {
		g_autofree char *clean = report_clean_text(path->pdata[i], -1, 0);
		g_autofree char *head = out;

		out = report_display_join(head, clean);
	}
	return out;
}

void
report_envelope_init(struct moat_envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->rcpt_to = g_ptr_array_new_with_free_func(g_free);
}

void
report_envelope_copy(struct moat_envelope *dst, const struct moat_envelope *src)
{
	dst->client_addr = g_strdup(src->client_addr);
	dst->helo = g_strdup(src->helo);
	dst->mail_from = g_strdup(src->mail_from);
	dst->auth = g_strdup(src->auth);
	dst->raw_mail_from = g_strdup(src->raw_mail_from);
	dst->raw_helo = g_strdup(src->raw_helo);
	for (guint i = 0; src->rcpt_to != NULL && i < src->rcpt_to->len; i++)
		g_ptr_array_add(dst->rcpt_to, g_strdup(src->rcpt_to->pdata[i]));
	dst->rcpt_dropped = src->rcpt_dropped;
}

void
report_envelope_clear(struct moat_envelope *env)
{
	g_free(env->client_addr);
	g_free(env->helo);
	g_free(env->mail_from);
	g_free(env->auth);
	g_free(env->raw_mail_from);
	g_free(env->raw_helo);
	if (env->rcpt_to != NULL)
		g_ptr_array_unref(env->rcpt_to);
	memset(env, 0, sizeof(*env));
}

struct moat_report *
report_new(void)
{
	struct moat_report *rep = g_new0(struct moat_report, 1);

	rep->started = g_get_monotonic_time();
	report_envelope_init(&rep->env);
	rep->parts = g_ptr_array_new();
	rep->findings = g_ptr_array_new();
	rep->verdict.reasons = g_ptr_array_new_with_free_func(g_free);
	rep->id_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return rep;
}

static void
report_part_free(struct moat_part *p)
{
	g_free(p->id);
	g_ptr_array_unref(p->path);
	g_free(p->path_display);
	g_free(p->content_type);
	g_free(p->filename);
	g_free(p->disp_filename);
	g_free(p->type_name);
	g_free(p->disposition);
	g_free(p->transfer_encoding);
	g_free(p->charset);
	g_free(p->derived);
	if (p->content != NULL)
		g_bytes_unref(p->content);
	if (p->children != NULL)
		g_ptr_array_unref(p->children);
	if (p->dirs != NULL)
		g_hash_table_destroy(p->dirs);
	g_free(p);
}

static void
report_dir_free(struct moat_dir *d)
{
	g_free(d->name);
	g_free(d);
}

/* report_dir_name - NAME as valid UTF-8 with '\\' as '/', no trailing separators, cut like a member's name */
static char *
report_dir_name(const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name, -1);
	char *n = report_shorten_dup(valid, REPORT_NAME_MAX);
	gsize len;

	g_strdelimit(n, "\\", '/');
	for (len = strlen(n); len > 0 && n[len - 1] == '/'; len--)
		n[len - 1] = '\0';
	return n;
}

void
report_part_add_dir(struct moat_part *c, const char *name, gboolean hidden, gboolean system)
{
	g_autofree char *n = NULL;
	struct moat_dir *d;

	if (name == NULL)
		return;
	n = report_dir_name(name);
	if (*n == '\0')
		return;
	if (c->dirs == NULL)
		c->dirs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
		    (GDestroyNotify)report_dir_free);
	if ((d = g_hash_table_lookup(c->dirs, n)) != NULL) {
		d->hidden |= hidden;
		d->system |= system;
		return;
	}
	if (g_hash_table_size(c->dirs) >= REPORT_MAX_DIRS)
		return;
	d = g_new0(struct moat_dir, 1);
	d->name = g_steal_pointer(&n);
	d->hidden = hidden;
	d->system = system;
	g_hash_table_insert(c->dirs, d->name, d);	/* keyed by its own name, freed with it */
}

const struct moat_dir *
report_part_dir(const struct moat_part *c, const char *name)
{
	return c->dirs != NULL ? g_hash_table_lookup(c->dirs, name) : NULL;
}

static void
report_finding_free(struct moat_finding *f)
{
	g_ptr_array_unref(f->path);
	g_free(f->path_display);
	g_free(f->evidence);
	g_free(f->id);
	g_free(f);
}

void
report_free(struct moat_report *rep)
{
	if (rep == NULL)
		return;
	g_free(rep->source);
	report_envelope_clear(&rep->env);
	auth_free(rep->auth);
	g_free(rep->hdr.from);
	g_free(rep->hdr.from_name);
	g_free(rep->hdr.from_addr);
	g_free(rep->hdr.reply_to);
	g_free(rep->hdr.return_path);
	g_free(rep->hdr.subject);
	g_free(rep->hdr.message_id);
	g_free(rep->hdr.date);
	g_ptr_array_foreach(rep->parts, (GFunc)(void (*)(void))report_part_free, NULL);
	g_ptr_array_unref(rep->parts);
	g_ptr_array_foreach(rep->findings, (GFunc)(void (*)(void))report_finding_free, NULL);
	g_ptr_array_unref(rep->findings);
	g_hash_table_destroy(rep->id_counts);
	g_ptr_array_unref(rep->verdict.reasons);
	g_free(rep->verdict.allowed);
	g_free(rep);
}

/*
 * report_path_element - NAME as a path element: a GRefString (shared by
 * every part below it, never copied per member) of at most
 * REPORT_ELEMENT_MAX bytes. A longer name keeps its head and its tail, so
 * the extension a user would see stays in the path ("very long…me.pdf.exe").
 */
static char *
report_path_element(const char *name)
{
	g_autofree char *cut = report_shorten(name, REPORT_ELEMENT_MAX);

	return g_ref_string_new(cut != NULL ? cut : name);
}

/* report_copy_path - PATH's names as new path elements (NULL gives an empty path) */
static GPtrArray *
report_copy_path(GPtrArray *path)
{
	GPtrArray *copy = g_ptr_array_new_full(path != NULL ? path->len + 1 : 1,
	    (GDestroyNotify)g_ref_string_release);

	for (guint i = 0; path != NULL && i < path->len; i++)
		g_ptr_array_add(copy, report_path_element(path->pdata[i]));
	return copy;
}

struct moat_part *
report_part_new(struct moat_report *rep, GPtrArray *path)
{
	struct moat_part *p = g_new0(struct moat_part, 1);

	p->path = report_copy_path(path);
	p->path_display = report_path_display(p->path);
	g_ptr_array_add(rep->parts, p);
	return p;
}

struct moat_part *
report_member_new(struct moat_report *rep, struct moat_part *parent, const char *name)
{
	struct moat_part *p = g_new0(struct moat_part, 1);
	g_autofree char *clean = NULL;

	/* The parent's elements are shared, not copied: a member costs its own name only. */
	p->path = g_ptr_array_new_full(parent->path->len + 1, (GDestroyNotify)g_ref_string_release);
	for (guint i = 0; i < parent->path->len; i++)
		g_ptr_array_add(p->path, g_ref_string_acquire(parent->path->pdata[i]));
	g_ptr_array_add(p->path, report_path_element(name != NULL ? name : "?"));
	clean = report_clean_text(p->path->pdata[p->path->len - 1], -1, 0);
	p->path_display = report_display_join(parent->path_display, clean);
	g_ptr_array_add(rep->parts, p);
	p->parent = parent;
	p->depth = parent->depth;
	p->container_depth = parent->container_depth + 1;
	p->id = g_strdup_printf("%s/%u", parent->id, ++parent->nmembers);
	if (parent->children == NULL)
		parent->children = g_ptr_array_new();
	g_ptr_array_add(parent->children, p);
	p->filename = report_shorten_dup(name, REPORT_NAME_MAX);
	p->disp_filename = g_strdup(p->filename);	/* the name checks read it: a member has this one name */
	p->is_attachment = TRUE;
	return p;
}

/* How many findings of one id a report holds, and the first of them. */
struct report_id_count {
	guint n;
	struct moat_finding *first;
};

void
report_part_rename(struct moat_report *rep, struct moat_part *m, const char *name)
{
	guint at = m->path->len - 1;

	for (guint i = 0; i < rep->parts->len; i++) {
		struct moat_part *p = rep->parts->pdata[i];
		const struct moat_part *up = p;

		while (up != NULL && up != m)
			up = up->parent;
		if (up == NULL)
			continue;
		g_ref_string_release(p->path->pdata[at]);
		p->path->pdata[at] = report_path_element(name);
		g_free(p->path_display);
		p->path_display = report_path_display(p->path);
	}
	g_free(m->filename);
	m->filename = report_shorten_dup(name, REPORT_NAME_MAX);
	g_free(m->disp_filename);
	m->disp_filename = g_strdup(m->filename);
}

/* report_share_path - a new array holding references to PATH's elements (a part's path) */
static GPtrArray *
report_share_path(GPtrArray *path)
{
	GPtrArray *copy = g_ptr_array_new_full(path->len + 1, (GDestroyNotify)g_ref_string_release);

	for (guint i = 0; i < path->len; i++)
		g_ptr_array_add(copy, g_ref_string_acquire(path->pdata[i]));
	return copy;
}

/*
 * report_finding_room - whether REP may keep one more finding of ID (of
 * catalogue KIND): at most REPORT_MAX_SAME_ID of one id, and past
 * REPORT_MAX_FINDINGS in all only the first of a kind, so that every kind
 * still counts in the score. Otherwise the finding is counted in
 * findings_dropped and *FIRST gets the finding to hand back instead.
 * *COUNT gets ID's counter either way.
 */
static gboolean
report_finding_room(struct moat_report *rep, const char *id,
    const struct moat_finding_kind *kind, struct report_id_count **count,
    struct moat_finding **first)
{
	struct report_id_count *of_kind;

	if ((*count = g_hash_table_lookup(rep->id_counts, id)) == NULL) {
		*count = g_new0(struct report_id_count, 1);
		g_hash_table_insert(rep->id_counts, g_strdup(id), *count);
	}
	of_kind = g_hash_table_lookup(rep->id_counts, kind->id);
	if ((*count)->n >= REPORT_MAX_SAME_ID)
		*first = (*count)->first;
	else if (rep->findings->len >= REPORT_MAX_FINDINGS && of_kind != NULL && of_kind->first)
		*first = of_kind->first;
	else
		return TRUE;
	rep->findings_dropped++;
	return FALSE;
}

/* report_add_finding_v - the finding ID at PATH (copied) or at AT's path (shared) */
static struct moat_finding * G_GNUC_PRINTF(5, 0)
report_add_finding_v(struct moat_report *rep, const char *id, GPtrArray *path,
    const struct moat_part *at, const char *fmt, va_list ap)
{
	const struct moat_finding_kind *kind = report_kind_lookup(id);
	struct report_id_count *count, *by_kind;
	struct moat_finding *f, *first;
	g_autofree char *raw = NULL;
	char *clean_id;

	g_assert(kind != NULL);	/* every id must be in the catalogue */
	clean_id = report_clean_text(id, -1, 200);
	/*
	 * The policy counts an id once per message: past the caps the rest are
	 * counted, not kept, so what a sender can make moat store stays bounded.
	 */
	if (!report_finding_room(rep, clean_id, kind, &count, &first)) {
		g_free(clean_id);
		return first;
	}
	f = g_new0(struct moat_finding, 1);
	f->id = clean_id;
	f->kind = kind;
	f->score = kind->score;
	f->path = at != NULL ? report_share_path(at->path) : report_copy_path(path);
	f->path_display = at != NULL ? g_strdup(at->path_display) : report_path_display(f->path);
	raw = g_strdup_vprintf(fmt, ap);
	f->evidence = report_clean_text(raw, -1, EVIDENCE_MAX);
	g_ptr_array_add(rep->findings, f);
	if (count->n++ == 0)
		count->first = f;
	/* the first finding of each catalogue kind, for report_finding_room() */
	if (strcmp(kind->id, clean_id) != 0 &&
	    (by_kind = g_hash_table_lookup(rep->id_counts, kind->id)) == NULL) {
		by_kind = g_new0(struct report_id_count, 1);
		by_kind->first = f;
		g_hash_table_insert(rep->id_counts, g_strdup(kind->id), by_kind);
	}
	return f;
}

struct moat_finding *
report_add_finding(struct moat_report *rep, const char *id, GPtrArray *path, const char *fmt, ...)
{
	struct moat_finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = report_add_finding_v(rep, id, path, NULL, fmt, ap);
	va_end(ap);
	return f;
}

struct moat_finding *
report_add_finding_at(struct moat_report *rep, const char *id, const struct moat_part *at,
    const char *fmt, ...)
{
	struct moat_finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = report_add_finding_v(rep, id, NULL, at, fmt, ap);
	va_end(ap);
	return f;
}

gboolean
report_over_budget(struct moat_report *rep)
{
	if (rep->over_budget)
		return TRUE;
	if (rep->deadline == 0 || g_get_monotonic_time() < rep->deadline)
		return FALSE;
	rep->over_budget = TRUE;
	/* what was left was not examined: say how long the scan had run when it stopped */
	report_add_finding(rep, "scan.budget_exceeded", NULL, "stopped %" G_GINT64_FORMAT
	    " ms into the scan, %" G_GINT64_FORMAT " ms past [limits] scan_budget_ms",
	    (g_get_monotonic_time() - rep->started) / 1000,
	    (g_get_monotonic_time() - rep->deadline) / 1000);
	return TRUE;
}

const struct moat_finding *
report_has_finding(const struct moat_report *rep, const char *id)
{
	for (guint i = 0; i < rep->findings->len; i++) {
		const struct moat_finding *f = rep->findings->pdata[i];

		if (strcmp(f->id, id) == 0)
			return f;
	}
	return NULL;
}

/* JSON -------------------------------------------------------------------- */

static void
json_str(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	if (value == NULL) {
		json_builder_add_null_value(b);
	} else {
		/* Mail supplies these bytes: JSON needs valid UTF-8. */
		g_autofree char *valid = g_utf8_make_valid(value, -1);

		json_builder_add_string_value(b, valid);
	}
}

static void
json_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

static void
json_strv(JsonBuilder *b, const char *name, GPtrArray *v)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_array(b);
	for (guint i = 0; i < v->len; i++) {
		g_autofree char *valid = g_utf8_make_valid(v->pdata[i], -1);

		json_builder_add_string_value(b, valid);
	}
	json_builder_end_array(b);
}

/* json_part - P and, nested under "members", what came out of it (CHILDREN: part -> GPtrArray) */
static void
json_part(JsonBuilder *b, const struct moat_part *p, GHashTable *children)
{
	GPtrArray *members = g_hash_table_lookup(children, p);

	json_builder_begin_object(b);
	json_str(b, "id", p->id);
	json_strv(b, "path", p->path);
	json_str(b, "path_display", p->path_display);
	json_int(b, "depth", p->depth);
	json_str(b, "content_type", p->content_type);
	json_str(b, "filename", p->filename);
	json_str(b, "disposition_filename", p->disp_filename);
	json_str(b, "content_type_name", p->type_name);
	json_str(b, "disposition", p->disposition);
	json_str(b, "transfer_encoding", p->transfer_encoding);
	json_builder_set_member_name(b, "attachment");
	json_builder_add_boolean_value(b, p->is_attachment);
	json_builder_set_member_name(b, "salvaged");
	json_builder_add_boolean_value(b, p->salvaged);
	json_int(b, "size", (gint64)p->decoded_size);
	json_str(b, "sha256", p->sha256[0] ? p->sha256 : NULL);
	json_str(b, "sniffed_type", p->sniffed);
	json_int(b, "container_depth", p->container_depth);
	json_builder_set_member_name(b, "hidden");
	json_builder_add_boolean_value(b, p->hidden);
	json_builder_set_member_name(b, "system");
	json_builder_add_boolean_value(b, p->system);
	json_builder_set_member_name(b, "encrypted");
	json_builder_add_boolean_value(b, p->encrypted);
	json_str(b, "derived", p->derived);
	json_str(b, "av_type", p->av_type);
	json_builder_set_member_name(b, "members");
	json_builder_begin_array(b);
	for (guint i = 0; members != NULL && i < members->len; i++)
		json_part(b, members->pdata[i], children);
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static void
json_finding(JsonBuilder *b, const struct moat_finding *f)
{
	json_builder_begin_object(b);
	json_str(b, "id", f->id);
	json_int(b, "score", f->score);
	json_builder_set_member_name(b, "off");
	json_builder_add_boolean_value(b, f->off);
	json_builder_set_member_name(b, "allowed");
	json_builder_add_boolean_value(b, f->allowed);
	json_str(b, "severity", report_severity_name(f->kind->severity));
	json_str(b, "attack", f->kind->attack[0] ? f->kind->attack : NULL);
	json_strv(b, "path", f->path);
	json_str(b, "path_display", f->path_display);
	json_str(b, "evidence", f->evidence);
	json_builder_end_object(b);
}

char *
report_to_json(const struct moat_report *rep, gboolean pretty)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = NULL;
	GHashTable *children;

	json_builder_begin_object(b);
	json_int(b, "schema_version", REPORT_SCHEMA_VERSION);
	json_str(b, "source", rep->source);
	json_int(b, "size", (gint64)rep->size);

	json_builder_set_member_name(b, "envelope");
	json_builder_begin_object(b);
	json_str(b, "client_address", rep->env.client_addr);
	json_str(b, "helo", rep->env.helo);
	json_str(b, "mail_from", rep->env.mail_from);
	json_strv(b, "rcpt_to", rep->env.rcpt_to);
	json_int(b, "rcpt_dropped", rep->env.rcpt_dropped);
	json_str(b, "auth", rep->env.auth);
	json_builder_end_object(b);

	json_builder_set_member_name(b, "headers");
	json_builder_begin_object(b);
	json_str(b, "from", rep->hdr.from);
	json_str(b, "from_name", rep->hdr.from_name);
	json_str(b, "from_address", rep->hdr.from_addr);
	json_str(b, "reply_to", rep->hdr.reply_to);
	json_str(b, "return_path", rep->hdr.return_path);
	json_str(b, "subject", rep->hdr.subject);
	json_str(b, "message_id", rep->hdr.message_id);
	json_str(b, "date", rep->hdr.date);
	json_builder_end_object(b);

	/* MIME parts at the top, each container's members nested under it. */
	children = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
	for (guint i = 0; i < rep->parts->len; i++) {
		const struct moat_part *p = rep->parts->pdata[i];
		GPtrArray *sib;

		if (p->parent == NULL)
			continue;
		if ((sib = g_hash_table_lookup(children, p->parent)) == NULL) {
			sib = g_ptr_array_new();
			g_hash_table_insert(children, p->parent, sib);
		}
		g_ptr_array_add(sib, (gpointer)p);
	}
	json_builder_set_member_name(b, "parts");
	json_builder_begin_array(b);
	for (guint i = 0; i < rep->parts->len; i++)
		if (((const struct moat_part *)rep->parts->pdata[i])->parent == NULL)
			json_part(b, rep->parts->pdata[i], children);
	json_builder_end_array(b);
	g_hash_table_destroy(children);

	json_builder_set_member_name(b, "findings");
	json_builder_begin_array(b);
	for (guint i = 0; i < rep->findings->len; i++)
		json_finding(b, rep->findings->pdata[i]);
	json_builder_end_array(b);
	json_int(b, "findings_dropped", rep->findings_dropped);

	if (rep->auth != NULL)
		auth_to_json(rep->auth, b);

	json_builder_set_member_name(b, "verdict");
	json_builder_begin_object(b);
	json_str(b, "action", report_action_name(rep->verdict.action));
	json_int(b, "score", rep->verdict.score);
	json_strv(b, "reasons", rep->verdict.reasons);
	json_str(b, "direction", report_direction_name(rep->verdict.direction));
	json_str(b, "allowed", rep->verdict.allowed);
	json_builder_end_object(b);

	json_builder_end_object(b);

	root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, pretty);
	return json_generator_to_data(gen, NULL);
}
