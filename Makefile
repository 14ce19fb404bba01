# minyi: one non-recursive GNU Makefile.
#   make            build bin/minyi and the three daemons
#   make run        build and start the whole pipeline on config/minyi.json
#   make test       build and run every test (unit + end-to-end)
#   make check      the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (figures printed, written to bench/results/)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
# Library flags come from pkg-config.  Code that is not a program's main file
# goes into one static library, so tests link exactly what they use.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := libzmq libcjson libpcre2-8 sqlite3 libhs zlib

BUILD   ?= build
BIN     ?= bin
OPT     ?= -O2
SAN     ?=
# The tests move the daemons' wall clock ($MINYI_TEST_CLOCK, common/daemon.c);
# build packages with TEST_CLOCK=0, which leaves that out.
TEST_CLOCK ?= 1
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(if $(filter 1,$(TEST_CLOCK)),-DMINYI_TEST_CLOCK) $(OPT) -g $(WARN) $(SAN) -Icommon \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL = $(SAN) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm $(LDLIBS)

PROGS    := minyi-collector minyi-router minyi-archiver minyi
MAINS    := collector/collector.c router/router.c archiver/archiver.c cli/minyi.c
LIB_SRC  := $(filter-out $(MAINS),$(wildcard common/*.c collector/*.c router/*.c \
                                               archiver/*.c cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libminyi.a
TEST_SRC := $(wildcard tests/unit/test_*.c)
TESTS    := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DEPS     := $(BUILD)/.deps-ok

TOOLS    := $(BUILD)/bench/minyi-load $(BUILD)/bench/minyi-route-bench \
            $(BUILD)/bench/minyi-archive-bench

.PHONY: all run test check valgrind bench fault fuzz install clean deps
all: $(PROGS:%=$(BIN)/%) $(TESTS) $(TOOLS)

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

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/minyi-collector: $(BUILD)/collector/collector.o $(LIB)
$(BIN)/minyi-router:    $(BUILD)/router/router.o $(LIB)
$(BIN)/minyi-archiver:  $(BUILD)/archiver/archiver.o $(LIB)
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
	$(CC) $(CFLAGS_ALL) -Itests/unit -Icollector -Iarchiver -Icli -o $@ $< $(LIB) $(LDLIBS_ALL)

run: all
	$(BIN)/minyi up

test: all
	@scripts/deps.sh test
	@BUILD=$(abspath $(BUILD)) BIN=$(abspath $(BIN)) tests/run.sh

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
	    bash tests/e2e/54-federation.sh

fuzz:
	@scripts/deps.sh check
	@tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

bench: all
	@scripts/deps.sh bench
	@BIN=$(abspath $(BIN)) BUILD=$(BUILD) bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/minyi/config
	install -m 755 $(PROGS:%=$(BIN)/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 config/*.json $(DESTDIR)$(PREFIX)/share/minyi/config/

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(MAINS:%.c=$(BUILD)/%.d) $(BUILD)/bench/load.d $(BUILD)/bench/route_bench.d \
           $(BUILD)/bench/archive_bench.d $(BUILD)/bench/bench_corpus.d
