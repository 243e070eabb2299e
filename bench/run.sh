#!/usr/bin/env bash
# `make bench`: the engine benchmark (orc vs the reference dbt-orchestra on generated projects
# of 1k–100k nodes), then the end-to-end benchmark on the tutorial project, then
# bench/results.md. Slow (tens of minutes: the reference at 50k nodes runs for minutes) and
# memory-hungry (the reference loads a 600 MB manifest into Python objects); not part of
# `make test`. Knobs: BENCH_SIZES, BENCH_REPS, BENCH_REF_REPS, BENCH_TIMEOUT (bench_engine.py),
# E2E_RUNS (bench_e2e.py), BENCH_SKIP_E2E=1.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VENV=${VENV:-.venv}
REF_VENV=bench/.venv-ref

if [ ! -x "$REF_VENV/bin/orc" ]; then
  echo "bench: creating $REF_VENV with the reference (dbt-orchestra 0.4.0)" >&2
  "${REF_PYTHON_BASE:-python3}" -m venv "$REF_VENV"
  "$REF_VENV/bin/pip" install -q -r bench/requirements-ref.txt
fi
export ORC_BIN=${ORC_BIN:-$PWD/$BUILD/orc}
export REF_PYTHON=$PWD/$REF_VENV/bin/python

"$VENV/bin/python" bench/bench_engine.py
if [ "${BENCH_SKIP_E2E:-0}" != 1 ]; then
  # The end-to-end reference is the latest dbt-orchestra (1.5.0), in .venv-orchestra15.
  VENV=.venv-orchestra15 REQUIREMENTS=requirements-orchestra15.txt bash scripts/install_deps.sh
  if [ -f tutorial/dbt_project.yml ]; then
    "$VENV/bin/python" bench/bench_e2e.py || echo "bench: end-to-end benchmark failed" >&2
  else
    echo "bench: no tutorial project (tutorial/dbt_project.yml); end-to-end part skipped" >&2
  fi
fi
"$VENV/bin/python" bench/report.py
