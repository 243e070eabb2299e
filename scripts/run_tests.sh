#!/usr/bin/env bash
# Runs every test: GoogleTest unit tests through CTest, then the end-to-end pytest suite
# against real dbt (DuckDB and a local PostgreSQL). Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VENV=${VENV:-.venv}
eval "$(bash scripts/pg.sh start)"

status=0
echo "== unit tests (ctest) =="
ctest --test-dir "$BUILD" --output-on-failure -j2 2>&1 | tail -n 25 || status=1

echo "== end-to-end tests (pytest) =="
export ORC_BIN="$PWD/$BUILD/orc" PATH="$PWD/$VENV/bin:$PATH"
"$VENV/bin/python" -m pytest tests/e2e -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" \
  ${PYTEST_ARGS:-} || status=1
exit $status
