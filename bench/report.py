#!/usr/bin/env python3
"""Renders bench/results.md from bench/out/engine.json (bench_engine.py) and
bench/out/e2e.json (bench_e2e.py), whichever exist. Without engine.json the engine section
of the existing results.md is kept (marked as carried over)."""
from __future__ import annotations

import json
import re
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


E2E_TOOLS = ("dbt", "orc", "reference")
TARGET_RATIO = 0.5
TARGET_PROJECT = "generated 1000"


def ratio(a: dict, b: dict) -> float | None:
    """Median wall of `a` over median wall of `b`, None when either failed to run."""
    if "error" in a or "error" in b:
        return None
    return a["wall_s_median"] / b["wall_s_median"]


def project_blurb(p: dict) -> str:
    """One sentence on what a project contains and what its scenarios change."""
    m = p.get("meta") or {}
    if not m:
        return (f"The tutorial project (tutorial/). *One source changed* appends a row to "
                f"`{p['change_table']}`; *one model edited* edits `{p['edit_model']}`.")
    return (f"{m['models']:,} models ({m['views']:,} staging views, {m['tables']:,} tables, "
            f"{m['incrementals']:,} incrementals), {m['sources']:,} sources "
            f"({m['sources_without_loaded_at']:,} without loaded_at), {m['tests']:,} tests, "
            f"{m['edges']:,} edges; generated by `bench/gen_dbt_project.py --models "
            f"{m['models']} --seed {m['seed']}`. *One source changed* appends a row to "
            f"`raw.{p['change_table']}` ({m['change_source_downstream']} models downstream of "
            f"its staging view); *one model edited* edits `{p['edit_model']}` "
            f"({m['edit_model_downstream']} models downstream).")


