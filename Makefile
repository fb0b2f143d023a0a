# Thin wrapper: install dependencies -> configure -> build -> run.
#   make test    the cmocka suite through ctest on ref and PoCL (WERROR=1 SANITIZE=1 for CI;
#                TSAN=1: under ThreadSanitizer in build-tsan; TESTS=REGEX: only those tests)
#   make bench   TinyMLPerf on every device: leaderboards, results/<UTC time>/ (BENCH_FLAGS=--quick: a smoke test)
#   make fuzz    every fuzz target for FUZZ_SECONDS (default 60) each
MAKEFLAGS += --no-print-directory
WERROR ?= 0
SANITIZE ?= 0
TSAN ?= 0
BUILD ?= $(if $(filter 1,$(TSAN)),build-tsan,build)
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz

.PHONY: all deps configure build test bench check fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(if $(filter 1,$(SANITIZE) $(TSAN)),Debug,Release) \
	  -DTINYCL_WERROR=$(if $(filter 1,$(WERROR)),ON,OFF) -DTINYCL_SANITIZE=$(if $(filter 1,$(SANITIZE)),ON,OFF) \
	  -DTINYCL_TSAN=$(if $(filter 1,$(TSAN)),ON,OFF) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# ASan: intercept_tls_get_addr=0 (docs/design.md, Sanitizers): LeakSanitizer misreads a
# dynamic TLS block once OpenBLAS's threads run, and its tracer crashes at exit
test: build
	@cd $(BUILD) && LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0 \
	  ASAN_OPTIONS=detect_leaks=1:use_sigaltstack=0:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  TSAN_OPTIONS=suppressions=$(CURDIR)/scripts/tsan.supp:halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS) $(if $(TESTS),-R '$(TESTS)')

bench: build
	@$(BUILD)/tinycl bench tinymlperf $(BENCH_FLAGS)

check: build
	@$(BUILD)/tinycl check

# every libFuzzer target of tests/fuzz for FUZZ_SECONDS each (clang, ASan + UBSan)
fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINYCL_FUZZ=ON \
	  -DTINYCL_WERROR=$(if $(filter 1,$(WERROR)),ON,OFF) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_weights fuzz_dataset fuzz_ops
	@bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-asan build-tsan $(FUZZ_BUILD)
