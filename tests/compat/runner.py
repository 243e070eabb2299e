"""Runs combinations of the matrix: per combination, twin copies of the tutorial, the steps run
by the reference on one and by orc on the other (at the same time: two processes), and the
comparison after every step (compare.py). Also checked:

- exit codes: both tools exit as the step expects (0, or 1 where a model fails on purpose);
- orc leaves the project's files as they were (the reference's patches are put back);
- the reference reads every state document orc wrote: each one is validated with the
  reference's own model (orchestra_dbt.models.StateApiModel) in its venv, and in `cross` it
  loads orc's document (it logs how many entries it retrieved) and orc loads its;
- cross-reading: after the swap, no node is built by a tool in both `cross` and
  `cross_again` unless that tool also builds it when nothing changed (`unchanged`): at most
  one rebuild of each node, then reuse.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import steps as step_defs
from .compare import (ALLOWED_DEVIATIONS, ANSI, Built, Observation, StepFindings,
                      compare_decisions, compare_states, decided_nodes, parse_reference_output,
                      record_builds)
from .matrix import ALL_STEPS, Combination
from .twins import REFERENCE_VENV, TOOLS, LocalStore, S3Store, Twin, ToolRun, \
    prepare_template, utc_now

MAX_SHOWN = 8  # mismatch lines printed per combination and step (all are counted)
RETRIEVED = re.compile(r"Retrieved (\d+) items")
# Lines of the reference that mean it could not use a state document.
REFERENCE_STATE_PROBLEMS = ("Could not load state", "Refusing to save", "Failed to save state",
                            "failed validation", "is not valid JSON")


@dataclass
class StepReport:
    step: str
    mismatches: list[str] = field(default_factory=list)
    deviations: Counter = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    reference_patched: bool = False


@dataclass
class ComboReport:
    combo: Combination
    steps: list[StepReport] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def mismatches(self) -> int:
        return sum(len(s.mismatches) for s in self.steps) + (1 if self.error else 0)


def run_combination(combo: Combination, template: tuple[Path, Path], root: Path, moto=None,
                    bucket: str | None = None, log=print) -> ComboReport:
    """Runs `combo`'s steps on fresh twins under `root`; never raises (errors are reported)."""
    report = ComboReport(combo)
    started = time.monotonic()
    try:
        _run(combo, template, root, moto, bucket, report, log)
    except Exception as exc:  # a harness or tool crash counts as a mismatch of the combination
        import traceback
        report.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
    report.seconds = time.monotonic() - started
    return report


def _run(combo, template, root, moto, bucket, report: ComboReport, log) -> None:
    twins = {}
    for tool in TOOLS:
        (root / tool).mkdir(parents=True)
        store = (S3Store(moto, bucket, f"{tool}/state.json") if combo.store == "s3"
                 else LocalStore(root / tool / "state.json"))
        twins[tool] = Twin(tool, root / tool, template, store)
        twins[tool].configure(*combo.settings(store.location))
    last_built: dict[str, dict[str, Built]] = {t: {} for t in TOOLS}
    built_in: dict[str, dict[str, set[str]]] = {t: {} for t in TOOLS}
    orc_docs: list[tuple[str, dict]] = []
    for step in combo.steps:
        rep = StepReport(step)
        report.steps.append(rep)
        change = step_defs.prepare(step, list(twins.values()), utc_now())
        swapped = {}
        if change.swap_states:
            swapped = {"reference": twins["orc"].store.read(),
                       "orc": twins["reference"].store.read()}
            for tool, doc in swapped.items():
                twins[tool].store.write(doc)
            # Each document's entries are now the other tool's builds.
            last_built["reference"], last_built["orc"] = last_built["orc"], last_built["reference"]
        with ThreadPoolExecutor(2) as pool:
            runs = dict(zip(TOOLS, pool.map(lambda t: twins[t].run(change.args), TOOLS)))
        obs = {t: _observe(twins[t], runs[t]) for t in TOOLS}
        findings = StepFindings()
        _check_runs(runs, obs, change, swapped, findings)
        for t in TOOLS:
            rep.seconds[t] = runs[t].seconds
            record_builds(t, step, obs[t], twins[t].project, last_built)
            built_in[t][step] = _built(obs[t])
        rep.reference_patched = bool(runs["reference"].changed_files)
        if obs["orc"].decisions:
            compare_decisions(obs["reference"], obs["orc"], change.comment_only,
                              change.new_rows, findings)
        else:
            findings.bad("orc", "no target/orc_decisions.json")
        compare_states(obs["reference"], obs["orc"], combo, last_built, findings)
        if step == "cross_again":
            _check_cross(built_in, findings)
        if obs["orc"].doc is not None:
            orc_docs.append((step, obs["orc"].doc))
        rep.mismatches, rep.deviations = findings.mismatches, findings.deviations
        log(f"  {combo.name} {step}: {len(rep.mismatches)} mismatches; built: reference "
            f"{len(built_in['reference'][step])}, orc {len(built_in['orc'][step])} "
            f"({runs['reference'].seconds:.0f}s, {runs['orc'].seconds:.0f}s)")
    for step, problem in _reference_reads(orc_docs, root):
        next(s for s in report.steps if s.step == step).mismatches.append(
            f"readable: the reference's StateApiModel rejects orc's document: {problem}")


