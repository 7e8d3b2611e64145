# Thin wrapper over CMake. `make demo` and `make check` install what is missing first.
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
BENCHDIR  ?= build-bench
PREFIX    ?= /usr/local
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 5
CMAKE_FLAGS ?=

.PHONY: all build deps demo check test asan fuzz interop bench install clean

all: build

deps:
	@scripts/install-deps build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVNET_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@VNET=$(BUILD)/vnet scripts/demo

# Everything: unit + golden + script tests, the same under ASan+UBSan, fuzz smoke.
check:
	@scripts/install-deps check
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVNET_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory interop
	@echo "make check: all suites passed"

# Real clients (pppd, xl2tpd, pptp, strongSwan) in a qemu guest built from Debian's
# packages and cached under $(BUILD)/interop-guest; skips itself when that cannot run.
interop:
	tests/interop/run $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan:
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DVNET_SANITIZE=ON -DVNET_WERROR=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) -LE interop

fuzz:
	@CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVNET_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ) -j $(JOBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ)

bench:
	@scripts/install-deps bench
	@cmake -S . -B $(BENCHDIR) -DCMAKE_BUILD_TYPE=Release -DVNET_BENCH=ON >/dev/null
	@cmake --build $(BENCHDIR) -j $(JOBS)
	@bench/run $(BENCHDIR)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) $(BENCHDIR)
