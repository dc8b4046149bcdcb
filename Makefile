# Manta top-level Makefile. `make demo` and `make test` do everything on a
# fresh Debian 12 machine: install missing packages, build, run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build asan fuzz-build test test-normal test-asan fuzz-smoke fuzz demo bench install clean oracle format

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMANTA_SANITIZE=ON -DMANTA_BENCH=OFF >/dev/null
	@ninja -C $(ASAN_BUILD) -j $(JOBS)

fuzz-build: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMANTA_FUZZ=ON -DMANTA_TESTS=OFF -DMANTA_BENCH=OFF >/dev/null
	@ninja -C $(FUZZ_BUILD) -j $(JOBS)

# The independent Parquet oracle (DuckDB + arrow-rs) used by conformance and
# round-trip tests and by bench/data_io; installed into the build tree.
oracle: deps
	@./scripts/setup-oracle.sh $(BUILD)/oracle

test: build asan fuzz-build oracle
	@$(MAKE) --no-print-directory test-normal test-asan fuzz-smoke

test-normal:
	@echo "== tests (normal build)"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@echo "== tests (ASan+UBSan build)"
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

fuzz-smoke:
	@./scripts/fuzz.sh $(FUZZ_BUILD) 15

fuzz: fuzz-build
	@./scripts/fuzz.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-600}

demo: build
	@./scripts/demo.sh $(BUILD)

bench: build oracle
	@for b in $(BUILD)/bench/*; do [ -x "$$b" ] || continue; echo "== bench $$(basename $$b)"; "$$b" || exit 1; done

bench-%: build oracle
	@$(BUILD)/bench/$* $(BENCH_ARGS)

# PREFIX (default /usr/local) is configured into the build so that manta.pc
# and the installed libmanta find each other and the installed manta.
PREFIX ?= /usr/local
install: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)
	@cmake --install $(BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
