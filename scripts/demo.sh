#!/usr/bin/env bash
# The tutorial with state-aware orchestration, in a scratch copy outside the repository:
#   1. set up: copy tutorial/, dbt deps, create the raw source tables (DuckDB)
#   2. orc dbt build      -> no state yet: everything is built, state is recorded
#   3. orc dbt build      -> nothing changed: models are reused, dbt builds only what must run
#   4. new rows in the `orders` source, orc dbt build -> what depends on orders is rebuilt
# Usage: scripts/demo.sh   (ORC_BIN, VENV and ORC_DEMO_DIR override the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
ORC=${ORC_BIN:-$REPO/build/orc}
VENV=$(realpath -m "${VENV:-.venv}")
DEMO=${ORC_DEMO_DIR:-${TMPDIR:-/tmp}/orc-demo}

[ -x "$ORC" ] || { echo "demo: orc binary not found at $ORC (run make build)" >&2; exit 1; }
[ -x "$VENV/bin/dbt" ] || { echo "demo: no dbt in $VENV (run scripts/install_deps.sh)" >&2; exit 1; }
case "$DEMO" in "$REPO"|"$REPO"/*) echo "demo: ORC_DEMO_DIR must be outside the repository" >&2; exit 1;; esac

if [ -t 1 ]; then B=$'\e[1m' C=$'\e[36m' R=$'\e[0m'; else B="" C="" R=""; fi
section() { printf '\n%s%s== %s ==%s\n' "$B" "$C" "$*" "$R"; }
# Prints a command (quoting arguments that need it) and runs it.
show() {
  local line="" a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then line+="$a "; else line+="'${a//\'/\'\\\'\'}' "; fi
  done
  printf '%s$ %s%s\n' "$B" "${line% }" "$R"
  "$@"
}

# Summary of the last stateful run, read from orc's machine-readable decision record.
summarise() {
  "$VENV/bin/python" - "$DEMO/project/target/orc_decisions.json" <<'EOF'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("(no orc_decisions.json: this run was not stateful)")
    sys.exit(0)
nodes = [n for n in doc.get("nodes", []) if not n["unique_id"].startswith(("test.", "unit_test."))]
for n in sorted(nodes, key=lambda n: (n["decision"], n["unique_id"])):
    print(f"  {n['decision']:<6} {n['unique_id']:<52} {n.get('reason', '')}")
s = doc.get("summary", {})
print(f"  -> {s.get('build', '?')} to build, {s.get('reuse', '?')} reused of {s.get('decided', '?')} decided (tests included)")
EOF
}

section "Setting up a scratch copy of the tutorial in $DEMO"
rm -rf "$DEMO"
mkdir -p "$DEMO"
cp -R tutorial "$DEMO/project"
rm -rf "$DEMO/project/target" "$DEMO/project/logs" "$DEMO/project/dbt_packages"
export PATH="$VENV/bin:$PATH"
export DBT_PROFILES_DIR="$DEMO/project" ORC_DUCKDB_PATH="$DEMO/warehouse.duckdb"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
unset ORCHESTRA_API_KEY ORCHESTRA_STATE_FILE ORCHESTRA_USE_STATEFUL DBT_PROJECT_DIR DBT_TARGET_PATH
cat > "$DEMO/pyproject.toml" <<'EOF'
[tool.orchestra_dbt]
use_stateful = true
state_file = "state.json"
# seeds are rebuilt only when their file changes (by default every run reloads them)
seed_state_orchestration = true
EOF
echo '{"state":{}}' > "$DEMO/state.json"
echo "configuration: $DEMO/pyproject.toml"; sed 's/^/    /' "$DEMO/pyproject.toml"
cd "$DEMO/project"
dbt deps --quiet
show dbt run-operation setup_raw

section "Run 1: orc dbt build (empty state, so everything is built)"
show "$ORC" dbt build
summarise

section "Run 2: orc dbt build again (nothing changed upstream)"
show "$ORC" dbt build
summarise

section "New data: two rows land in the orders source"
show dbt run-operation add_raw_rows --args '{table: orders, count: 2}'

section "Run 3: orc dbt build (what reads orders is rebuilt, the rest reused)"
show "$ORC" dbt build
summarise

section "Done"
echo "state file: $DEMO/state.json ($("$VENV/bin/python" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["state"]))' "$DEMO/state.json") entries)"
echo "decisions:  $DEMO/project/target/orc_decisions.json"
