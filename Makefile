# tapbridge -- Layer-2 site-to-site bridge over UDP.
# GNU make.  `make V=1` shows full commands.

PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
RUNSTATEDIR ?= /run
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DAEMON_USER ?= tapbridge
DESTDIR     ?=

VERSION     := 0.3.0
BUILD       ?= build
SAN         ?=

CC          ?= cc
PKGS        := libnl-3.0 libnl-route-3.0 libsodium libseccomp libcap-ng
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CRIT_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wpointer-arith -Wcast-qual -Wformat=2 -Wno-unused-parameter
HARDEN   := -fstack-protector-strong -fPIE
CFLAGS   ?= -O2 -g
CPPFLAGS += -Iinclude -D_GNU_SOURCE -DTAPBRIDGE_VERSION='"$(VERSION)"' \
	    -DSYSCONFDIR='"$(SYSCONFDIR)"' -DRUNSTATEDIR='"$(RUNSTATEDIR)"' \
	    -DDAEMON_USER='"$(DAEMON_USER)"'
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += -pie -Wl,-z,relro,-z,now
ifeq ($(SAN),1)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined -DTAPBRIDGE_SANITIZE
  LDFLAGS    += -fsanitize=address,undefined
else
  CPPFLAGS   += -D_FORTIFY_SOURCE=2
endif

LIB_SRCS  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/src/%.o)
LIB       := $(BUILD)/libtapbridge.a
BIN       := $(BUILD)/tapbridge
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
MANPAGES  := man/tapbridge.8 man/tapbridge.conf.5 man/tapbridge-protocol.7

ifeq ($(V),1)
  Q :=
  say :=
else
  Q := @
  say = @printf '  %-7s %s\n' $(1) $(2);
endif

.PHONY: all check unit unit-asan valgrind lint integration integration-asan \
	install uninstall demo bench soak deps clean format fuzz fuzz-replay \
	FORCE

all: $(BIN)

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The version, the paths and the user are compiled in: a build made with
# other values (`make install SYSCONFDIR=/opt/etc` after `make`, say)
# rebuilds their users.
BUILD_VARS := $(VERSION) $(SYSCONFDIR) $(RUNSTATEDIR) $(DAEMON_USER)
# The default 'user' must be a name a configuration could give.
ifneq ($(shell printf '%s' '$(DAEMON_USER)' | \
	grep -Ex '[a-z_][a-z0-9_.-]{0,30}'),$(DAEMON_USER))
  $(error DAEMON_USER '$(DAEMON_USER)' is not a user name tapbridge takes: \
	  a lower-case letter or _, then up to 30 of a-z 0-9 _ . -)
endif
$(BUILD)/build-vars: FORCE
	@mkdir -p $(dir $@)
	@echo '$(BUILD_VARS)' | cmp -s - $@ || echo '$(BUILD_VARS)' >$@
$(BUILD)/src/main.o $(LIB_OBJS): $(BUILD)/build-vars
FORCE:

$(LIB): $(LIB_OBJS)
	$(call say,AR,$@)rm -f $@; $(AR) rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(LIB)
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(LIB) $(PKG_LIBS) $(CRIT_LIBS)

# test_datapath makes sendmmsg fail on demand.
$(BUILD)/tests/test_datapath: LDFLAGS += -Wl,--wrap=sendmmsg
# test_udp plays a host without IPv6.
$(BUILD)/tests/test_udp: LDFLAGS += -Wl,--wrap=socket

unit: $(UNIT_BINS)
	@bash tests/unit/run.sh $(UNIT_BINS)

unit-asan:
	$(MAKE) --no-print-directory BUILD=build-asan SAN=1 unit

# mandoc for the markup, groff for what man(1) will print on a terminal.
lint:
	@out=$$(mandoc -Tlint -W warning $(MANPAGES) 2>&1; \
		for m in $(MANPAGES); do groff -ww -Tutf8 -man -z $$m 2>&1; done); \
	if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; \
	echo "  LINT    man pages clean"

integration: $(BIN)
	@bash tests/integration/run.sh $(BIN)

# The core scenarios against an ASan+UBSan daemon: any report aborts the
# daemon, which fails the scenario.  Leaks are left to valgrind and the
# fuzzers: the sandboxed process cannot be traced at exit.
ASAN_SCENARIOS ?= 01 06 09 10 31
integration-asan:
	$(MAKE) --no-print-directory BUILD=build-asan SAN=1 build-asan/tapbridge
	@TESTS="$(ASAN_SCENARIOS)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		bash tests/integration/run.sh build-asan/tapbridge

