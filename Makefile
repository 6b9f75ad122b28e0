# moat - one entry point: make, make check, make demo, make asan, make deps
#
# Objects go to $(BUILD) (build/ normally, build-asan/ for the sanitizer
# run, build-fuzz/ later), so the builds never mix objects.

BUILD	?= build
CC	?= cc
WARN	= -std=gnu11 -Wall -Wextra -Werror -Wformat=2 -Wshadow \
	  -Wstrict-prototypes -Wmissing-prototypes
CFLAGS	?= -O2 -g
SAN	= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=all
LDFLAGS	?=

PKGS	= gmime-3.0 glib-2.0 json-glib-1.0 libclamav libarchive libcrypto sqlite3 libpq \
	  opendkim libidn2 zlib libxml-2.0
# Library headers come in with -isystem so their warnings never fail our build.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lspf2 -lopendmarc -lresolv -lm
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

# Third-party corpora (README, "Test data"): ../shared/testdata beside the
# checkout, else tests/data/ (git-ignored, filled by scripts/testdata.sh),
# else none. A test whose corpus is missing is skipped, named as it is and
# again at the end of `make check`. TESTDATA=DIR picks another folder.
ifndef TESTDATA
TESTDATA := $(firstword $(wildcard $(abspath ../shared/testdata) $(CURDIR)/tests/data))
endif
# the corpora the tests read, and the fuzz seeds among them
CORPORA = mime-mimekit mime-cpython-email mime-gmime mime-evasion-noxxi tnef-mimekit ham-spamassassin
# corpus_dirs NAMES - the folders of the corpora NAMES that TESTDATA has
corpus_dirs = $(if $(TESTDATA),$(wildcard $(addprefix $(TESTDATA)/,$(1))))
CORPORA_MISSING = $(filter-out $(notdir $(call corpus_dirs,$(CORPORA))),$(CORPORA))
SEED_CORPORA_MISSING = $(filter mime-mimekit mime-cpython-email mime-gmime mime-evasion-noxxi,$(CORPORA_MISSING))
CPPFLAGS += -Iinclude $(PKG_CFLAGS) -D_GNU_SOURCE -DMOAT_DATADIR='"$(PREFIX)/share/moat"'

