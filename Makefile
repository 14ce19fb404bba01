# minyi: one non-recursive GNU Makefile.
#   make            build bin/minyi and the four daemons
#   make run        build and start the whole pipeline on config/minyi.json
#   make test       build and run every test (unit + end-to-end)
#   make test-tcp   the end-to-end scenarios over tcp:// with CURVE
#   make check      the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (figures printed, written to bench/results/)
#   make install    PREFIX=/usr/local DESTDIR= (SYSCONFDIR=/etc, UNITDIR, MANDIR)
#   make package    the Debian package (dpkg-buildpackage) in build/package/
#   make package-test  build it, lintian it, install it on this machine, check it
#   make clean
# Library flags come from pkg-config.  Code that is not a program's main file
# goes into one static library, so tests link exactly what they use.

PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
CC      ?= cc
PKGS    := libzmq libcjson libpcre2-8 sqlite3 libhs zlib libsystemd libmicrohttpd libsodium

# --version: `git describe` of a tag vX.Y.Z, else the base version plus the
# commit, else (a tarball) the base version; MINYI_VERSION=... overrides it.
VERSION_BASE := 1.0.0
ifndef MINYI_VERSION
MINYI_VERSION := $(shell v=$$(git describe --tags --match 'v[0-9]*' 2>/dev/null) && echo $${v\#v} \
                   || { h=$$(git rev-parse --short HEAD 2>/dev/null) && echo $(VERSION_BASE)+g$$h; } \
                   || echo $(VERSION_BASE))
endif

BUILD   ?= build
BIN     ?= bin
OPT     ?= -O2
SAN     ?=
# The tests move the daemons' wall clock ($MINYI_TEST_CLOCK, common/daemon.c);
# build packages with TEST_CLOCK=0, which leaves that out.
TEST_CLOCK ?= 1
WERROR  ?= -Werror
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes $(WERROR)
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(if $(filter 1,$(TEST_CLOCK)),-DMINYI_TEST_CLOCK) $(OPT) -g $(WARN) $(SAN) -Icommon \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CPPFLAGS) $(CFLAGS)
LDLIBS_ALL = $(SAN) $(LDFLAGS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm $(LDLIBS)

PROGS    := minyi-collector minyi-router minyi-archiver minyi-web minyi
MAINS    := collector/collector.c router/router.c archiver/archiver.c web/web.c cli/minyi.c
LIB_SRC  := $(filter-out $(MAINS),$(wildcard common/*.c collector/*.c router/*.c \
                                               archiver/*.c cli/*.c web/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libminyi.a
TEST_SRC := $(wildcard tests/unit/test_*.c)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DEPS     := $(BUILD)/.deps-ok

MANS     := minyi.1 minyi-collector.8 minyi-router.8 minyi-archiver.8 minyi-web.8 \
            minyi.json.5 minyi-rules.5
MAN_OUT  := $(MANS:%=$(BUILD)/man/%)
TOOLS    := $(BUILD)/bench/minyi-load $(BUILD)/bench/minyi-route-bench \
            $(BUILD)/bench/minyi-archive-bench

.PHONY: all programs run test test-tcp check valgrind bench fault fuzz install clean deps package package-test
all: programs $(TESTS) $(TOOLS)
programs: $(PROGS:%=$(BIN)/%) $(MAN_OUT)

# Man pages: scdoc sources beside the code's docs.
$(BUILD)/man/%: docs/man/%.scd | $(DEPS)
	@mkdir -p $(dir $@)
	scdoc <$< >$@

deps $(DEPS):
	@scripts/deps.sh build
	@mkdir -p $(BUILD) && touch $(DEPS)

$(BUILD)/bench/%.o: CFLAGS_ALL += -Iarchiver
$(BUILD)/%.o: %.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# The archiver's schema is compiled in (archiver_schema.sql -> a C string).
$(BUILD)/archiver/archiver_schema.h: archiver/archiver_schema.sql
	@mkdir -p $(dir $@)
	@{ echo 'static const char archiver_schema_sql[] ='; \
	   sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	   echo '    ;'; } > $@
$(BUILD)/archiver/archiver_store.o: $(BUILD)/archiver/archiver_schema.h
$(BUILD)/archiver/archiver_store.o: CFLAGS_ALL += -I$(BUILD)/archiver

# The web door's pages are compiled in: web/static/* -> a table of C strings.
WEB_STATIC := $(sort $(wildcard web/static/*))
$(BUILD)/web/web_assets.h: $(WEB_STATIC)
	@mkdir -p $(dir $@)
	@{ echo 'struct web_asset { const char *name, *type, *body; };'; \
	   echo 'static const struct web_asset web_assets[] = {'; \
	   for f in $(WEB_STATIC); do \
	     case $$f in *.html) t='text/html; charset=utf-8';; *.js) t='text/javascript; charset=utf-8';; \
	       *.css) t='text/css; charset=utf-8';; *.svg) t='image/svg+xml';; *) t='application/octet-stream';; esac; \
	     echo "  {\"$$(basename $$f)\", \"$$t\","; \
	     sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $$f; \
	     echo '  },'; \
	   done; echo '};'; } > $@
$(BUILD)/web/web_route.o: $(BUILD)/web/web_assets.h
$(BUILD)/web/web_route.o: CFLAGS_ALL += -I$(BUILD)/web
$(BUILD)/web/%.o: CFLAGS_ALL += -Iweb
# The version is compiled into common/version.c alone; the header is
# rewritten only when the version changed.
$(BUILD)/version_gen.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define MINYI_VERSION "$(MINYI_VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/common/version.o: $(BUILD)/version_gen.h
$(BUILD)/common/version.o: CFLAGS_ALL += -I$(BUILD)
# where an installed minyi finds its config without -c
$(BUILD)/common/config.o: CFLAGS_ALL += -DCONFIG_SYSTEM='"$(SYSCONFDIR)/minyi/minyi.json"'
FORCE:

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/minyi-collector: $(BUILD)/collector/collector.o $(LIB)
$(BIN)/minyi-router:    $(BUILD)/router/router.o $(LIB)
$(BIN)/minyi-archiver:  $(BUILD)/archiver/archiver.o $(LIB)
$(BIN)/minyi-web:       $(BUILD)/web/web.o $(LIB)
$(BIN)/minyi:           $(BUILD)/cli/minyi.o $(LIB)
$(BIN)/%:
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/bench/minyi-load: $(BUILD)/bench/load.o $(LIB)
$(BUILD)/bench/minyi-route-bench: $(BUILD)/bench/route_bench.o $(BUILD)/bench/bench_corpus.o $(LIB)
$(BUILD)/bench/minyi-archive-bench: $(BUILD)/bench/archive_bench.o $(BUILD)/bench/bench_corpus.o $(LIB)
$(TOOLS):
	$(CC) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit -Icollector -Iarchiver -Icli -Iweb -o $@ $< $(LIB) $(LDLIBS_ALL)

run: all
	$(BIN)/minyi up

test: all
	@scripts/deps.sh test
	@BUILD=$(abspath $(BUILD)) BIN=$(abspath $(BIN)) tests/run.sh

# every end-to-end scenario with every endpoint on tcp://127.0.0.1 and CURVE
# (tests/e2e/lib.sh: MINYI_E2E_TCP; scenarios about ipc:// itself skip)
test-tcp: all
	@scripts/deps.sh test
	@BUILD=$(abspath $(BUILD)) BIN=$(abspath $(BIN)) MINYI_E2E_TCP=1 TESTS='[0-9]*.sh' tests/run.sh

check:
	MINYI_SANITIZED=1 $(MAKE) BUILD=build/san BIN=build/san/bin OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" test

# every end-to-end scenario with each daemon under valgrind memcheck
valgrind: all
	@scripts/deps.sh test
	@BUILD=$(abspath $(BUILD)) BIN=$(abspath $(BIN)) MINYI_VALGRIND=1 TESTS='[0-9]*.sh' tests/run.sh

fault: all
	@scripts/deps.sh test
	@BUILD=$(abspath $(BUILD)) BIN=$(abspath $(BIN)) FAULT_N=$${FAULT_N:-20000} \
	    FAULT_KILLS=$${FAULT_KILLS:-10} bash tests/fault/fault.sh
	@BUILD=$(abspath $(BUILD)) BIN=$(abspath $(BIN)) DAMAGE_ROUNDS=$${DAMAGE_ROUNDS:-40} \
	    bash tests/fault/damage.sh
	@BIN=$(abspath $(BIN)) FED_N=$${FED_N:-1000} FED_FAULTS=$${FED_FAULTS:-200} \
	    bash tests/e2e/64-federation.sh

fuzz:
	@scripts/deps.sh check
	@tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

bench: all
	@scripts/deps.sh bench
	@BIN=$(abspath $(BIN)) BUILD=$(BUILD) bench/run.sh

# The FHS layout: programs in PREFIX/bin, the config in SYSCONFDIR/minyi
# (an existing file is kept), units, man pages, bash completion, and the
# state directory /var/lib/minyi (sockets: /run/minyi, made by the units
# and tmpfiles.d).
install: programs
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/minyi $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/lib/tmpfiles.d
	install -d -m 750 $(DESTDIR)/var/lib/minyi
	install -m 755 $(PROGS:%=$(BIN)/%) $(DESTDIR)$(PREFIX)/bin/
	@for f in service/minyi.json config/rules.json config/members.json; do \
	    t=$(DESTDIR)$(SYSCONFDIR)/minyi/$${f##*/}; \
	    if [ -e $$t ]; then echo "install: keeping $$t"; else install -m 644 $$f $$t; fi; done
	for u in collector router archiver web; do \
	    sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        service/minyi-$$u.service.in >$(DESTDIR)$(UNITDIR)/minyi-$$u.service; \
	    chmod 644 $(DESTDIR)$(UNITDIR)/minyi-$$u.service; done
	install -m 644 service/minyi.target $(DESTDIR)$(UNITDIR)/
	install -m 644 service/minyi.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/minyi.conf
	install -m 644 service/minyi.bash-completion \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/minyi
	install -m 644 $(filter %.1,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(filter %.5,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(filter %.8,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man8/

# The Debian package, built from a copy of the tree (so nothing lands beside
# it): build/package/minyi_*.deb.  package-test also lintians and installs it.
package:
	@scripts/deps.sh package
	@tests/package/build.sh $(abspath $(BUILD))/package

package-test:
	@scripts/deps.sh package
	@BUILD=$(abspath $(BUILD)) tests/package/run.sh

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(MAINS:%.c=$(BUILD)/%.d) $(BUILD)/bench/load.d $(BUILD)/bench/route_bench.d \
           $(BUILD)/bench/archive_bench.d $(BUILD)/bench/bench_corpus.d
