# Thin wrapper around CMake (as neovim does): `make`, `make test`, `make suite`.
# `make test` and `make suite` install missing Debian packages first (as root),
# so both work on a fresh Debian 12 machine and cost nothing when already set up.

BUILD_DIR  ?= build
BUILD_TYPE ?= Debug
CTEST_ARGS ?=
SUITE_ARGS ?=

# Build and test dependencies (Debian 12 package names). Optional ones are
# tried once; the tests that need them skip with a reason when they are missing.
DEB_BUILD    := cmake make gcc pkg-config libseccomp-dev libcgroup-dev libcjson-dev libproc2-dev
DEB_TEST     := python3
DEB_OPTIONAL := chromium

.PHONY: all build deps test suite clean format

all: build

deps:
	@missing=""; \
	for p in $(DEB_BUILD) $(DEB_TEST); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || \
	    command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "missing packages:$$missing -- run as root or: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi; \
	optional=""; \
	for p in $(DEB_OPTIONAL); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || optional="$$optional $$p"; \
	done; \
	if [ -n "$$optional" ] && [ "$$(id -u)" = 0 ] && [ ! -e $(BUILD_DIR)/.optional-tried ]; then \
	  echo "installing optional test tools:$$optional"; \
	  mkdir -p $(BUILD_DIR) && touch $(BUILD_DIR)/.optional-tried; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$optional) \
	    || echo "optional packages not installed; the tests that need them will skip"; \
	fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$$(nproc)

test: deps
	@$(MAKE) --no-print-directory build
	cd $(BUILD_DIR) && ctest --output-on-failure $(CTEST_ARGS)

suite: deps
	@$(MAKE) --no-print-directory build
	./$(BUILD_DIR)/coldstart suite $(SUITE_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD_DIR)