# quarantine/ goes into the same archive: conf.c lists its [quarantine] rows.
# web/webconf.c: the [web] rows, so every program reads a [web] group
LIB_SRCS = $(wildcard scanners/*.c scanners/*/*.c quarantine/*.c) web/webconf.c
CLI_SRCS = $(wildcard cli/*.c)
MILTER_SRCS = $(wildcard milter/*.c)
TEST_SRCS = $(wildcard tests/unit/*.c)
# moat-web (web/): libmicrohttpd and libsodium are its alone, but for web/users.c,
# which moat links too (moat web user: the Argon2id hashes)
WEB_SRCS = $(filter-out web/webconf.c,$(wildcard web/*.c))
WEB_LIBS = $(shell pkg-config --libs libmicrohttpd libsodium 2>/dev/null)

LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/%.o)
MILTER_OBJS = $(MILTER_SRCS:%.c=$(BUILD)/%.o)
# moatd's core without main(): the unit tests drive it too
MILTER_CORE = $(filter-out $(BUILD)/milter/main.o $(BUILD)/milter/mlfi.o,$(MILTER_OBJS))
TEST_OBJS = $(TEST_SRCS:%.c=$(BUILD)/%.o)
WEB_OBJS = $(WEB_SRCS:%.c=$(BUILD)/%.o)
# moat-web without main(): the unit tests and fuzz_web drive it too
WEB_CORE = $(filter-out $(BUILD)/web/main.o,$(WEB_OBJS))

LIB	= $(BUILD)/libmoatscan.a
MOAT	= $(BUILD)/moat
MOATD	= $(BUILD)/moatd
MOATWEB	= $(BUILD)/moat-web
CHECKS	= $(BUILD)/check_moat
# moat.conf(5): man/moat.conf.5.in with its @KEYS@ line replaced by the key table
MANCONF	= $(BUILD)/man/moat.conf.5

# Fuzzing: clang's libFuzzer with ASan + UBSan, objects in build-fuzz/.
# A harness is tests/fuzz/fuzz_NAME.c plus one SEEDS_NAME line below.
FUZZ_BUILD   = build-fuzz
FUZZ_SAN     = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	       -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 10
FUZZ_NAMES   = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
SEEDS_scan   = samples $(call corpus_dirs,mime-mimekit mime-cpython-email mime-evasion-noxxi)
SEEDS_mime   = samples $(call corpus_dirs,mime-mimekit mime-cpython-email mime-gmime)
SEEDS_conf   = conf
SEEDS_milter = samples/demo samples/mime
SEEDS_walk   = /usr/share/clamav-testfiles build/fixtures build/fixtures/lures $(FUZZ_BUILD)/seeds/zipdir
SEEDS_zipdir = $(FUZZ_BUILD)/seeds/zipdir build/fixtures /usr/share/clamav-testfiles
SEEDS_diskimg = $(FUZZ_BUILD)/seeds/diskimg
# candidate passwords in front of ZipCrypto archives tests/fuzz/decrypt_seeds.py writes
SEEDS_decrypt = $(FUZZ_BUILD)/seeds/decrypt
# the fixtures' archives and pages: smuggled files, ZIPs the body's passwords open
SEEDS_derive = build/fixtures build/fixtures/lures
SEEDS_office = $(FUZZ_BUILD)/seeds/office
# the first lines of a message stand for the envelope and header fields
SEEDS_quarantine = samples/demo
# an SPF and a DMARC record line in front of the DKIM corpora's messages
SEEDS_auth = $(FUZZ_BUILD)/seeds/auth
SEEDS_banner = samples/demo samples/mime $(call corpus_dirs,mime-mimekit mime-gmime)
SEEDS_password = samples $(call corpus_dirs,ham-spamassassin/easy_ham ham-spamassassin/hard_ham)
SEEDS_script = build/fixtures/lures
SEEDS_web = $(FUZZ_BUILD)/seeds/web
# generated seed directories: tests/fuzz/NAME_seeds.py DIR
FUZZ_SEEDS   = $(patsubst tests/fuzz/%_seeds.py,$(FUZZ_BUILD)/seeds/%,$(wildcard tests/fuzz/*_seeds.py))

PREFIX	?= /usr/local
SYSCONFDIR ?= /etc

.PHONY: conformance integration miltertest install bench all deps testdata skipped check test unit cli-test expect asan valgrind demo clean fuzz fuzz-build fuzz-check test-build FORCE

all: $(MOAT) $(MOATD) $(MOATWEB) $(MANCONF)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -I. $(CHECK_CFLAGS) \
	    -DSAMPLES_DIR='"$(CURDIR)/samples"' -DTESTDATA_DIR='"$(TESTDATA)"' \
	    -DBUILD_DIR='"$(CURDIR)/$(BUILD)"' -MMD -MP -c -o $@ $<

# The test objects have TESTDATA_DIR compiled in: rebuild them when TESTDATA
# changes (scripts/testdata.sh filled tests/data, or TESTDATA=DIR was given).
$(BUILD)/testdata.path: FORCE
	@mkdir -p $(BUILD)
	@echo '$(TESTDATA)' | cmp -s - $@ || echo '$(TESTDATA)' >$@
$(TEST_OBJS): $(BUILD)/testdata.path

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(MOAT): $(CLI_OBJS) $(BUILD)/web/users.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/web/users.o $(LIB) $(PKG_LIBS) -lsodium

$(MOATWEB): $(WEB_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(WEB_OBJS) $(LIB) $(PKG_LIBS) $(WEB_LIBS) -pthread

# the style sheet goes into moat-web itself (.incbin)
$(BUILD)/web/static.o: web/style.css

$(MOATD): $(MILTER_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(MILTER_OBJS) $(LIB) $(PKG_LIBS) -lmilter -pthread

# The keys come from the table the parser uses (moat config reference --man), so
# the page is remade whenever moat is.
$(MANCONF): man/moat.conf.5.in $(MOAT)
	@mkdir -p $(dir $@)
	$(MOAT) config reference --man >$@.keys
	sed -e '/^@KEYS@$$/{r $@.keys' -e 'd;}' man/moat.conf.5.in >$@.tmp
	rm -f $@.keys
	mv $@.tmp $@

$(CHECKS): $(TEST_OBJS) $(MILTER_CORE) $(WEB_CORE) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(TEST_OBJS) $(MILTER_CORE) $(WEB_CORE) $(LIB) $(PKG_LIBS) \
	    $(WEB_LIBS) $(CHECK_LIBS)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(MILTER_CORE) $(LIB)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -I. -fsanitize=fuzzer -o $@ $< $(MILTER_CORE) $(LIB) $(PKG_LIBS)

# fuzz_web: moat-web's own parsing, with moat-web's objects
$(BUILD)/fuzz_web: tests/fuzz/fuzz_web.c $(WEB_CORE) $(LIB)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -I. -fsanitize=fuzzer -o $@ $< $(WEB_CORE) $(LIB) $(PKG_LIBS) \
	    $(WEB_LIBS)

fuzz-build:
	$(MAKE) -j2 $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%) BUILD=$(FUZZ_BUILD) CC=clang \
	    CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" LDFLAGS="$(FUZZ_SAN)"

$(FUZZ_BUILD)/seeds/%: tests/fuzz/%_seeds.py
	rm -rf $@
	python3 $< $@

# fuzz: each harness for FUZZ_SECONDS; fuzz-check: the short pass make check runs.
fuzz: fuzz-build $(FUZZ_SEEDS)
	@set -e; $(foreach n,$(FUZZ_NAMES),sh tests/fuzz/run.sh $(FUZZ_BUILD) $(n) $(FUZZ_SECONDS) $(SEEDS_$(n));)

fuzz-check: fuzz-build $(FUZZ_SEEDS)
	@$(MAKE) --no-print-directory -j2 $(FUZZ_NAMES:%=fuzz-check-%)

# fuzz-check-NAME: one harness's short pass; a harness is one process, so
# fuzz-check runs two at a time on two cores
fuzz-check-%:
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $* $(FUZZ_CHECK_SECONDS) $(SEEDS_$*)

# conformance: the public SPF, DKIM and DMARC suites in the test data, each a
# program tests/conformance/NAME.c; tests/conformance/run.sh compares what
# passes with the recorded tests/conformance/NAME.pass (RECORD=1 rewrites them)
CONFORMANCE = $(patsubst tests/conformance/%.c,$(BUILD)/conformance_%,$(wildcard tests/conformance/*.c))

$(BUILD)/conformance_%: tests/conformance/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -I. -o $@ $< $(LIB) $(PKG_LIBS) -lyaml

conformance: $(CONFORMANCE)
	sh tests/conformance/run.sh $(BUILD) '$(TESTDATA)' $(if $(RECORD),record)

$(BUILD)/moat-bench: tests/bench/bench.c $(LIB)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

# the Postfix bench's null milter and its injector (tests/bench/postfix.sh)
$(BUILD)/quarbench: tests/bench/quarbench.c $(LIB)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

# a store of many held items for moat-web's page times (tests/bench/web.sh)
$(BUILD)/webfill: tests/bench/webfill.c $(LIB)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(BUILD)/nullmilter: tests/bench/nullmilter.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< -lmilter -pthread

$(BUILD)/pfinject: tests/bench/pfinject.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< -pthread

# bench: scan rates on the ham corpus and a generated one, the ratio to clamscan and
# synthetic signature databases; then mail through a private Postfix alone, with null
# milters and with moatd (as root; see tests/bench/postfix.sh)
bench: deps testdata $(MOAT) $(MOATD) $(BUILD)/moat-bench $(BUILD)/nullmilter $(BUILD)/pfinject \
    $(BUILD)/quarbench
	sh tests/bench/run.sh $(BUILD) $(TESTDATA)
	$(BUILD)/quarbench $(BUILD)
	sh tests/with-pg.sh sh -c '$(BUILD)/quarbench $(BUILD) 400 2 "$$MOAT_TEST_PG"'
	sh tests/bench/postfix.sh $(BUILD)
	sh tests/bench/held.sh $(BUILD)

# install: binaries, the man pages, /etc/moat/moat.conf (kept if present),
# moat's ClamAV signatures and side-loading pairs, the systemd unit, the moat user, and postfix in
# group moat so it can reach the socket.
install: $(MOAT) $(MOATD) $(MOATWEB) $(MANCONF)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)/moat \
	    $(DESTDIR)$(PREFIX)/share/doc/moat $(DESTDIR)$(SYSCONFDIR)/systemd/system \
	    $(DESTDIR)$(PREFIX)/share/moat/signatures $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(MOAT) $(DESTDIR)$(PREFIX)/bin/moat
	install -m 0755 $(MOATD) $(DESTDIR)$(PREFIX)/sbin/moatd
	install -m 0755 $(MOATWEB) $(DESTDIR)$(PREFIX)/bin/moat-web
	install -m 0644 man/moat.1 $(DESTDIR)$(PREFIX)/share/man/man1/moat.1
	install -m 0644 $(MANCONF) $(DESTDIR)$(PREFIX)/share/man/man5/moat.conf.5
	install -m 0644 man/moatd.8 $(DESTDIR)$(PREFIX)/share/man/man8/moatd.8
	test -e $(DESTDIR)$(SYSCONFDIR)/moat/moat.conf || \
	    install -m 0644 conf/moat.conf $(DESTDIR)$(SYSCONFDIR)/moat/moat.conf
	install -m 0644 conf/moatd.service $(DESTDIR)$(SYSCONFDIR)/systemd/system/moatd.service
	install -m 0644 conf/moat-web.service $(DESTDIR)$(SYSCONFDIR)/systemd/system/moat-web.service
	install -m 0644 conf/signatures/*.ndb $(DESTDIR)$(PREFIX)/share/moat/signatures/
	install -m 0644 conf/sideload.pairs $(DESTDIR)$(PREFIX)/share/moat/sideload.pairs
	install -d $(DESTDIR)$(PREFIX)/share/moat/banners
	install -m 0644 conf/banners/*.conf $(DESTDIR)$(PREFIX)/share/moat/banners/
	install -m 0644 README.md conf/postfix-main.cf.snippet conf/sendmail.mc.snippet \
	    $(DESTDIR)$(PREFIX)/share/doc/moat/
	if [ -z "$(DESTDIR)" ]; then \
	    getent group moat >/dev/null || groupadd --system moat; \
	    getent passwd moat >/dev/null || useradd --system --gid moat --home-dir /nonexistent \
	        --shell /usr/sbin/nologin moat; \
	    ! getent passwd postfix >/dev/null || usermod -a -G moat postfix; \
	    install -d -o moat -g moat -m 2770 /var/lib/moat /var/lib/moat/quarantine; \
	fi

deps:
	sh scripts/deps.sh

# testdata: where the corpora are and which are missing (never fails)
testdata:
	@echo "test data: $(or $(TESTDATA),none (no ../shared/testdata, no tests/data))"
	@$(if $(CORPORA_MISSING),echo "test data: missing $(CORPORA_MISSING);" \
	    "the tests that read them are skipped (get them: scripts/testdata.sh, README \"Test data\")",:)

# skipped: what the last unit run and the fuzz seeds went without
skipped:
	@if [ -s $(BUILD)/skipped.txt ] || [ -n "$(SEED_CORPORA_MISSING)" ]; then \
	    echo "skipped, their corpus is not in the test data ($(or $(TESTDATA),none found)):"; \
	    sed 's/^/  unit test /' $(BUILD)/skipped.txt 2>/dev/null; \
	    $(if $(SEED_CORPORA_MISSING),echo "  fuzz seeds $(SEED_CORPORA_MISSING) (fuzz_scan and fuzz_mime start from the rest)";) \
	    echo "get them: sh scripts/testdata.sh (fetches some, says where the rest are), README \"Test data\""; \
	else echo "skipped: nothing (test data: $(TESTDATA))"; fi

# check: install what is missing, then every test in a normal build and
# again under AddressSanitizer + UndefinedBehaviorSanitizer; last, the tests
# skipped for want of test data.
# test-build: every program `make test` runs, built two at a time; the tests
# then run one after another (they share ports, Postfix and PostgreSQL)
test-build: all $(CHECKS) $(CONFORMANCE)

check: deps testdata
	$(MAKE) -j2 test-build
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) fuzz-check
	@$(MAKE) --no-print-directory skipped

test: unit cli-test conformance integration miltertest hostile

# hostile: the security review's inputs (tests/hostile/gen.py builds them in
# $(BUILD)/hostile), scanned by moat; under sanitizers the RSS limit is skipped
.PHONY: hostile
hostile: $(MOAT)
	HOSTILE_SANITIZER=$(if $(findstring -fsanitize,$(CFLAGS)),1,0) \
	    sh tests/hostile/run.sh $(MOAT) conf $(BUILD)/hostile

# integration: moatd behind a private Postfix (needs root; see tests/integration/run.sh);
# auth.sh runs it in a network namespace with its own nsd
integration: $(MOATD) $(MOAT) $(MOATWEB)
	sh tests/integration/run.sh $(MOATD)
	sh tests/integration/quarantine.sh $(MOATD)
	sh tests/integration/multinode.sh $(MOATD)
	sh tests/integration/auth.sh $(MOATD)
	sh tests/integration/banner.sh $(MOATD)
	sh tests/integration/web.sh $(MOATD)

# miltertest: moatd against the Sendmail flavour of the milter protocol (see tests/miltertest/run.sh)
miltertest: $(MOATD)
	sh tests/miltertest/run.sh $(MOATD)

# The quarantine's interface tests run on each backend: PostgreSQL's in a
# private cluster tests/with-pg.sh starts and stops around the suites.
unit: $(CHECKS) $(MOAT)
	sh samples/build-binary.sh $(BUILD)/samples >/dev/null
	sh tests/fixtures/build.sh $(BUILD)/fixtures >/dev/null
	sh tests/with-pg.sh $(CHECKS)

# the lure fixtures (tests/fixtures/lures.py) go through `moat scan --json` too
cli-test: $(MOAT) $(MANCONF)
	sh tests/cli/run.sh $(MOAT)
	sh tests/fixtures/build.sh $(BUILD)/fixtures >/dev/null
	sh tests/cli/lures.sh $(BUILD) $(BUILD)/fixtures

# expect: rewrite the golden reports tests/unit/expect/SAMPLE.json, moat scan
# --json of samples/SAMPLE.eml as tests/cli/golden.sh makes it (fixed config,
# nothing that varies between runs); tests/cli/run.sh fails on any difference
# and shows it. Run it when a report changes on purpose; review the diff.
EXPECT_SAMPLES = $(patsubst samples/%.eml,%,$(wildcard samples/demo/*.eml)) \
		 real/forwarded-with-attachment real/apple-inline-image
expect: $(MOAT)
	rm -f tests/unit/expect/*/*.json
	@set -e; for s in $(EXPECT_SAMPLES); do \
	    mkdir -p tests/unit/expect/$$(dirname $$s); \
	    sh tests/cli/golden.sh $(MOAT) $$s >tests/unit/expect/$$s.json.tmp; \
	    mv tests/unit/expect/$$s.json.tmp tests/unit/expect/$$s.json; \
	    echo "tests/unit/expect/$$s.json"; \
	done

asan:
	$(MAKE) -j2 test-build BUILD=build-asan CFLAGS="$(SAN)" LDFLAGS="$(SAN)"
	CK_FORK=no ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(MAKE) test BUILD=build-asan CFLAGS="$(SAN)" LDFLAGS="$(SAN)"

valgrind: $(CHECKS)
	CK_FORK=no valgrind --error-exitcode=1 --leak-check=full $(CHECKS)

demo: deps $(MOAT) $(MOATD)
	sh scripts/demo.sh $(MOAT) $(MOATD)

clean:
	rm -rf build build-asan $(FUZZ_BUILD)

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(MILTER_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(WEB_OBJS:.o=.d)
