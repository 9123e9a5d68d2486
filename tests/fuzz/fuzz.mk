# tests/fuzz/fuzz.mk -- libFuzzer targets; included by the top Makefile.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="config datagram"]
#	build every target with clang (libFuzzer, ASan, UBSan) into
#	build-fuzz/ and fuzz each for FUZZ_SECONDS on a scratch corpus,
#	build-fuzz/corpus/<target>, seeded from tests/fuzz/corpus/<target>;
#	a crash leaves its input in build-fuzz/artifacts/.
#   make fuzz-replay
#	build every target and run it once on each seed of its corpus in
#	tests/fuzz/corpus/<target>, and on nothing else; fails on any
#	sanitizer report, abort or leak.
#   make fuzz-clean
#
# Each target links only the library sources it needs, compiled here with
# clang and its own flags (no libnl): the parsers are pure.

FUZZ_CC       ?= clang
FUZZ_BUILD    ?= build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_TARGETS  ?= config datagram reasm handshake mss gso gro
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   := -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN) \
		 $(shell pkg-config --cflags libsodium 2>/dev/null)
FUZZ_CPPFLAGS := -Iinclude -D_GNU_SOURCE -U_FORTIFY_SOURCE
FUZZ_LIBS     := $(shell pkg-config --libs libsodium 2>/dev/null || \
		   echo -lsodium)
# libFuzzer options for both modes; -timeout turns a hang into a failure.
FUZZ_OPTS     := -timeout=10 -rss_limit_mb=4096
FUZZ_ENV      := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Library sources per target (besides tests/fuzz/fuzz_<target>.c).
FUZZ_SUPPORT         := tests/fuzz/fuzz_support.c
fuzz_srcs_config     := src/config.c src/config_value.c src/config_words.c src/keys.c src/log.c $(FUZZ_SUPPORT)
fuzz_srcs_reasm      := src/frame.c
fuzz_srcs_handshake  := src/handshake.c src/session.c src/keys.c \
			src/log.c $(FUZZ_SUPPORT)
fuzz_srcs_mss        := src/mss.c
fuzz_srcs_gso        := src/gso.c
fuzz_srcs_gro        := src/gro.c src/gso.c
fuzz_srcs_datagram   := src/datapath.c src/dp_rx.c src/dp_tx.c src/cookie.c \
			src/dp_handshake.c src/peer.c src/handshake.c \
			src/session.c src/keys.c src/log.c src/frame.c \
			src/gro.c src/gso.c src/mss.c src/tap.c src/udp.c \
			src/pkt.c src/pmtu.c src/ratelimit.c src/loop.c \
			$(FUZZ_SUPPORT)
# Inputs may be larger than libFuzzer's default 4096 bytes where the
# parser takes more: jumbo fragments, UDP GRO buffers.
fuzz_maxlen_datagram := -max_len=20000
fuzz_maxlen_reasm    := -max_len=20000

FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-replay fuzz-clean
.PHONY: $(FUZZ_TARGETS:%=fuzz-run-%) $(FUZZ_TARGETS:%=fuzz-replay-%)

# Objects: instrumented for coverage, not linked with libFuzzer's main.
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c -o $@ $<

define fuzz_target
$(FUZZ_BUILD)/fuzz_$(1): $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_$(1).o \
		$(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(fuzz_srcs_$(1)))
	$$(call say,FUZZLD,$$@)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) \
		-o $$@ $$^ $(FUZZ_LIBS)

fuzz-replay-$(1): $(FUZZ_BUILD)/fuzz_$(1)
	@seeds=$$$$(find tests/fuzz/corpus/$(1) -type f | sort); \
	if [ -z "$$$$seeds" ]; then \
		echo "  FUZZ    $(1): no seeds in tests/fuzz/corpus/$(1)"; \
		exit 1; \
	fi; \
	log=$(FUZZ_BUILD)/replay-$(1).log; \
	if $(FUZZ_ENV) $(FUZZ_BUILD)/fuzz_$(1) $(FUZZ_OPTS) \
		$$$$seeds >$$$$log 2>&1; then \
		echo "  REPLAY  $(1): $$$$(echo "$$$$seeds" | wc -l) seeds clean"; \
	else \
		cat $$$$log; echo "  REPLAY  $(1): FAILED (log: $$$$log)"; \
		exit 1; \
	fi

fuzz-run-$(1): $(FUZZ_BUILD)/fuzz_$(1)
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts
	@cp tests/fuzz/corpus/$(1)/* $(FUZZ_BUILD)/corpus/$(1)/
	@echo "  FUZZ    $(1) for $(FUZZ_SECONDS) s"
	@$(FUZZ_ENV) $(FUZZ_BUILD)/fuzz_$(1) $(FUZZ_OPTS) \
		$(fuzz_maxlen_$(1)) -max_total_time=$(FUZZ_SECONDS) \
		-print_final_stats=1 \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)- \
		$(FUZZ_BUILD)/corpus/$(1) \
		>$(FUZZ_BUILD)/fuzz-$(1).log 2>&1 || \
		{ tail -n 60 $(FUZZ_BUILD)/fuzz-$(1).log; \
		  echo "  FUZZ    $(1): FAILED (log: $(FUZZ_BUILD)/fuzz-$(1).log)"; \
		  exit 1; }
	@grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' \
		$(FUZZ_BUILD)/fuzz-$(1).log | tail -n 1
	@grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' \
		$(FUZZ_BUILD)/fuzz-$(1).log
endef

$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))

fuzz-build: $(FUZZ_BINS)

# Targets run one after the other: each gets the whole machine.
fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
		$(MAKE) --no-print-directory fuzz-run-$$t || fail=1; \
	done; exit $$fail

fuzz-replay: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
		$(MAKE) --no-print-directory fuzz-replay-$$t || fail=1; \
	done; exit $$fail

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

clean: fuzz-clean

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
