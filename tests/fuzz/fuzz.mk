# libFuzzer targets (tests/fuzz/README.md), included by Makefile.am.
# `make fuzz` builds them with clang, apart from the normal build (no
# libtool, objects of their own under tests/fuzz/build), and runs each for
# FUZZ_TIME seconds: `make fuzz FUZZ_TIME=60` in CI, FUZZ_TIME=0 only
# replays the seeds and regressions, FUZZ_TARGETS="jwt pct" picks some.
FUZZ_CC = clang
FUZZ_TIME = 600
FUZZ_BUILD = tests/fuzz/build
FUZZ_ARTIFACTS = tests/fuzz/artifacts
FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined
# The house warnings but one: clang, unlike gcc, also flags the format
# argument of a v*printf wrapper, which is a parameter by design.
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) -Wall -Wextra \
	-Wformat=2 -Wno-format-nonliteral -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-Wno-missing-field-initializers
FUZZ_CPPFLAGS = $(DEFS) -I$(top_builddir) -I$(top_srcdir) $(AM_CPPFLAGS)
FUZZ_LIBS = $(lib_libgatehouse_la_LIBADD)
FUZZ_LIB_OBJS = $(lib_libgatehouse_la_SOURCES:%.c=$(FUZZ_BUILD)/%.o)

# A target is a name here, tests/fuzz/fuzz_<name>.c and corpus/<name>/
# (optional: <name>.dict, <name>.flags); a line naming the objects it
# needs beyond lib/ as prerequisites of its program, when it has any.
FUZZ_TARGETS = json_body params pct jwt cookie b64url time
FUZZ_TARGETS += sniff
$(FUZZ_BUILD)/fuzz_sniff: $(FUZZ_BUILD)/fcgi/media/sniff.o
FUZZ_TARGETS += multipart
FUZZ_TARGETS += dpop
# The fixed keys that sign the tokens and proofs jwt and dpop check.
$(FUZZ_BUILD)/fuzz_jwt: $(FUZZ_BUILD)/tests/fuzz/fuzz_keys.o
$(FUZZ_BUILD)/fuzz_dpop: $(FUZZ_BUILD)/tests/fuzz/fuzz_keys.o
FUZZ_TARGETS += otp webhook
$(FUZZ_BUILD)/fuzz_webhook: $(FUZZ_BUILD)/fcgi/payment/signature.o
$(FUZZ_BUILD)/fuzz_otp: $(FUZZ_BUILD)/fcgi/auth/otp.o
$(FUZZ_BUILD)/fuzz_multipart: $(FUZZ_BUILD)/fcgi/media/multipart.o

FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# Kept between runs, so that a second `make fuzz` rebuilds only what changed.
.SECONDARY: $(FUZZ_LIB_OBJS) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o)

fuzz: fuzz-build
	@FUZZ_TIME='$(FUZZ_TIME)' \
	    FUZZ_BUILD='$(abs_top_builddir)/$(FUZZ_BUILD)' \
	    FUZZ_ARTIFACTS='$(abs_top_builddir)/$(FUZZ_ARTIFACTS)' \
	    FUZZ_SRCDIR='$(abs_top_srcdir)/tests/fuzz' \
	    $(SHELL) $(srcdir)/tests/fuzz/run $(FUZZ_TARGETS)

fuzz-build: $(FUZZ_BINS)

# Whether FUZZ_CC can make a fuzzer at all, said once and plainly.
$(FUZZ_BUILD)/cc-ok: $(srcdir)/tests/fuzz/fuzz.mk
	@$(MKDIR_P) $(@D)
	@echo 'int LLVMFuzzerTestOneInput(void) { return 0; }' \
	    >$(FUZZ_BUILD)/cc-ok.c
	@$(FUZZ_CC) $(FUZZ_SANITIZE) -fsanitize=fuzzer \
	    -o $(FUZZ_BUILD)/cc-ok.bin $(FUZZ_BUILD)/cc-ok.c || \
	    { echo "fuzz: '$(FUZZ_CC)' cannot build" \
	    "libFuzzer programs: apt-get install clang libclang-rt-dev" \
	    "(script/bootstrap does), or set FUZZ_CC" >&2; exit 1; }
	@touch $@

$(FUZZ_BUILD)/%.o: $(srcdir)/%.c $(pkginclude_HEADERS) \
    $(srcdir)/tests/fuzz/fuzz.h $(srcdir)/tests/fuzz/fuzz_keys.h \
    $(wildcard $(srcdir)/fcgi/*/*.h) \
    | $(FUZZ_BUILD)/cc-ok
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ \
	    $(FUZZ_LIBS)

clean-local: clean-fuzz
clean-fuzz:
	-rm -rf $(FUZZ_BUILD)
distclean-local:
	-rm -rf $(FUZZ_ARTIFACTS)

.PHONY: fuzz fuzz-build clean-fuzz

EXTRA_DIST += tests/fuzz/README.md tests/fuzz/run \
	tests/fuzz/fuzz.h tests/fuzz/fuzz_keys.h tests/fuzz/.gitignore \
	$(wildcard $(srcdir)/tests/fuzz/fuzz_*.c) \
	$(wildcard $(srcdir)/tests/fuzz/*.dict) \
	$(wildcard $(srcdir)/tests/fuzz/*.flags) \
	$(wildcard $(srcdir)/tests/fuzz/corpus/*/*) \
	$(wildcard $(srcdir)/tests/fuzz/regressions/*/*)
