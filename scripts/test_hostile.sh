#!/usr/bin/env bash
# Issue #18 in `make test`: the clang ASan+UBSan build (build-fuzz, which also holds the fuzz
# targets) runs the unit tests, the replay of every fuzz corpus and regression input, and an
# end-to-end subset against its `orc`; then a short fuzz run of every target and a short kill
# campaign (tests/kill) against the release `orc`. Exits non-zero on any failure.
# Env: FUZZ_SECONDS (per target, default 10), KILL_N (default 4), HOSTILE_E2E (pytest -k).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VENV=${VENV:-.venv}
FUZZ_BUILD=build-fuzz
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0

echo "== ASan+UBSan build ($FUZZ_BUILD, clang): unit tests and fuzz regressions (ctest) =="
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$FUZZ_BUILD" -G Ninja -DORC_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" >/dev/null || exit 1
fi
cmake --build "$FUZZ_BUILD" >/dev/null || { cmake --build "$FUZZ_BUILD"; exit 1; }
ctest --test-dir "$FUZZ_BUILD" --output-on-failure -j2 2>&1 | tail -n 5 || status=1

echo "== end-to-end subset against the ASan+UBSan orc (pytest) =="
ORC_BIN="$PWD/$FUZZ_BUILD/orc" PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/python" -m pytest \
  tests/e2e -q -p no:cacheprovider -n "${PYTEST_WORKERS:-2}" \
  -k "(${HOSTILE_E2E:-first_run or nothing_to_build or new_rows or bad_state_file or bad_manifest}) and not postgres" \
  || status=1

echo "== fuzz, ${FUZZ_SECONDS:-10} s per target (scripts/fuzz.sh) =="
BUILD=$FUZZ_BUILD bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}" || status=1

echo "== kill campaign, ${KILL_N:-4} kills (tests/kill) =="
ORC_BIN="$PWD/$BUILD/orc" "$VENV/bin/python" -m tests.kill -n "${KILL_N:-4}" --seed "${KILL_SEED:-$RANDOM}" \
  || status=1
exit $status
