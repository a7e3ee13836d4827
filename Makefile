# isol8d — build, test and install.  See README.md.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/isol8
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/isol8
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
RUNTIMES_PREFIX ?= /opt/isol8/runtimes
PYTHON ?= /usr/bin/python3

CC ?= cc
BUILD ?= build
SAN ?=
PKGS := libsystemd json-c libseccomp libnl-3.0 libnl-route-3.0 libpcre2-8 \
	libcurl libcrypto
# isol8ctl, the local client, links json-c alone, and statically, so that
# it starts with no dynamic loading at all (a static-pie keeps ASLR; the
# sanitizers need a dynamic program); isol8ctl-http, the part that speaks
# HTTP (serve, --host; ctl/side.h), links the rest.
CTL_PKGS := json-c
CTL_HTTP_PKGS := libsystemd json-c libcurl libmicrohttpd sqlite3 libcrypto \
	libpq

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=c17 $(WARN) -D_GNU_SOURCE -fstack-protector-strong \
	-Iproto -Idaemon -Ictl -DISOL8_INIT_EXE='"$(BUILD)/isol8-init"' \
	-DISOL8_LIBEXECDIR='"$(LIBEXECDIR)"'
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
CTL_LINK :=
else
CFLAGS += -D_FORTIFY_SOURCE=2 -fPIE
CTL_LINK := -static-pie
endif

pkg_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkg_libs = $(shell pkg-config --libs $(1) 2>/dev/null)

PROTO_SRC := $(wildcard proto/*.c)
DAEMON_SRC := $(wildcard daemon/*.c daemon/net/*.c daemon/runtimes/*.c \
	daemon/sandbox/*.c)
# isol8-init, the boxes' PID 1: a static program of its own (libc and the
# libc-only parts of the sandbox it shares), compiled into the daemon.
INIT_SRC := $(wildcard daemon/sandbox/init/*.c) daemon/fault.c \
	daemon/sandbox/open_beneath.c daemon/sandbox/privileges.c \
	daemon/sandbox/seccomp_load.c
CTL_SRC := $(wildcard ctl/*.c)
# Only in isol8ctl-http (ctl/side.h); side_local.c only in isol8ctl.
CTL_HTTP_SRC := ctl/serve.c ctl/serve_prune.c ctl/remote.c \
	ctl/cmd_run_remote.c ctl/cmd_login.c ctl/auth_db.c ctl/auth_sqlite.c ctl/auth_pg.c \
	ctl/cmd_audit.c \
	daemon/audit_chain.c \
	$(wildcard ctl/http_*.c) ctl/side_http.c
CTL_SHARED_SRC := $(filter-out $(CTL_HTTP_SRC) ctl/side_local.c,$(CTL_SRC))
UNIT_SRC := $(wildcard tests/unit/*.c)

PROTO_OBJ := $(PROTO_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
CTL_SHARED_OBJ := $(CTL_SHARED_SRC:%.c=$(BUILD)/%.o)
CTL_HTTP_OBJ := $(CTL_HTTP_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
# Small programs the integration tests run (tests/tools/).
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,\
	$(wildcard tests/tools/*.c))

LIBPROTO := $(BUILD)/libisol8proto.a

.PHONY: all deps check test unit integration install run bench fuzz lint clean \
	vm-deps vm-check

all: $(BUILD)/isol8d $(BUILD)/isol8ctl $(BUILD)/isol8ctl-http $(LIBPROTO) \
	$(TEST_TOOLS) $(BUILD)/isol8-image

# The image builder, a script, beside isol8ctl as isol8ctl setup looks for
# it (ctl/libexec.h).
$(BUILD)/isol8-image: tools/isol8-image
	@mkdir -p $(dir $@)
	install -m755 $< $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pkg_cflags,$(PKGS) $(CTL_HTTP_PKGS)) -MMD -MP \
		-c $< -o $@

# Files compiled into the daemon with .incbin (daemon/incbin.h).
$(BUILD)/daemon/sandbox/seccomp_builtin.o: profiles/strict.json
$(BUILD)/daemon/sandbox/init_exe.o: $(BUILD)/isol8-init

# Static, so that it runs in any image, and never under the sanitizers,
# which a static program cannot have.
$(BUILD)/isol8-init: $(INIT_SRC) $(wildcard daemon/sandbox/init/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c17 $(WARN) -D_GNU_SOURCE -O2 -D_FORTIFY_SOURCE=2 \
		-fstack-protector-strong -Iproto -Idaemon \
		-static -s -o $@ $(INIT_SRC)
$(BUILD)/daemon/runtimes/preload.o: $(wildcard daemon/runtimes/preload/*)

$(LIBPROTO): $(PROTO_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/isol8d: $(DAEMON_OBJ) $(LIBPROTO)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(PKGS))

$(BUILD)/isol8ctl: $(CTL_SHARED_OBJ) $(BUILD)/ctl/side_local.o $(LIBPROTO)
	$(CC) $(LDFLAGS) $(CTL_LINK) -o $@ $^ $(call pkg_libs,$(CTL_PKGS))

$(BUILD)/isol8ctl-http: $(CTL_SHARED_OBJ) $(CTL_HTTP_OBJ) $(LIBPROTO)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkg_libs,$(CTL_HTTP_PKGS))

$(BUILD)/tests/unit/%: tests/unit/%.c $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJ)) $(LIBPROTO)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call pkg_cflags,$(PKGS)) -o $@ $^ \
		$(call pkg_libs,$(PKGS) cmocka) $(LDFLAGS)

$(BUILD)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(call pkg_libs,libseccomp) $(LDFLAGS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@tools/install-deps.sh

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

integration: all
	ISOL8_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/integration tests/security

# Everything: a normal build with its tests, the same under ASan+UBSan,
# clang's build, a short fuzz run, cppcheck and clang-tidy.
check: deps
	$(MAKE) all
	$(MAKE) CC=clang BUILD=build-clang all
	$(MAKE) BUILD=build-asan SAN=1 unit
	$(MAKE) BUILD=build-asan SAN=1 all
	$(MAKE) fuzz FUZZ_SECONDS=10
	$(MAKE) lint
	$(MAKE) unit
	ISOL8_BUILD=$(abspath build) ISOL8_ASAN_BUILD=$(abspath build-asan) \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/integration tests/security

run: deps all
	./$(BUILD)/isol8d

# Each target with the sources it tests and what they need; its seeds are
# in tests/fuzz/seeds/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRC_fuzz_frame_rpc := $(PROTO_SRC)
FUZZ_SRC_fuzz_sse := proto/sse.c proto/strbuf.c
FUZZ_SRC_fuzz_ws_frame := proto/ws_frame.c proto/sha1.c proto/base64.c \
	proto/utf8.c proto/strbuf.c
FUZZ_SRC_fuzz_tls_sni := daemon/net/tls_sni.c
FUZZ_SRC_fuzz_image_ref := daemon/image_ref.c proto/error.c
# net_policy.c also needs libpcre2-8 (in PKGS) and proto/utf8.c.
FUZZ_POLICY := daemon/net/net_policy.c daemon/log.c proto/error.c \
	proto/utf8.c proto/strbuf.c
FUZZ_SRC_fuzz_proxy_request := daemon/net/proxy_request.c $(FUZZ_POLICY)
FUZZ_SRC_fuzz_dns_stub := daemon/net/dns_stub.c daemon/net/resolver.c \
	$(FUZZ_POLICY)
.SECONDEXPANSION:
build-fuzz/%: tests/fuzz/%.c $$(FUZZ_SRC_$$*)
	@mkdir -p build-fuzz
	clang -std=c17 $(WARN) -g -O1 -D_GNU_SOURCE -Iproto -Idaemon \
		-fsanitize=fuzzer,address,undefined $(call pkg_cflags,$(PKGS)) \
		-o $@ $^ $(call pkg_libs,$(PKGS))

fuzz: $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$$(basename $$t); mkdir -p build-fuzz/corpus-$$name; \
		echo "$$name:"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			-artifact_prefix=build-fuzz/$$name- \
			build-fuzz/corpus-$$name tests/fuzz/seeds/$$name \
			>build-fuzz/$$name.log 2>&1 || \
			{ tail -n 40 build-fuzz/$$name.log; exit 1; }; \
		tail -n 1 build-fuzz/$$name.log; \
	done

bench: all
	$(PYTHON) tests/bench/run.py --build $(abspath $(BUILD))

# Every C file, as .clang-format has it.
FORMAT_SRC := $(wildcard proto/*.[ch] daemon/*.[ch] daemon/*/*.[ch] \
	ctl/*.[ch] tests/*/*.[ch])

