#!/usr/bin/env python3
"""Renders bench/results.md from bench/out/engine.json (bench_engine.py) and
bench/out/e2e.json (bench_e2e.py), whichever exist."""
from __future__ import annotations

import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"


def mb(b: float) -> str:
    return f"{b / 2**20:.1f}"


def ms(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def secs(x_ms: float) -> str:
    return f"{x_ms / 1000:.2f} s"


def ref_cell(ref: dict) -> str:
    if "timeout_s" in ref and "skipped_after_timeout_at" in ref:
        return f"> {ref['timeout_s']:.0f} s (not run: > {ref['timeout_s']:.0f} s at {ref['skipped_after_timeout_at']:,})"
    if "timeout_s" in ref:
        return f"> {ref['timeout_s']:.0f} s"
    if "error" in ref:
        return "error"
    return secs(ref["wall_ms_median"])


def engine_section(e: dict) -> list[str]:
    L = []
    L.append("## 1. Decision engine: orc vs the reference, same generated files")
    L.append("")
    L.append(f"Machine: {e['machine']['cpus']} CPUs ({e['machine']['cpu']}), "
             f"{e['machine']['mem_gb']} GB RAM; run {e['date']}. Reference: dbt-orchestra "
             f"{e['reference'].split()[0]} (with dbt-core {e['reference'].split()[1]}, pydantic "
             f"{e['reference'].split()[2]}) in its own venv, unmodified.")
    L.append("")
    L.append("orc: `orc dbt orchestra plan --manifest … --state … --sources … --decisions-out … "
             "--run-results … --state-out … --timings` (read manifest, sources and state; decide "
             "every node; write orc_decisions.json; fold run_results.json into the state and "
             "write it). Wall = whole process, page cache warm; min and median of the "
             "repetitions shown. Reference: `bench/reference_engine.py` calls its own "
             "functions in its CLI's order (get_source_freshness with dbt stubbed out, "
             "load_state, construct_dag, propagate_freshness_config, calculate_nodes_to_run, "
             "log_reused_nodes, update_state, save_state); wall = whole process including "
             "Python start-up and imports, *engine* = the timed calls only.")
    L.append("")
    L.append("| nodes | edges | manifest MB (KB/node) | orc wall min / median (ms) | orc peak RSS MB (× manifest) | orc phases (ms): parse / sources / state / fingerprint adoption / decide / write / update | orc build / reuse: all / models+seeds+snapshots | reference wall | reference engine | reference peak RSS MB | reference build / reuse (models+seeds+snapshots) | reference / orc (wall) | reference / orc (engine) | load avg |")
    L.append("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = e["sizes"]
    by_n = {r["n"]: r for r in rows}
    for r in rows:
        m, o, ref = r["meta"], r["orc"], r["reference"]
        size = m["manifest_bytes"]
        cells = [f"{r['n']:,}", f"{m['edges']:,}", f"{mb(size)} ({size / m['nodes'] / 1024:.1f})"]
        if "error" in o:
            cells += ["n/a"] * 4
        else:
            p = o["phase_ms_median"]
            t = o["timings_median_run"]
            cells += [f"{ms(o['wall_ms_min'])} / {ms(o['wall_ms_median'])}",
                      f"{o['rss_kb_max'] / 1024:.0f} ({o['rss_kb_max'] * 1024 / size:.2f}×)",
                      " / ".join(ms(p.get(k, 0)) for k in ("parse_manifest_ms", "read_sources_ms",
                                                    "load_state_ms", "adopt_ms", "decide_ms",
                                                    "write_decisions_ms", "update_state_ms")),
                      f"{t['build']:,} / {t['reuse']:,} — "
                      f"{o['check']['materialisations'].get('build', 0):,} / "
                      f"{o['check']['materialisations'].get('reuse', 0):,}"]
        cells.append(ref_cell(ref))
        if "wall_ms_median" in ref:
            rt = ref["timings_median_run"]
            cells += [secs(ref["engine_ms_min"]), f"{ref['rss_kb_max'] / 1024:.0f}",
                      f"{rt['build']:,} / {rt['reuse']:,}"]
            if "error" not in o:
                cells += [f"{ref['wall_ms_median'] / o['wall_ms_median']:.0f}×",
                          f"{ref['engine_ms_min'] / o['phase_ms_median']['total_ms']:.0f}×"]
            else:
                cells += ["n/a", "n/a"]
        elif "timeout_s" in ref and "error" not in o:
            cells += ["—", "—", "—", f"> {ref['timeout_s'] * 1000 / o['wall_ms_median']:.0f}×", "—"]
        else:
            cells += ["—"] * 5
        cells.append(f"{r['loadavg_before']:.1f}" if "loadavg_before" in r else "?")
        L.append("| " + " | ".join(cells) + " |")
    L.append("")

    # Scaling and targets.
    L.append("### Targets")
    L.append("")
    ok = lambda b: "met" if b else "**missed**"  # noqa: E731
    if 100000 in by_n and "error" not in by_n[100000]["orc"]:
        o, m = by_n[100000]["orc"], by_n[100000]["meta"]
        wall = o["wall_ms_median"]
        rss_x = o["rss_kb_max"] * 1024 / m["manifest_bytes"]
        L.append(f"- 100k nodes, engine < 1 s wall: {ms(wall)} ms median — {ok(wall < 1000)}"
                 + ("" if wall < 1000 else f" by {wall / 1000:.2f}×") + ".")
        L.append(f"- 100k nodes, peak RSS < 3× manifest: {o['rss_kb_max'] / 1024:.0f} MB = "
                 f"{rss_x:.2f}× of {mb(m['manifest_bytes'])} MB — {ok(rss_x < 3)}.")
    if 50000 in by_n and 100000 in by_n and "error" not in by_n[50000]["orc"] \
            and "error" not in by_n[100000]["orc"]:
        a, b = by_n[50000]["orc"]["wall_ms_median"], by_n[100000]["orc"]["wall_ms_median"]
        ea = by_n[50000]["orc"]["phase_ms_median"]["total_ms"]
        eb = by_n[100000]["orc"]["phase_ms_median"]["total_ms"]
        L.append(f"- 50k → 100k time ratio ≤ 2.2: wall {b / a:.2f} (in-process {eb / ea:.2f}) — "
                 f"{ok(b / a <= 2.2)}.")
    if 10000 in by_n and "wall_ms_median" in by_n[10000]["reference"] \
            and "error" not in by_n[10000]["orc"]:
        o, ref = by_n[10000]["orc"], by_n[10000]["reference"]
        rw = ref["wall_ms_median"] / o["wall_ms_median"]
        re_ = ref["engine_ms_min"] / o["phase_ms_median"]["total_ms"]
        L.append(f"- ≥ 50× faster than the reference at 10k: {rw:.0f}× on process wall, "
                 f"{re_:.0f}× engine-only — {ok(rw >= 50)}.")
    L.append("")

    L.append("### What the generated projects contain")
    L.append("")
    L.append("| nodes | models (ephemeral) | package models / seeds | seeds | snapshots | sources | data tests | unit tests | changed checksums | new nodes | sources with new data / unknown | intended build / reuse | orc decisions ≠ intended |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        m, k, o = r["meta"], r["meta"]["kinds"], r["orc"]
        mism = "n/a" if "error" in o else str(o["check"]["mismatches"])
        L.append(f"| {r['n']:,} | {k.get('model', 0) + k.get('ephemeral', 0):,} ({k.get('ephemeral', 0):,}) "
                 f"| {k.get('package_model', 0):,} / {k.get('package_seed', 0):,} | {k.get('seed', 0):,} "
                 f"| {k.get('snapshot', 0):,} | {k.get('source', 0):,} | {k.get('test', 0):,} "
                 f"| {k.get('unit_test', 0):,} | {m['changed_checksums']:,} | {m['new_nodes']:,} "
                 f"| {m['sources_with_new_data']:,} / {m['sources_unknown']:,} "
                 f"| {m['expected_build']:,} / {m['expected_reuse']:,} | {mism} |")
    L.append("")
    return L


def e2e_section(e: dict) -> list[str]:
    L = ["## 2. End to end: plain `dbt build`, `orc dbt build` and the reference on the tutorial "
         "project (DuckDB and PostgreSQL)", ""]
    L.append(e.get("description", "") + (f" Run {e['date']}." if "date" in e else ""))
    L.append("")
    L.append("| scenario | dbt wall min / median (s) | orc wall min / median (s) | reference wall "
             "min / median (s) | orc / dbt | orc / reference | dbt processes orc / reference | "
             "dbt invocations orc / reference | nodes built dbt / orc / reference |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    failures = []
    for s in e["scenarios"]:
        tools = [(who, s.get(who, {"error": "not run"})) for who in ("dbt", "orc", "reference")]
        cells = [s["name"]]
        for who, x in tools:
            if "error" in x:
                cells.append("error")
                failures.append(f"{who} / {s['name']}: {x['error'][-400:]}")
            else:
                cells.append(f"{x['wall_s_min']:.2f} / {x['wall_s_median']:.2f}"
                             + ("" if x["all_ok"] else f" (exit {x['rc']})"))
                if not x["all_ok"]:
                    failures.append(f"{who} / {s['name']}: exit codes {x['rc']}: "
                                    f"{x['failure'][-400:]}")
        d, o, r = (x for _, x in tools)
        ratio = lambda a, b: "—" if "error" in a or "error" in b else \
            f"{a['wall_s_median'] / b['wall_s_median']:.2f}"
        cells += [ratio(o, d), ratio(o, r)]
        pair = lambda k: "—" if "error" in o or "error" in r else f"{o[k]} / {r[k]}"
        cells += [pair("dbt_processes"), pair("dbt_invocations")]
        cells.append(" / ".join(x.get("nodes_built", "—") for x in (d, o, r)))
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    for s in e["scenarios"]:
        for who in ("orc", "reference"):
            x = s.get(who, {})
            if "dbt_commands" in x:
                L.append(f"- {who}, {s['name']}: dbt processes: "
                         + ("; ".join(f"`{c[:160]}`" for c in x["dbt_commands"]) or "none"))
    L.append("")
    for f in failures:
        L.append(f"- failure: {f}")
    if failures:
        L.append("")
    for note in e.get("notes", []):
        L.append(f"- {note}")
    L.append("")
    return L


def main() -> int:
    L = ["# Benchmarks", "",
         "Generated by `make bench` (bench/run.sh). Synthetic projects come from "
         "`bench/gen_project.py` (seeded; cached under bench/out/). Do not edit by hand.", ""]
    engine, e2e = OUT / "engine.json", OUT / "e2e.json"
    if engine.exists():
        L += engine_section(json.loads(engine.read_text()))
    if e2e.exists():
        L += e2e_section(json.loads(e2e.read_text()))
    notes = BENCH / "notes.md"
    if notes.exists():
        L += [notes.read_text().rstrip(), ""]
    (BENCH / "results.md").write_text("\n".join(L))
    print(f"wrote {BENCH / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
