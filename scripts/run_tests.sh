#!/usr/bin/env bash
# Runs every test: GoogleTest unit tests through CTest, then the end-to-end pytest suite
# against real dbt (DuckDB and a local PostgreSQL). Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VENV=${VENV:-.venv}
eval "$(bash scripts/pg.sh start)"

status=0
# Each stage header carries the seconds since the start, so CI logs show where time goes.
started=$SECONDS
stage() { echo "== $* [+$((SECONDS - started)) s] =="; }
# The extra venvs install in the background while tests run (scripts/prefetch_deps.sh; in CI
# `make build` started them already, and these calls then find them done or in progress); a
# stage that needs one runs install_deps.sh, which waits for the background install.
chains=("orchestra15 snowflake")
[ "${ORC_SKIP_VERSIONS:-0}" = 1 ] || chains+=("dbt110 dbt112")
bash scripts/prefetch_deps.sh "${chains[@]}"
stage "unit tests (ctest)"
ctest --test-dir "$BUILD" --output-on-failure -j2 2>&1 | tail -n 25 || status=1

stage "end-to-end tests (pytest)"
# dbt-orchestra 1.5.0 in a venv of its own, for the state cross-read (test_orchestra15_compat)
# and the subset of the compatibility matrix (test_orchestra15_matrix, tests/compat).
VENV=.venv-orchestra15 REQUIREMENTS=requirements-orchestra15.txt bash scripts/install_deps.sh
# dbt-snowflake and fakesnow, for the Snowflake metadata freshness test (test_snowflake_fakesnow).
VENV=.venv-snowflake REQUIREMENTS=requirements-snowflake.txt bash scripts/install_deps.sh
export ORC_BIN="$PWD/$BUILD/orc" PATH="$PWD/$VENV/bin:$PATH"
# Every dbt process of this stage (and of the dbt-version subsets below) is forked from a
# warm dbt of the venv (tests/dbt_fork_server.py; tests marked real_dbt run the real
# executable); the wheel's stage runs real dbt processes throughout (ORC_E2E_FORK=0), as
# users get them.
# Three workers on two cores: a dbt run waits on files and PostgreSQL part of the time, so a
# third test keeps both cores busy (E2E_WORKERS overrides, PYTEST_WORKERS sets every stage).
# The slowest tests start first (conftest.py); each test's time lands in build/e2e-junit.xml.
"$VENV/bin/python" -m pytest tests/e2e -q -p no:cacheprovider \
  -n "${E2E_WORKERS:-${PYTEST_WORKERS:-3}}" \
  --durations=15 --junitxml="$BUILD/e2e-junit.xml" ${PYTEST_ARGS:-} || status=1
stage "differential harness, fixed subsets of both worlds (tests/differential)"
# orc gets the fork-server client here (fast); the one-process driver path is covered by
# the end-to-end suite, and `make differential` campaigns use it by default. The real world
# (packages with their own vars, upgrades, late rows, relation sources, --empty; issue #31)
# and the base world's original subset both run; DIFF_WORLD=base|real runs one of them.
for world in ${DIFF_WORLD:-base real}; do
  DIFF_WORLD=$world "$VENV/bin/python" -m tests.differential --ci --orc-dbt fork \
    -j "${PYTEST_WORKERS:-2}" || status=1
done
# Two targets (issue #34): production and a CI branch over one warehouse, CI runs with
# --reuse-from, every CI relation checked against a from-scratch build of the branch. Its
# three sequences run at once (two at a time would leave one running alone).
"$VENV/bin/python" -m tests.differential --ci --targets 2 --orc-dbt fork \
  -j "${PYTEST_WORKERS:-3}" || status=1
# Issue #18: the clang ASan+UBSan build (unit tests, fuzz regressions, an end-to-end subset),
# a short fuzz run of every target and a short kill campaign (ORC_SKIP_HOSTILE=1 skips them).
if [ "${ORC_SKIP_HOSTILE:-0}" != 1 ]; then
  stage "hostile inputs: sanitizers, fuzz, kills (scripts/test_hostile.sh)"
  BUILD=$BUILD VENV=$VENV bash scripts/test_hostile.sh || status=1
fi
# The same orc against dbt-core 1.10 and 1.12: a representative subset (selection, reuse,
# failure recovery, ephemerals, slim CI, passthrough) on DuckDB, in a venv of its own per
# version.
# dbt-core 1.12 is installed without dbt-core-experimental-parser (requirements-dbt112.txt).
if [ "${ORC_SKIP_VERSIONS:-0}" != 1 ]; then
  for version in 110 112; do
    stage "end-to-end subset on dbt-core ${version:0:1}.${version:1} (pytest)"
    VENV=.venv-dbt$version REQUIREMENTS=requirements-dbt$version.txt bash scripts/install_deps.sh
    ORC_TEST_VENV="$PWD/.venv-dbt$version" "$VENV/bin/python" -m pytest tests/e2e -q \
      -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" -k "(${ORC_VERSION_SUBSET:-first_run or \
nothing_to_build or new_rows or child_that_failed or slim_ci or ephemeral_children or \
test_seed_matches_dbt or runs_from_anywhere}) and not postgres" || status=1
  done
fi
# The binary wheel: built, installed into a fresh venv holding only dbt, and an end-to-end
# subset (an S3 round trip over the bundled libcurl included) run against that `orc`.
if [ "${ORC_SKIP_WHEEL:-0}" != 1 ]; then
  stage "binary wheel (scripts/test_wheel.sh)"
  # In CI the wheel is made from the Release tree every stage above tested (scikit-build-core
  # configures it again and finds nothing to compile); elsewhere in its own build dir.
  if [ "${CI:-}" = true ]; then export WHEEL_CMAKE_DIR=$BUILD; fi
  bash scripts/test_wheel.sh || status=1
fi
stage "done (exit $status)"
exit $status
