#!/usr/bin/env python3
"""Drives the reference engine (the published dbt-orchestra package, unmodified) on a
generated project, phase by phase, and prints the same timing JSON as
`orc dbt orchestra plan --timings`.

Run it with the reference's own venv (bench/.venv-ref/bin/python), from anywhere:

  reference_engine.py --project DIR [--decisions-out FILE] [--state-out FILE] [--now ISO]

DIR is a directory written by gen_project.py (target/manifest.json, target/sources.json,
target/run_results.json, state.json, seeds). The computation is the reference's own code,
called in the order its CLI (orchestra_dbt.cli.main) calls it for `orc dbt build`:

  get_source_freshness   dbt's `source freshness` invocation is replaced by a no-op (the
                         generated target/sources.json is what it would have written);
                         the reference then reads sources.json itself
  load_state             its local-file backend (ORCHESTRA_STATE_FILE -> state.json)
  construct_dag          reads and walks target/manifest.json (json.load timed apart as
                         the parse phase), builds pydantic nodes, decides per-node freshness
  propagate_freshness_config, calculate_nodes_to_run   the DAG pass
  log_reused_nodes       its per-node report (stdout discarded), the counterpart of
                         orc_decisions.json
  update_state, save_state   the state update after the run, reading target/run_results.json,
                         saved through the local-file backend to --state-out

Not timed, because they are dbt or file patching, not the engine: `dbt ls` (all nodes are
selected, as with orc's plan), patching/reverting SQL files, the dbt run itself.
Monkeypatched: dbtRunner.invoke (no dbt) and the clock in orchestra_dbt.sao (fixed `now`,
so build_after windows are judged at the same instant as orc's --now).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", required=True)
    ap.add_argument("--decisions-out")
    ap.add_argument("--state-out")
    ap.add_argument("--now", default="2026-01-15T12:00:00Z")
    a = ap.parse_args()
    project = Path(a.project).resolve()
    state_out = Path(a.state_out).resolve() if a.state_out else project / "state.ref-out.json"
    decisions_out = Path(a.decisions_out).resolve() if a.decisions_out else None
    now = datetime.fromisoformat(a.now.replace("Z", "+00:00"))

    os.chdir(project)  # the reference reads target/*.json relative to the working directory
    for var in ("ORCHESTRA_API_KEY", "ORCHESTRA_INTEGRATION_ACCOUNT_ID"):
        os.environ.pop(var, None)
    os.environ["ORCHESTRA_STATE_FILE"] = str(project / "state.json")

    # Imports first, outside the timed phases (the process wall time covers them).
    import dbt.cli.main  # noqa: F401  (imported by get_source_freshness)
    from dbt.task.freshness import FreshnessTask  # noqa: F401
    import orchestra_dbt.dag as ref_dag
    import orchestra_dbt.sao as ref_sao
    from orchestra_dbt.build_after import propagate_freshness_config
    from orchestra_dbt.logger import log_reused_nodes
    from orchestra_dbt.models import Freshness, NodeType
    from orchestra_dbt.sao import calculate_nodes_to_run
    from orchestra_dbt.source_freshness import get_source_freshness
    from orchestra_dbt.state import load_state, save_state, update_state

    # I/O entry points: no dbt process, a fixed clock.
    dbt.cli.main.dbtRunner.invoke = lambda self, args=None, **kw: None

    class FixedClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return now.astimezone(tz) if tz else now.replace(tzinfo=None)

    ref_sao.datetime = FixedClock

    parse_s = 0.0
    real_load_json = ref_dag.load_json

    def timed_load_json(path):
        nonlocal parse_s
        t = time.perf_counter()
        try:
            return real_load_json(path)
        finally:
            parse_s += time.perf_counter() - t

    ref_dag.load_json = timed_load_json

    def phase(name):
        print(f"reference: {name}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the reference logs to stdout
        source_freshness = get_source_freshness(target=None)
    t1 = time.perf_counter()
    phase("sources read")
    with contextlib.redirect_stdout(sys.stderr):
        state = load_state()
    t2 = time.perf_counter()
    phase("state loaded")
    with contextlib.redirect_stdout(sys.stderr):
        dag = ref_dag.construct_dag(source_freshness, state,
                                    manifest_override=str(project / "target" / "manifest.json"))
        propagate_freshness_config(dag)
        calculate_nodes_to_run(dag)
    # The CLI's selection loop (no dbt ls: every node selected).
    nodes_to_reuse = {}
    node_count = 0
    for node_id, node in dag.nodes.items():
        if node.node_type != NodeType.MATERIALISATION:
            continue
        node_count += 1
        if node.freshness == Freshness.CLEAN:
            nodes_to_reuse[node_id] = node
    t3 = time.perf_counter()
    phase("decided")
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        log_reused_nodes(nodes_to_reuse)
    t4 = time.perf_counter()
    phase("reported")
    with contextlib.redirect_stdout(sys.stderr):
        update_state(state=state, parsed_dag=dag, source_freshness=source_freshness)
        os.environ["ORCHESTRA_STATE_FILE"] = str(state_out)
        save_state(state=state)
    t5 = time.perf_counter()
    phase("state updated")

    ms = lambda s: round(s * 1000.0, 3)  # noqa: E731
    timings = {
        "nodes": len(dag.nodes), "decided": node_count,
        "build": node_count - len(nodes_to_reuse), "reuse": len(nodes_to_reuse),
        "parse_manifest_ms": ms(parse_s), "read_sources_ms": ms(t1 - t0),
        "load_state_ms": ms(t2 - t1), "decide_ms": ms(t3 - t2 - parse_s),
        "write_decisions_ms": ms(t4 - t3), "update_state_ms": ms(t5 - t4),
        "total_ms": ms(t5 - t0),
    }
    if decisions_out:
        decisions = {
            node_id: {"decision": "reuse" if node.freshness == Freshness.CLEAN else "build",
                      "reason": node.reason}
            for node_id, node in dag.nodes.items() if node.node_type == NodeType.MATERIALISATION
        }
        decisions_out.write_text(json.dumps(decisions, sort_keys=True))
    print(json.dumps(timings), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
