# The README's two commands: `make demo` and `make test`. Both install what is missing.
BUILD ?= build
VENV ?= .venv
# CI builds Release (what the wheel ships; no debug info to generate: a faster build);
# a local build defaults to RelWithDebInfo (CMakeLists.txt), for profiling.
CMAKE_FLAGS ?= $(if $(filter true,$(CI)),-DCMAKE_BUILD_TYPE=Release,)

.PHONY: test-full deps build demo test test-spark bench differential wheel clean fuzz build-fuzz kill-test \
	test-compat

deps:
	@bash scripts/install_deps.sh

# The build needs the Debian packages only; in CI the Python venvs install in the background
# meanwhile (scripts/prefetch_deps.sh), and the last line waits for .venv (so every target that
# depends on `build` finds it, as it finds `deps`).
build:
	@bash scripts/install_deps.sh system
	@$(if $(filter true,$(CI)),bash scripts/prefetch_deps.sh,true)
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)
	@bash scripts/install_deps.sh

test: build
	@bash scripts/run_tests.sh

# `make test` plus the PostgreSQL runs of the tests of orc's own logic (helpers.LOGIC_TARGETS),
# which `make test` runs on DuckDB only to keep CI under 30 minutes.
test-full: build
	@ORC_E2E_FULL=1 bash scripts/run_tests.sh

# The Spark/Delta end-to-end test (tests/e2e/test_spark_delta.py): dbt-spark in session mode
# (pyspark and a JVM in .venv-spark, Delta jars from Maven Central). Heavy: not in `make test`.
test-spark: build
	@VENV=.venv-spark REQUIREMENTS=requirements-spark.txt bash scripts/install_deps.sh
	@ORC_TEST_SPARK=1 ORC_BIN="$${ORC_BIN:-$(BUILD)/orc}" $(VENV)/bin/python -m pytest \
	  tests/e2e/test_spark_delta.py -q -p no:cacheprovider

demo: build
	@bash scripts/demo.sh

bench: build
	@bash bench/run.sh

# The differential harness (tests/differential): N random sequences of STEPS steps from SEED,
# JOBS at a time, each step checked against a shadow dbt run. ORC_BIN overrides the binary.
N ?= 20
SEED ?= 1
STEPS ?= 8
JOBS ?= 2
differential: build
	@ORC_BIN="$${ORC_BIN:-$(BUILD)/orc}" $(VENV)/bin/python -m tests.differential \
	  -n $(N) --seed $(SEED) --steps-per-seq $(STEPS) -j $(JOBS)

# The compatibility matrix against the real dbt-orchestra 1.5.0 (tests/compat): integration
# account id unset/set × local_run true/false × settings in pyproject/environment ×
# seed_state_orchestration off/on × state in a local file/S3 (moto), plus two combinations
# with environment values as CI templates leave them; ten steps each (first run, unchanged,
# new source data, model edit, failure, fix, --select, full run, state documents swapped,
# unchanged), run by the reference and by orc on twin copies of the tutorial and compared
# after every step. `make test` runs a subset (tests/e2e/test_orchestra15_matrix.py).
# COMPAT_JOBS=2 runs two combinations at a time (each already runs both tools at once).
COMPAT_JOBS ?= 1
test-compat: build
	@VENV=.venv-orchestra15 REQUIREMENTS=requirements-orchestra15.txt bash scripts/install_deps.sh
	@ORC_BIN="$${ORC_BIN:-$(BUILD)/orc}" $(VENV)/bin/python -m tests.compat --full -j $(COMPAT_JOBS)

# libFuzzer targets (tests/fuzz) for SECONDS each, JOBS at a time, in the clang ASan+UBSan
# build dir build-fuzz (which also serves the sanitizer CI subset of `make test`).
SECONDS ?= 30
fuzz: deps
	@JOBS=$(JOBS) bash scripts/fuzz.sh $(SECONDS)

# The kill campaign (tests/kill): N runs of `orc dbt build` on the tutorial killed at random
# moments (local and S3 state), each followed by checks; ORC_BIN overrides the binary.
kill-test: build
	@ORC_BIN="$${ORC_BIN:-$(BUILD)/orc}" $(VENV)/bin/python -m tests.kill -n $(N) --seed $(SEED)

# The portable binary wheel (orc-dbt, manylinux) in dist/; see scripts/build_wheel.sh.
wheel: deps
	@bash scripts/build_wheel.sh

clean:
	rm -rf $(BUILD)