def _observe(twin: Twin, run: ToolRun) -> Observation:
    results = {r["unique_id"]: r for r in (twin.read_json("run_results.json") or {})
               .get("results", [])}
    manifest = twin.read_json("manifest.json") or {"nodes": {}, "sources": {}, "parent_map": {},
                                                   "child_map": {}, "metadata": {}}
    obs = Observation(twin.tool, run.result.returncode, run.result.output, {}, results, manifest,
                      twin.store.read())
    if twin.tool == "orc":
        record = twin.read_json("orc_decisions.json") or {"nodes": []}
        obs.decisions = {n["unique_id"]: (n["decision"], n["reason_code"])
                         for n in record["nodes"]}
    else:
        reused, obs.selected_count = parse_reference_output(run.result.output)
        obs.decisions = {u: ("reuse", why) for u, why in reused.items()}
    return obs


def _built(obs: Observation) -> set[str]:
    """The decided nodes a tool built (the reference: those dbt ran; orc: decided build)."""
    nodes = decided_nodes(obs.manifest)
    if obs.tool == "reference":
        return {u for u in obs.results if u in nodes and u not in obs.decisions}
    return {u for u, (d, _) in obs.decisions.items() if d == "build" and u in nodes}


def _check_runs(runs: dict[str, ToolRun], obs: dict[str, Observation], change, swapped,
                findings: StepFindings) -> None:
    expected = 1 if change.expect_failure else 0
    for t in TOOLS:
        code = runs[t].result.returncode
        if code != expected:
            tail = "\n    ".join(ANSI.sub("", runs[t].result.output).splitlines()[-15:])
            findings.bad("exit", f"{t} exited {code}, expected {expected}:\n    {tail}")
    ref_out = ANSI.sub("", runs["reference"].result.output)
    for problem in REFERENCE_STATE_PROBLEMS:
        if problem in ref_out:
            line = next(l for l in ref_out.splitlines() if problem in l)
            findings.bad("reference", line.strip())
    if runs["orc"].changed_files:
        findings.bad("files", f"orc changed project files: {runs['orc'].changed_files}")
    if swapped:
        # The reference logs how many entries the document it loaded holds (before filtering).
        doc = swapped["reference"] or {"state": {}}
        got = [int(n) for n in RETRIEVED.findall(ref_out)]
        if not got or got[0] != len(doc["state"]):
            findings.bad("cross", f"the reference retrieved {got[:1]} entries of orc's "
                         f"{len(doc['state'])}")


def _check_cross(built_in: dict[str, dict[str, set[str]]], findings: StepFindings) -> None:
    """At most one rebuild of each node after the swap, then reuse."""
    for t in TOOLS:
        steps = built_in[t]
        if "unchanged" not in steps or "cross" not in steps:
            continue
        twice = (steps["cross"] & steps["cross_again"]) - steps["unchanged"]
        for uid in sorted(twice):
            findings.bad("cross", f"{t} built {uid} in cross and again in cross_again")