def e2e_table(p: dict, target: str) -> tuple[list[str], list[str]]:
    """The table of one project on one target; returns (lines, failures)."""
    L = ["| scenario | dbt wall min / median (s) | orc wall min / median (s) | reference wall "
         "min / median (s) | orc / dbt | orc / reference | dbt processes dbt / orc / reference "
         "| dbt invocations dbt / orc / reference | nodes built dbt / orc / reference |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    failures = []
    for s in (s for s in p["scenarios"] if s["target"] == target):
        runs = [s.get(who, {"error": "not run"}) for who in E2E_TOOLS]
        cells = [s["name"]]
        for who, x in zip(E2E_TOOLS, runs):
            if "error" in x:
                cells.append("error")
                failures.append(f"{who} / {s['name']}: {x['error'][-400:]}")
            else:
                cells.append(f"{x['wall_s_min']:.2f} / {x['wall_s_median']:.2f}"
                             + ("" if x["all_ok"] else f" (exit {x['rc']})"))
                if not x["all_ok"]:
                    failures.append(f"{who} / {s['name']}: exit codes {x['rc']}: "
                                    f"{x['failure'][-400:]}")
        d, o, r = runs
        cells += [f"{v:.2f}" if v is not None else "—" for v in (ratio(o, d), ratio(o, r))]
        for key in ("dbt_processes", "dbt_invocations", "nodes_built"):
            cells.append(" / ".join(str(x.get(key, "—")) for x in runs))
        L.append("| " + " | ".join(cells) + " |")
    return L, failures


def e2e_targets(e: dict) -> list[str]:
    """The end-to-end targets, met or missed with figures, on the 1,000-model project."""
    L = ["### End-to-end targets", ""]
    p = next((p for p in e["projects"] if p["name"] == TARGET_PROJECT), None)
    if p is None:
        return L + [f"- {TARGET_PROJECT}: not run in this benchmark (E2E_SIZES).", ""]

    def verdict(what: str, v: float | None) -> str:
        if v is None:
            return f"- {what}: not measured (a tool failed)."
        if v <= TARGET_RATIO:
            return f"- {what}: {v:.2f}× — met."
        return (f"- {what}: {v:.2f}× — **missed** by {v - TARGET_RATIO:.2f} "
                f"(orc would have to be {v / TARGET_RATIO:.2f}× faster).")

    by_name = {s["name"]: s for s in p["scenarios"]}
    nothing = by_name.get("nothing changed", {})
    L.append(verdict(f"{TARGET_PROJECT} models, nothing changed, orc ≤ {TARGET_RATIO}× plain "
                     "`dbt build` (median wall)",
                     ratio(nothing.get("orc", {"error": ""}), nothing.get("dbt", {"error": ""}))))
    for s in p["scenarios"]:
        L.append(verdict(f"{TARGET_PROJECT} models, {s['name']}, orc ≤ {TARGET_RATIO}× the "
                         "reference (median wall)",
                         ratio(s.get("orc", {"error": ""}), s.get("reference", {"error": ""}))))
    return L + [""]


TUTORIAL_TARGETS = {"first run": 1.10, "nothing changed": 0.8}
CARRIED = "*Carried over from the previous results.md:"


def subsections(lines: list[str]) -> dict[str, list[str]]:
    """The `### ` subsections of a section, by heading text (each up to the next one)."""
    out: dict[str, list[str]] = {}
    name = None
    for line in lines:
        if line.startswith("### "):
            name = line[4:]
            out[name] = []
        if name is not None:
            out[name].append(line)
    return out


def tutorial_targets(e: dict) -> list[str]:
    """The tutorial targets against plain `dbt build`, per target warehouse."""
    p = next((p for p in e["projects"] if p["name"] == "tutorial"), None)
    if p is None:
        return []
    L = ["### Tutorial targets", ""]
    for s in p["scenarios"]:
        limit = TUTORIAL_TARGETS.get(s["name"])
        if limit is None:
            continue
        v = ratio(s.get("orc", {"error": ""}), s.get("dbt", {"error": ""}))
        what = (f"- tutorial ({s['target']}), {s['name']}, orc ≤ {limit}× plain `dbt build` "
                "(median wall)")
        if v is None:
            L.append(f"{what}: not measured (a tool failed).")
        elif v <= limit:
            L.append(f"{what}: {v:.2f}× — met.")
        else:
            L.append(f"{what}: {v:.2f}× — **missed** by {v - limit:.2f}.")
    return L + [""]


def carried(lines: list[str], why: str, when: str) -> list[str]:
    """A subsection of the last results.md kept as it was, under a carried-over notice: its
    own notice when it was already carried (its date is that of the run that measured it),
    else one saying `why`, dated `when`. Regenerating the report leaves it unchanged."""
    notice = next((l for l in lines if l.startswith(CARRIED)), f"{CARRIED} {why}{when}.*")
    body = [l for l in lines[1:] if not l.startswith(CARRIED)]
    while body and body[0] == "":
        del body[0]
    while body and body[-1] == "":
        del body[-1]
    return [lines[0], "", notice, ""] + body + [""]


def e2e_section(e: dict, previous: list[str]) -> list[str]:
    """Section 2 from e2e.json; the projects (and the targets of TARGET_PROJECT) that this run
    did not measure are carried over from `previous` (the section of the last results.md),
    marked as such."""
    L = ["## 2. End to end: plain `dbt build`, `orc dbt build` and the reference dbt-orchestra "
         "1.5.0 on the tutorial and on generated projects", ""]
    L.append(e.get("description", "") + (f" Run {e['date']}." if "date" in e else ""))
    L.append("")
    for p in e["projects"]:
        for target in dict.fromkeys(s["target"] for s in p["scenarios"]):
            L += [f"### {p['name']} ({target})", "", project_blurb(p), ""]
            table, failures = e2e_table(p, target)
            L += table + [""]
            for s in (s for s in p["scenarios"] if s["target"] == target):
                for who in ("orc", "reference"):
                    x = s.get(who, {})
                    if "dbt_commands" in x:
                        L.append(f"- {who}, {s['name']}: dbt processes: "
                                 + ("; ".join(f"`{c[:480]}`" for c in x["dbt_commands"])
                                    or "none"))
            L.append("")
            L += [f"- failure: {f}" for f in failures] + ([""] if failures else [])
    L += tutorial_targets(e)
    measured = {p["name"] for p in e["projects"]}
    old = subsections(previous)
    run = re.search(r"Run (\d{4}-\d\d-\d\d)", "\n".join(previous))
    when = f" (run {run.group(1)})" if run else ""
    for heading, lines in old.items():
        project = heading.rsplit(" (", 1)[0]
        if heading in ("End-to-end targets", "Tutorial targets") or project in measured:
            continue
        L += carried(lines, "not measured by this run (E2E_SIZES)", when)
    if TARGET_PROJECT not in measured and "End-to-end targets" in old:
        L += carried(old["End-to-end targets"],
                     f"{TARGET_PROJECT} was not measured by this run", when)
    else:
        L += e2e_targets(e)
    for note in e.get("notes", []):
        L.append(f"- {note}")
    L.append("")
    return L


def previous_section(md: Path, heading: str) -> list[str]:
    """The lines of the section of `md` whose `## ` heading starts with `heading`, up to the
    next `## ` heading ([] when absent): keeps figures whose raw data is not at hand."""
    if not md.exists():
        return []
    lines = md.read_text().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith(heading)), None)
    if start is None:
        return []
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    return lines[start:end]


def main() -> int:
    L = ["# Benchmarks", "",
         "Generated by `make bench` (bench/run.sh). Synthetic artifacts for the engine come "
         "from `bench/gen_project.py`, runnable dbt projects for the end-to-end part from "
         "`bench/gen_dbt_project.py` (both seeded). Do not edit by hand.", ""]
    engine, e2e = OUT / "engine.json", OUT / "e2e.json"
    if engine.exists():
        L += engine_section(json.loads(engine.read_text()))
    else:  # the engine part did not run here: keep the committed figures, saying so
        kept = previous_section(BENCH / "results.md", "## 1. Decision engine")
        kept = [l for l in kept if not l.startswith(CARRIED)]
        while len(kept) > 2 and kept[2] == "" and kept[1] == "":
            del kept[2]
        if kept:
            L += kept[:2] + [f"{CARRIED} bench/out/engine.json was not produced by this run.*",
                             ""] + kept[2:]
    if e2e.exists():
        L += e2e_section(json.loads(e2e.read_text()),
                         previous_section(BENCH / "results.md", "## 2. End to end"))
    notes = BENCH / "notes.md"
    if notes.exists():
        L += [notes.read_text().rstrip(), ""]
    (BENCH / "results.md").write_text("\n".join(L))
    print(f"wrote {BENCH / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
