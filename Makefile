# Thin wrapper over Meson + Ninja. `make run` and `make test` work on a fresh Debian machine:
# both install what is missing first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
DATA       ?= ./data
FUZZ_SECONDS ?= 20
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Every C source and header, plugins (src/flow/plugins/) and test headers included.
FMT_FILES = $(wildcard src/*.c src/*/*.[ch] src/*/*/*.[ch] tests/*/*.[ch] bench/*.c)

DEB_PKGS = build-essential meson ninja-build pkg-config clang clang-format \
	libmicrohttpd-dev libcjson-dev libsqlite3-dev libpcre2-dev libyaml-dev libsodium-dev \
	libcmocka-dev libjemalloc-dev libcurl4-openssl-dev libhiredis-dev redis-server libpq-dev postgresql python3-psycopg2 bc uap-core json-schema-test-suite python3 python3-pytest wrk curl

# Browser tests only: `make run` does not need a browser.
E2E_PKGS = chromium

.PHONY: all deps e2e-deps gui gui-test e2e screenshots build run test unit integration integration-scaleout asan fuzz fuzz-build bench fmt fmt-check clean cluster cluster-stop

all: build

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@command -v npm >/dev/null || { echo "installing Node.js and npm"; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }

e2e-deps:
	@command -v chromium >/dev/null || { echo "installing Chromium for the GUI tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(E2E_PKGS); }

# The GUI (gui/, React + Vite): npm ci when the lockfile changes, a build when a source does.
# The binary compiles gui/dist in (gui/embed.py), so build depends on it.
GUI_SRC = $(shell find gui/src gui/public -type f 2>/dev/null) gui/index.html gui/vite.config.ts \
	gui/tsconfig.json gui/package.json
gui/node_modules/.ci-stamp: gui/package-lock.json
	cd gui && npm ci --no-audit --no-fund
	touch $@

gui/dist/index.html: gui/node_modules/.ci-stamp $(GUI_SRC)
	cd gui && npm run build

gui: gui/dist/index.html

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: $(BUILD)/build.ninja gui
	ninja -C $(BUILD)

run: deps build
	./$(BUILD)/cdpd serve --data $(DATA)

# Scale-out on this machine: Redis, PostgreSQL, one API, two collectors, two workers.
CLUSTER ?= ./cluster
cluster: deps build
	deploy/local-cluster.sh start $(CLUSTER)

cluster-stop:
	deploy/local-cluster.sh stop $(CLUSTER)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

# Unit tests of the GUI's logic (Vitest), then the browser tests: playwright-core drives
# Debian's Chromium through the GUI of a real cdpd (gui/e2e/); `make screenshots` keeps theirs
# in docs/screenshots/.
gui-test: gui
	cd gui && npm test

e2e: e2e-deps build
	cd gui && CDPD_BIN=$(CURDIR)/$(BUILD)/cdpd node --test --test-concurrency=1 e2e/

screenshots: e2e-deps build
	cd gui && SCREENSHOT_DIR=$(CURDIR)/docs/screenshots CDPD_BIN=$(CURDIR)/$(BUILD)/cdpd \
		node --test --test-concurrency=1 e2e/

integration: build
	CDPD_BIN=$(CURDIR)/$(BUILD)/cdpd /usr/bin/python3 -m pytest -q tests/integration

# The same suite with every server in scale-out mode (PostgreSQL, Redis, a storage worker).
integration-scaleout: build
	CDPD_BIN=$(CURDIR)/$(BUILD)/cdpd CDPD_SCALEOUT=1 /usr/bin/python3 -m pytest -q tests/integration

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	meson test -C $(ASAN_BUILD) --suite unit --print-errorlogs
	CDPD_BIN=$(CURDIR)/$(ASAN_BUILD)/cdpd CDPD_ASAN=1 /usr/bin/python3 -m pytest -q tests/integration

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link

fuzz-build: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

# Each target runs FUZZ_SECONDS from its seeds; a crash fails the run.
fuzz: deps fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

test: deps build
	$(MAKE) unit
	$(MAKE) gui-test
	$(MAKE) e2e
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)
	$(MAKE) asan
	$(MAKE) integration
	$(MAKE) integration-scaleout

bench: deps build
	bench/run.sh

fmt:
	clang-format -i $(FMT_FILES)

fmt-check:
	clang-format --dry-run -Werror $(FMT_FILES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
