#!/usr/bin/env bash
# `make bench`: the engine benchmark (orc vs the reference dbt-orchestra on generated projects
# of 1k–100k nodes), then the end-to-end benchmark (plain dbt, orc and the reference on the
# tutorial and on generated runnable projects of 200 and 1,000 models), then
# bench/results.md. Slow (tens of minutes: the reference at 50k nodes runs for minutes) and
# memory-hungry (the reference loads a 600 MB manifest into Python objects); not part of
# `make test`. Knobs: BENCH_SIZES, BENCH_REPS, BENCH_REF_REPS, BENCH_TIMEOUT (bench_engine.py),
# E2E_RUNS, E2E_TARGETS, E2E_SIZES (e.g. 200,1000,3000) (bench_e2e.py), BENCH_SKIP_ENGINE=1
# (report.py then keeps the engine section of the existing results.md), BENCH_SKIP_E2E=1,
# CI_MODELS, BENCH_SKIP_CI=1 (bench_ci.py: a CI run after one model edit, three ways).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VENV=${VENV:-.venv}
REF_VENV=bench/.venv-ref

if [ "${BENCH_SKIP_ENGINE:-0}" != 1 ] && [ ! -x "$REF_VENV/bin/orc" ]; then
  echo "bench: creating $REF_VENV with the reference (dbt-orchestra 0.4.0)" >&2
  "${REF_PYTHON_BASE:-python3}" -m venv "$REF_VENV"
  "$REF_VENV/bin/pip" install -q -r bench/requirements-ref.txt
fi
export ORC_BIN=${ORC_BIN:-$PWD/$BUILD/orc}
export REF_PYTHON=$PWD/$REF_VENV/bin/python

if [ "${BENCH_SKIP_ENGINE:-0}" != 1 ]; then
  "$VENV/bin/python" bench/bench_engine.py
fi
if [ "${BENCH_SKIP_E2E:-0}" != 1 ]; then
  # The end-to-end reference is the latest dbt-orchestra (1.5.0), in .venv-orchestra15.
  VENV=.venv-orchestra15 REQUIREMENTS=requirements-orchestra15.txt bash scripts/install_deps.sh
  "$VENV/bin/python" bench/bench_e2e.py || echo "bench: end-to-end benchmark failed" >&2
fi
if [ "${BENCH_SKIP_CI:-0}" != 1 ]; then
  # CI after one model edit: plain dbt, slim CI and orc --reuse-from (bench/results_ci.md).
  "$VENV/bin/python" bench/bench_ci.py || echo "bench: CI benchmark failed" >&2
fi
"$VENV/bin/python" bench/report.py