def _reference_reads(docs: list[tuple[str, dict]], root: Path) -> list[tuple[str, str]]:
    """Validates each of orc's documents with the reference's StateApiModel (in its venv);
    returns (step, problem) for every document it rejects."""
    if not docs:
        return []
    folder = root / "orc-docs"
    folder.mkdir()
    paths = []
    for i, (step, doc) in enumerate(docs):
        path = folder / f"{i}-{step}.json"
        path.write_text(json.dumps(doc))
        paths.append(str(path))
    script = ("import json, sys\nfrom orchestra_dbt.models import StateApiModel\n"
              "for p in sys.argv[1:]:\n"
              "    try:\n        StateApiModel.model_validate(json.load(open(p)))\n"
              "    except Exception as e:\n"
              "        print(p.rsplit('/', 1)[-1].split('-', 1)[1][:-5], '|',"
              " str(e).replace(chr(10), ' '))\n")
    proc = subprocess.run([str(REFERENCE_VENV / "bin" / "python"), "-c", script, *paths],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return [(docs[0][0], f"validation crashed: {proc.stderr[-500:]}")]
    return [tuple(line.split(" | ", 1)) for line in proc.stdout.splitlines() if " | " in line]


@dataclass
class MatrixReport:
    combos: list[ComboReport]
    seconds: float

    @property
    def mismatches(self) -> int:
        return sum(c.mismatches for c in self.combos)

    def text(self) -> str:
        return format_report(self)


def run_matrix(combos: list[Combination], scratch: Path | None = None, jobs: int = 1,
               log=print) -> MatrixReport:
    """Runs `combos` (`jobs` at a time, at most 2) and returns the report."""
    started = time.monotonic()
    own_scratch = scratch is None
    scratch = Path(tempfile.mkdtemp(prefix="orc-compat-")) if own_scratch else scratch
    moto = None
    try:
        template = prepare_template(scratch / "template")
        if any(c.store == "s3" for c in combos):
            from servers.moto_s3 import MotoServer
            moto = MotoServer(scratch)
        buckets = {}
        for i, c in enumerate(combos):
            if c.store == "s3":
                buckets[i] = f"orc-compat-{i}"
                moto.client().create_bucket(Bucket=buckets[i])

        def one(i: int) -> ComboReport:
            log(f"[{i + 1}/{len(combos)}] {combos[i].name}")
            return run_combination(combos[i], template, scratch / f"c{i:02d}-{combos[i].name}",
                                   moto, buckets.get(i), log)

        with ThreadPoolExecutor(max(1, min(jobs, 2))) as pool:
            reports = list(pool.map(one, range(len(combos))))
    finally:
        if moto:
            moto.stop()
        if own_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return MatrixReport(reports, time.monotonic() - started)


def format_report(report: MatrixReport) -> str:
    """The table combinations × steps, the allowed deviations counted, every mismatch."""
    all_steps = [s for s in ALL_STEPS if any(s in c.combo.steps for c in report.combos)]
    width = max(len(c.combo.name) for c in report.combos)
    cols = [max(len(s), 4) for s in all_steps]
    lines = [" ".join([f"{'combination':<{width}}"] + [f"{s:>{w}}" for s, w in
                                                        zip(all_steps, cols)] + ["  mismatches"])]
    deviations: Counter = Counter()
    details = []
    for c in report.combos:
        by_step = {s.step: s for s in c.steps}
        cells = []
        for s, w in zip(all_steps, cols):
            rep = by_step.get(s)
            cell = "-" if rep is None else (f"x{len(rep.mismatches)}" if rep.mismatches else "ok")
            if s in c.combo.steps and rep is None:
                cell = "n/a"  # not reached (crash)
            cells.append(f"{cell:>{w}}")
            if rep:
                deviations.update(rep.deviations)
                shown = rep.mismatches[:MAX_SHOWN]
                details += [f"{c.combo.name} / {s}: {m}" for m in shown]
                if len(rep.mismatches) > len(shown):
                    details.append(f"{c.combo.name} / {s}: ... and "
                                   f"{len(rep.mismatches) - len(shown)} more")
        if c.error:
            details.append(f"{c.combo.name}: crashed: {c.error}")
        lines.append(" ".join([f"{c.combo.name:<{width}}"] + cells + [f"  {c.mismatches}"]))
    steps_run = sum(len(c.steps) for c in report.combos)
    patched = sum(s.reference_patched for c in report.combos for s in c.steps)
    lines.append("")
    lines.append(f"{len(report.combos)} combinations, {steps_run} steps compared "
                 f"({steps_run * 2} tool runs), mismatches: {report.mismatches}, "
                 f"{report.seconds / 60:.1f} min")
    lines.append(f"reference runs that left project files patched (put back): {patched}")
    lines.append("")
    lines.append("allowed deviations (ALLOWED_DEVIATIONS in tests/compat/compare.py):")
    for name, (kind, why) in ALLOWED_DEVIATIONS.items():
        lines.append(f"  {deviations.get(name, 0):>5}  {name} [{kind}]: {why}")
    if details:
        lines.append("")
        lines.append("mismatches:")
        lines += [f"  {d}" for d in details]
    return "\n".join(lines)