# Two suites at a time (Criterion runs each test in its own process).
VG_A = test_gro test_frame test_pmtu test_mss test_session
VG_B = $(filter-out $(VG_A),$(notdir $(UNIT_BINS)))
valgrind: $(UNIT_BINS)
	@TESTS="$(VG_A)" bash tests/unit/valgrind.sh $(BUILD) & a=$$!; \
	TESTS="$(VG_B)" bash tests/unit/valgrind.sh $(BUILD) || fail=1; \
	wait $$a || fail=1; exit $${fail:-0}

soak: $(BIN)
	@bash scripts/soak.sh $(BIN)

check: deps-check all unit unit-asan valgrind fuzz-replay lint integration \
	integration-asan

deps-check:
	@bash scripts/deps.sh --check-only || bash scripts/deps.sh

deps:
	@bash scripts/deps.sh

demo: $(BIN)
	@bash scripts/demo.sh $(BIN)

bench: $(BIN)
	@bash scripts/bench.sh $(BIN)

# The service files name the daemon, the configuration directory and the
# run-state directory by their default paths; installing rewrites them to
# RUNSTATEDIR (first: SBINDIR may hold "/run/" itself), SBINDIR and
# SYSCONFDIR.
SERVICE_SED := sed -e 's|/run/|$(RUNSTATEDIR)/|g' \
	-e 's|/usr/local/sbin/tapbridge|$(SBINDIR)/tapbridge|g' \
	-e 's|/etc/tapbridge|$(SYSCONFDIR)/tapbridge|g' \
	-e 's|/etc/default/tapbridge|$(SYSCONFDIR)/default/tapbridge|g' \
	-e 's|/etc/init\.d/tapbridge|$(SYSCONFDIR)/init.d/tapbridge|g'
CONF_DIR     = $(DESTDIR)$(SYSCONFDIR)/tapbridge

install: $(BIN)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/init.d $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(CONF_DIR) $(BUILD)/etc
	install -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/tapbridge
	install -m 0644 man/tapbridge.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/tapbridge.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/tapbridge-protocol.7 $(DESTDIR)$(MANDIR)/man7/
	$(SERVICE_SED) etc/init.d/tapbridge >$(BUILD)/etc/tapbridge.init
	install -m 0755 $(BUILD)/etc/tapbridge.init \
		$(DESTDIR)$(SYSCONFDIR)/init.d/tapbridge
	$(SERVICE_SED) 'etc/systemd/tapbridge@.service' \
		>'$(BUILD)/etc/tapbridge@.service'
	install -m 0644 '$(BUILD)/etc/tapbridge@.service' \
		$(DESTDIR)$(SYSTEMDUNITDIR)/
	@if [ -e $(CONF_DIR)/tapbridge.conf ]; then \
		echo "  keeping existing $(CONF_DIR)/tapbridge.conf"; \
	else \
		echo "install -m 0644 etc/tapbridge.conf $(CONF_DIR)/"; \
		install -m 0644 etc/tapbridge.conf $(CONF_DIR)/; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
		sh scripts/install-user.sh $(DAEMON_USER); \
	fi

# Removes what install added: the example configuration only while it is
# unchanged; never key files, other configurations or the user.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tapbridge \
		$(DESTDIR)$(MANDIR)/man8/tapbridge.8 \
		$(DESTDIR)$(MANDIR)/man5/tapbridge.conf.5 \
		$(DESTDIR)$(MANDIR)/man7/tapbridge-protocol.7 \
		$(DESTDIR)$(SYSCONFDIR)/init.d/tapbridge \
		'$(DESTDIR)$(SYSTEMDUNITDIR)/tapbridge@.service'
	@if cmp -s etc/tapbridge.conf $(CONF_DIR)/tapbridge.conf; then \
		echo "rm -f $(CONF_DIR)/tapbridge.conf"; \
		rm -f $(CONF_DIR)/tapbridge.conf; \
	elif [ -e $(CONF_DIR)/tapbridge.conf ]; then \
		echo "  keeping modified $(CONF_DIR)/tapbridge.conf"; \
	fi; \
	rmdir $(CONF_DIR) 2>/dev/null || true

format:
	clang-format -i src/*.c include/tapbridge/*.h tests/unit/*.c

clean:
	rm -rf build build-asan

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d $(UNIT_BINS:=.d)

-include tests/fuzz/fuzz.mk
