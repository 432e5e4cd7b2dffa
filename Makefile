# Thin wrapper around CMake (as neovim does): `make`, `make test`, `make suite`.
# `make test` and `make suite` install missing Debian packages first (as root),
# so both work on a fresh Debian 12 machine and cost nothing when already set up.

SHELL := /bin/bash

BUILD_DIR  ?= build
BUILD_TYPE ?= Debug
CTEST_ARGS ?=
SUITE_ARGS ?=

# Build and test dependencies (Debian 12 package names). Optional ones are
# tried once; the tests that need them skip with a reason when they are missing.
DEB_BUILD    := cmake make gcc pkg-config libseccomp-dev libcgroup-dev libcjson-dev libproc2-dev \
                libsystemd-dev libarchive-dev libssl-dev libdw-dev
DEB_TEST     := python3 python3-jsonschema
DEB_OPTIONAL := chromium nginx-light gunicorn umoci skopeo buildah busybox-static crun runc debootstrap podman \
                postgresql redis-server

.PHONY: all build deps deps-build test test-v2 suite clean format fuzz asan valgrind lint install

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := manifest report seccomp_profile http expressions oci_json oci_layer folded
DEB_FUZZ     := clang-14 libclang-rt-14-dev
DEB_CHECK    := valgrind clang-tidy cppcheck

all: build

# What a target needs, installed when missing (root only): $(1) the
# packages, $(2) what to call them in the message.
define install_missing
	@missing=""; \
	for p in $(1); do \
	  case $$p in python3-*) python3 -c "import $${p#python3-}" 2>/dev/null && continue;; esac; \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || \
	    command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "missing $(2):$$missing -- run as root or: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	  echo "installing $(2):$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

# What building and `make suite` need: nothing more.
deps-build:
	$(call install_missing,$(DEB_BUILD),build packages)

# `make test` adds the test tools and, tried once, the optional servers and
# tools some tests use. Nothing installed here starts a service: a
# policy-rc.d that refuses every start is in place while apt runs (nginx and
# PostgreSQL would otherwise start on ports 80 and 5432 of a host without
# systemd).
deps: deps-build
	$(call install_missing,$(DEB_TEST),test packages)
	@optional=""; \
	for p in $(DEB_OPTIONAL); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || optional="$$optional $$p"; \
	done; \
	if [ -n "$$optional" ] && [ "$$(id -u)" = 0 ] && [ ! -e $(BUILD_DIR)/.optional-tried ]; then \
	  echo "installing optional test tools:$$optional"; \
	  mkdir -p $(BUILD_DIR) && touch $(BUILD_DIR)/.optional-tried; \
	  no_services=""; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
	    chmod 755 /usr/sbin/policy-rc.d; no_services=1; }; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$optional) \
	    || echo "optional packages not installed; the tests that need them will skip"; \
	  [ -z "$$no_services" ] || rm -f /usr/sbin/policy-rc.d; \
	fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$$(nproc)

test: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD_DIR) && ctest --output-on-failure $(CTEST_ARGS)

# The tests on a real cgroup v2 kernel (tests/v2/run: a throwaway v2 guest per
# pass, under emulation here; V2_MODES="delegated root user" by default).
V2_MODES ?=
test-v2: deps
	cmake -S . -B build-v2 -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	cmake --build build-v2 -j$$(nproc)
	tests/v2/run build-v2 $(V2_MODES)

suite: deps-build
	@$(MAKE) --no-print-directory build
	./$(BUILD_DIR)/coldstart suite $(SUITE_ARGS)


# Each libFuzzer harness for FUZZ_SECONDS, seeded from tests/fuzz/corpus; new
# inputs go to build-fuzz/corpus, crashes to build-fuzz/artifacts (keep them
# in tests/fuzz/regressions/NAME once fixed: every `make test` replays them).
# An input that takes more than 25 s is a failure too (-timeout), not a hang.
fuzz: deps
	$(call install_missing,$(DEB_FUZZ),tools)
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 -DCOLDSTART_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j$$(nproc) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@mkdir -p build-fuzz/artifacts
	@for f in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$f; \
	  echo "fuzz $$f for $(FUZZ_SECONDS) s"; \
	  ./build-fuzz/tests/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=25 -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/artifacts/$$f- build-fuzz/corpus/$$f \
	    tests/fuzz/corpus/$$f tests/fuzz/regressions/$$f 2>&1 | grep -E '^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' ; \
	  status=$${PIPESTATUS[0]}; [ $$status = 0 ] || { echo "fuzz_$$f failed; see build-fuzz/artifacts"; exit 1; }; \
	done

# The whole CTest suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B build-asan -DCOLDSTART_SANITIZE=ON >/dev/null
	cmake --build build-asan -j$$(nproc)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -E integration.size_stability $(CTEST_ARGS)

# A full HTTP run of the fixture under memcheck, and one with a load after
# ready (the generator's threads): zero errors, no definite leaks.
# valgrind does not emulate seccomp(2), so this run loads no filter; the
# seccomp paths are covered by the ASan build instead.
valgrind: build
	$(call install_missing,valgrind,tools)
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite --track-fds=no \
	  ./$(BUILD_DIR)/coldstart run -q -n 3 -w 1 --requests 5 --seccomp none --ready 'http://127.0.0.1:{port}/' \
	  --json /dev/null -- ./$(BUILD_DIR)/tests/fixture sleep 20 serve
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite --track-fds=no \
	  ./$(BUILD_DIR)/coldstart run -q -n 1 -w 0 --seccomp none --ready 'http://127.0.0.1:{port}/' \
	  --load 4:500ms --json /dev/null -- ./$(BUILD_DIR)/tests/fixture serve-many
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite --track-fds=no \
	  ./$(BUILD_DIR)/coldstart run -q -n 2 -w 0 --burst 3 --seccomp none --ready 'http://127.0.0.1:{port}/' \
	  --json /dev/null --html /dev/null --csv /dev/null -- ./$(BUILD_DIR)/tests/fixture sleep 20 serve
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	  --show-leak-kinds=definite --track-fds=no \
	  ./$(BUILD_DIR)/coldstart run -q -n 2 -w 0 --profile cpu --profile-dir $(BUILD_DIR)/valgrind-profile \
	  --seccomp none --ready 'http://127.0.0.1:{port}/' --json /dev/null --html /dev/null \
	  -- sh -c './$(BUILD_DIR)/tests/fixture spin 30; exec ./$(BUILD_DIR)/tests/fixture spin 30 serve'
	@echo "valgrind: no errors, no definite leaks"

# clang-tidy and cppcheck with the committed configuration: zero findings.
lint: build
	$(call install_missing,$(DEB_CHECK),tools)
	clang-tidy -p $(BUILD_DIR) --quiet --extra-arg=-Wno-unknown-warning-option $$(git ls-files 'sandbox/*.c' 'profiler/*.c' 'reports/*.c') 2>&1 | \
	  { grep -E 'warning:|error:' && exit 1 || echo "clang-tidy: no findings"; }
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	  --inline-suppr --suppressions-list=.cppcheck-suppressions -I . \
	  -D'cJSON_ArrayForEach(e,a)=for(e=(a)?(a)->child:NULL;e;e=e->next)' \
	  sandbox profiler reports
	@echo "cppcheck: no findings"

# The binary and its man page (coldstart(1), made from the --help tables).
# PREFIX=/usr/local by default; DESTDIR for staging, as packagers expect.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD_DIR) build-fuzz build-asan build-v2