lint:
	@clang-format --dry-run -Werror $(FORMAT_SRC)
	tools/include-graph --self-test
	tools/include-graph daemon
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -D_GNU_SOURCE -Iproto -Idaemon -Ictl proto daemon ctl
	clang-tidy --quiet $(PROTO_SRC) $(DAEMON_SRC) \
		$(wildcard daemon/sandbox/init/*.c) $(CTL_SRC) -- \
		$(CFLAGS) $(call pkg_cflags,$(PKGS) $(CTL_HTTP_PKGS))

install: all
	install -Dm755 $(BUILD)/isol8d $(DESTDIR)$(SBINDIR)/isol8d
	install -Dm755 $(BUILD)/isol8ctl $(DESTDIR)$(BINDIR)/isol8ctl
	install -Dm755 $(BUILD)/isol8ctl-http \
		$(DESTDIR)$(LIBEXECDIR)/isol8ctl-http
	install -Dm755 tools/isol8-image $(DESTDIR)$(LIBEXECDIR)/isol8-image
	install -Dm644 -t $(DESTDIR)$(UNITDIR) units/*.service units/*.socket
	install -Dm644 units/isol8.sysusers $(DESTDIR)$(SYSUSERSDIR)/isol8.conf
	install -Dm644 units/isol8.tmpfiles $(DESTDIR)$(TMPFILESDIR)/isol8.conf
	install -Dm644 -t $(DESTDIR)$(DATADIR)/profiles $(wildcard profiles/*.json)
	install -Dm644 -t $(DESTDIR)$(MANDIR)/man1 man/*.1
	install -Dm644 -t $(DESTDIR)$(MANDIR)/man5 man/*.5
	install -Dm644 -t $(DESTDIR)$(MANDIR)/man8 man/*.8

# A Debian 12 guest with systemd as PID 1 and cgroup v2 only, under qemu:
# the project installed with `make install` and checked through systemctl
# (tools/vm/README.md).  Logs land in build-vm/.
VM_UNIT_TESTS ?= test_cgroup
vm-deps:
	@tools/vm/install-deps.sh

vm-check: vm-deps all $(VM_UNIT_TESTS:%=$(BUILD)/tests/unit/%)
	BUILD=$(abspath $(BUILD)) VM_UNIT_TESTS="$(VM_UNIT_TESTS)" tools/vm/run.sh

clean:
	rm -rf build build-asan build-clang build-fuzz build-vm
