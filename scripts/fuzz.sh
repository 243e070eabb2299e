#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for SECONDS seconds each (JOBS at a time), on a
# scratch copy of its checked-in corpus (tests/fuzz/corpus/<target>) plus its regression
# inputs (tests/fuzz/regressions/<target>). Builds the ASan+UBSan fuzz build ($BUILD, clang)
# first. A crash, leak, timeout or sanitizer report fails the run; its input is kept in
# $BUILD/fuzz-artifacts/<target>/ (add it to tests/fuzz/regressions/<target>/ once fixed).
# Usage: scripts/fuzz.sh [SECONDS] [target...]   (env: JOBS, BUILD, NICE)
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-30}
shift || true
BUILD=${BUILD:-build-fuzz}
JOBS=${JOBS:-2}
NICE=${NICE:-0}
ROOT=$PWD

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DORC_FUZZ=ON -DCMAKE_BUILD_TYPE=Fuzz \
    -DCMAKE_CXX_FLAGS_FUZZ="-O1 -gline-tables-only" >/dev/null || exit 1
fi
cmake --build "$BUILD" >/dev/null || { cmake --build "$BUILD"; exit 1; }

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.cc; do t=${f##*/fuzz_}; targets+=("${t%.cc}"); done
fi

scratch=$(mktemp -d /tmp/orc-fuzz-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
run_one() {
  local t=$1 out=$scratch/$1
  mkdir -p "$out/corpus" "$ROOT/$BUILD/fuzz-artifacts/$t"
  (cd "$out" && nice -n "$NICE" "$ROOT/$BUILD/fuzz_$t" -max_total_time="$SECONDS_EACH" \
     -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
     -artifact_prefix="$ROOT/$BUILD/fuzz-artifacts/$t/" \
     corpus "$ROOT/tests/fuzz/corpus/$t" "$ROOT/tests/fuzz/regressions/$t") >"$out.log" 2>&1
  local rc=$? runs cov
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out.log")
  cov=$(grep -o 'cov: [0-9]*' "$out.log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz $t: ok, ${SECONDS_EACH}s, ${runs:-?} runs, ${cov:-cov: ?}"
  else
    echo "fuzz $t: FAILED (exit $rc); input in $BUILD/fuzz-artifacts/$t/, log:"
    grep -A25 -m1 'ERROR\|==ERROR\|runtime error\|deadly signal' "$out.log" | head -40
  fi
  return $rc
}
export -f run_one
export scratch ROOT BUILD SECONDS_EACH NICE
printf '%s\n' "${targets[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {}'
