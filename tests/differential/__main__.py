"""Command line of the differential harness (issue #12).

    python -m tests.differential [-n 20] [--seed 1] [--steps-per-seq 8] [-j 2]
    python -m tests.differential --replay SEED --steps "STEP STEP ..."   # one sequence, verbose
    python -m tests.differential --ci                                   # the fixed CI subset
    python -m tests.differential --world real ...                       # the grown world

Campaign: sequences with seeds SEED, SEED+1, ... Each runs the initial build plus the drawn
steps; after every step the oracle compares orc's warehouse with a shadow dbt run (see
runner.py). Prints per sequence one line, then the summary: sequences, steps, stale nodes
(must be 0), needless builds by reason code, test verdict mismatches, time per step, wall
time. Every stale finding is shrunk (one per kind of finding) to a minimal sequence, printed
as a --replay command line. Exit status 1 when anything is stale or a sequence crashed.

ORC_BIN (default build/orc) is the orc under test; copy it somewhere private when the binary
is being rebuilt while you run. --real-dbt runs the real `dbt` executable instead of the fork
server (slower; to check that the fork server changes nothing).

--world real (default: $DIFF_WORLD, else base) generates the real world: packages with their
own dbt_project.yml and vars, upgrades of them, relation sources, late rows, --empty runs,
audit timestamps (generator.py). `--ci` runs the real-world CI subset when DIFF_WORLD=real.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .generator import generate
from .oracle import Finding
from .runner import (REPO, VENV_BIN, Options, SequenceReport, StepReport, run_sequence,
                     shrink)
from .steps import Step, draw_sequence

# The fixed CI subset (`--ci`, run by scripts/run_tests.sh): four sequences of six steps that
# cover root and package macro edits, an env var, a project var, config in SQL / properties /
# dbt_project.yml (materialization and alias), a dropped relation, seed edits with
# seed_state_orchestration, all four source kinds, build_after windows and time passing, a
# failing model and test and their repair, run / test / --full-refresh / a selection, and two
# concurrent runs. orc before the fingerprint engine (c7a6593) fails sequences 101-104.
CI_SEQUENCES = [
    (104, ["macro_edit:-:5/build", "env_change:-:1/build", "config_change:m13_filter:0/build",
           "drop_relation:m12_agg:0/build", "config_change:m02_filter:1/build",
           "update:src_b:3/build[s=+m07_scale]"]),
    (101, ["seed_edit:-:2/build", "var_change:-:3/build", "update:src_c:2/build",
           "advance_time:-:0/build", "break_model:m08_filter:0/build",
           "repair_model:m08_filter:0/build"]),
    (103, ["break_test:assert_sane_stg_a:0/build", "repair_test:assert_sane_stg_a:0/test",
           "sql_edit:m08_join:1/run", "comment_edit:m07_agg:0/build", "delete:src_b:4/build!",
           "insert_two:src_a+src_c:5/build[s=source:raw.src_a+]&build[s=source:raw.src_c+]"]),
    (102, ["macro_edit:-:0/build", "config_change:m06_seed_join:2/build",
           "insert:src_d:1/build", "advance_time:-:5/build", "none:-:0/build[v=1]",
           "update:src_a:7/build"]),
]


# The real-world CI subset (`--ci` with DIFF_WORLD=real): the same size as the base one, over
# real worlds (seeds 101-104 grown): a package upgrade (a var default, a model removed), a
# package var default, a root override of a package var, a root dbt_project.yml change that
# changes nothing, late rows (loaded_at_field and loaded_at_query sources), edits of the seed
# a source reads (one with --empty), a column added to a source a `select *` model reads
# (no new row, no newer loaded_at), --empty runs and the runs after them, the dispatched
# package macro's root override, --vars with a package var, audit timestamps, and of the
# base subset a selection, a failing model and test and their repair, two concurrent runs.
REAL_CI_SEQUENCES = [
    (104, ["pkg_var_change:diffpkg:0/build", "late_insert:src_a:1/build",
           "config_change:m13_filter:0/build", "seed_source_edit:-:0/build",
           "root_yml_comment:-:0/build", "update:src_b:3/build[s=+m07_scale]"]),
    (101, ["seed_edit:-:2/build", "var_change:-:4/build", "seed_source_edit:-:5/build[e]",
           "source_add_column:src_a:0/build", "break_model:m08_filter:0/build",
           "repair_model:m08_filter:0/build"]),
    (103, ["pkg_upgrade:diffpkg.var+remove:4/build", "break_test:assert_sane_stg_a:0/build",
           "repair_test:assert_sane_stg_a:0/test", "late_insert:src_c:2/build",
           "macro_edit:-:1/build",
           "insert_two:src_a+src_c:5/build[s=source:raw.src_a+]&build[s=source:raw.src_c+]"]),
    (102, ["macro_edit:-:0/build", "none:-:0/run[e]",
           "insert:src_d:1/build", "advance_time:-:5/build", "none:-:0/build[v=1;w=9]",
           "update:src_a:7/build"]),
]


# The two-target CI subset (`--ci --targets 2`): production and a CI branch copy over one
# warehouse and state file; every ci_build compared with a from-scratch build of the branch.
# Covers clones of everything, clone_still_current, a branch SQL edit and its descendants,
# a var only in CI, a branch env var, new source data after production's build, late rows,
# a dropped production relation, production catching up, a production-only edit, a merge.
BRANCH_CI_SEQUENCES = [
    (101, ["none:-:0/ci_build", "none:-:0/ci_build", "branch_sql_edit:stg_c:416/ci_build",
           "insert:src_a:594/ci_build", "drop_relation:m02_filter:104/ci_build",
           "update:src_b:3/prod_build", "none:-:0/ci_build"]),
    (103, ["none:-:0/ci_build[v=6]", "branch_env_change:-:1/ci_build",
           "late_insert:src_d:331/ci_build", "prod_sql_edit:m02_filter:4/ci_build",
           "none:-:0/prod_build", "none:-:0/ci_build", "merge:-:0/prod_build",
           "none:-:0/ci_build"]),
    (105, ["branch_config_change:stg_d:120/ci_build", "branch_macro_edit:-:3/ci_build",
           "advance_time:-:254/ci_build", "seed_edit:-:5/ci_build",
           "branch_var_change:-:51/ci_build", "merge:-:135/prod_build",
           "insert:src_c:353/ci_build"]),
]


def _start_server(tmp: Path):
    """Starts the dbt fork server (tests/dbt_fork_server.py); returns it (its `dbt` is the
    script to run as dbt)."""
    from tests.dbt_fork_server import start

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "ORC_"))}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    try:
        return start(tmp / "fork", str(VENV_BIN / "python"), env, REPO)
    except RuntimeError as e:
        raise SystemExit(str(e))


_OPTS: Options | None = None


def _init_worker(opts: Options) -> None:
    global _OPTS
    _OPTS = opts


def _run_task(task: tuple[int, list[str]]) -> SequenceReport:
    seed, steps = task
    return run_sequence(seed, [Step.parse(s) for s in steps], _OPTS)


def _shrink_task(task) -> tuple:
    seed, steps, finding = task
    minimal, trials = shrink(seed, [Step.parse(s) for s in steps], finding, _OPTS)
    return finding, [s.text() for s in minimal], trials


def _replay_line(seed: int, steps: list[str], world: str = "base", targets: int = 1) -> str:
    flag = " --world real" if world == "real" else ""
    flag += " --targets 2" if targets == 2 else ""
    return (f"python -m tests.differential --replay {seed}{flag} "
            f"--steps \"{' '.join(steps)}\"")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.differential",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=20, help="number of sequences (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--steps-per-seq", type=int, default=8, help="steps after the initial build")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel sequences")
    ap.add_argument("--replay", type=int, metavar="SEED", help="run one sequence verbosely")
    ap.add_argument("--steps", help="with --replay: the step list (default: drawn from SEED)")
    ap.add_argument("--ci", action="store_true", help="run the fixed CI subset (the real "
                    "world's when DIFF_WORLD=real)")
    ap.add_argument("--world", choices=["base", "real"],
                    default=os.environ.get("DIFF_WORLD") or "base",
                    help="base: the original generated projects; real: grown towards real "
                    "projects (packages with vars and upgrades, relation sources, late rows, "
                    "--empty, audit timestamps). Default: $DIFF_WORLD, else base")
    ap.add_argument("--targets", type=int, choices=[1, 2], default=1,
                    help="2: a production project and a CI branch copy over one warehouse "
                    "and state file, CI runs with --target ci --reuse-from dev, each checked "
                    "against a from-scratch dbt build of the branch (branches.py; base "
                    "world only)")
    ap.add_argument("--no-shrink", action="store_true", help="do not shrink stale findings")
    ap.add_argument("--shrink-limit", type=int, default=8,
                    help="findings to shrink (one per category of finding; default 8)")
    ap.add_argument("--real-dbt", action="store_true", help="run real dbt, not the fork server")
    ap.add_argument("--orc-dbt", choices=["driver", "fork"], default="driver",
                    help="how orc runs dbt: `driver` (default) gives orc the real dbt, which it "
                    "runs as one Python process per run, as users get it; `fork` gives orc the "
                    "fork server's dbt (faster; orc's driver then runs in a forked warm Python)")
    ap.add_argument("--keep", action="store_true", help="keep every workspace")
    ap.add_argument("--work-dir", help="where workspaces go (default: a temp dir)")
    ap.add_argument("--results", help="append each sequence's report to this JSON-lines "
                    "file, and skip sequences already in it (resume a long campaign)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every step")
    args = ap.parse_args(argv)

    orc_bin = Path(os.environ.get("ORC_BIN") or REPO / "build" / "orc").resolve()
    if not os.access(orc_bin, os.X_OK):
        print(f"orc binary not found at {orc_bin} (set ORC_BIN)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="orc-diff-", dir=args.work_dir))
    server = None
    if args.real_dbt:
        dbt = VENV_BIN / "dbt"
    else:
        server = _start_server(tmp)
        dbt = server.dbt
    opts = Options(orc_bin=orc_bin, dbt=dbt, work_root=tmp, keep=args.keep,
                   orc_dbt=VENV_BIN / "dbt" if args.orc_dbt == "driver" else dbt,
                   verbose=args.verbose or args.replay is not None, world=args.world,
                   targets=args.targets)
    if args.targets == 2 and args.world == "real":
        print("--targets 2 runs the base world only", file=sys.stderr)
        return 2
    draw = draw_sequence
    if args.targets == 2:
        from .branches import draw_branch_sequence as draw
    print(f"orc: {orc_bin} (dbt: {args.orc_dbt})  world: {args.world}  shadow dbt: "
          f"{'real' if args.real_dbt else 'fork server'}  work: {tmp}",
          flush=True)
    t0 = time.monotonic()
    try:
        if args.replay is not None:
            if args.steps is not None:
                steps = args.steps.split()
            else:
                world = generate(args.replay, real=args.world == "real")
                steps = [s.text() for s in draw(
                    world, random.Random(args.replay * 7919 + 1), args.steps_per_seq)]
            tasks = [(args.replay, steps)]
            jobs = 1
        elif args.ci:
            tasks = (BRANCH_CI_SEQUENCES if args.targets == 2 else
                     REAL_CI_SEQUENCES if args.world == "real" else CI_SEQUENCES)
            jobs = args.jobs
        else:
            tasks = []
            for seed in range(args.seed, args.seed + args.n):
                world = generate(seed, real=args.world == "real")
                steps = draw(world, random.Random(seed * 7919 + 1), args.steps_per_seq)
                tasks.append((seed, [s.text() for s in steps]))
            jobs = args.jobs
        no_shrink = args.no_shrink or args.ci or args.replay is not None
        code = _campaign(tasks, opts, jobs, shrink_limit=0 if no_shrink else args.shrink_limit,
                         results=Path(args.results) if args.results else None)
    finally:
        if server:
            server.stop()
        if not args.keep:
            _tidy(tmp)
    print(f"wall time: {time.monotonic() - t0:.0f}s", flush=True)
    return code


def _tidy(tmp: Path) -> None:
    """Removes the work dir unless it still holds a failing sequence's workspace."""
    if not any(p.name.startswith(("seq", "clone_failed")) for p in tmp.iterdir()):
        shutil.rmtree(tmp, ignore_errors=True)


def _load_results(path: Path | None) -> list[SequenceReport]:
    """Sequence reports saved by an earlier (interrupted) run of the same campaign."""
    if not path or not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            d["step_reports"] = [
                StepReport(**{**s, "findings": [Finding(**f) for f in s["findings"]],
                              "needless": [tuple(n) for n in s["needless"]]})
                for s in d["step_reports"]]
            out.append(SequenceReport(**d))
    return out


def _campaign(tasks, opts: Options, jobs: int, shrink_limit: int,
              results: Path | None = None) -> int:
    ctx = multiprocessing.get_context("fork")
    reports = _load_results(results)
    done = {(r.seed, tuple(r.steps)) for r in reports}
    if reports:
        print(f"resuming: {len(reports)} sequences already in {results}", flush=True)
    tasks = [t for t in tasks if (t[0], tuple(t[1])) not in done]
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(opts,)) as pool:
        for rep in pool.imap_unordered(_run_task, tasks):
            reports.append(rep)
            if results:
                with open(results, "a") as f:
                    f.write(json.dumps(dataclasses.asdict(rep)) + "\n")
            n_stale = len(rep.findings)
            steps_t = [s.seconds for s in rep.step_reports]
            print(f"seed {rep.seed}: {len(rep.step_reports)} steps, {rep.seconds:.0f}s "
                  f"({statistics.mean(steps_t) if steps_t else 0:.1f}s/step), "
                  f"stale {n_stale}" + (", CRASHED" if rep.error else "")
                  + (f", kept {rep.workspace}" if rep.workspace else ""), flush=True)
            for f in rep.findings:
                print("  STALE " + f.line(), flush=True)
            if rep.findings:
                print("  replay: " + _replay_line(rep.seed, rep.steps, opts.world,
                                                  opts.targets),
                      flush=True)
            for h in (h for s in rep.step_reports for h in s.harness):
                print("  HARNESS " + h, flush=True)
            if rep.error:
                print("  " + rep.error.replace("\n", "\n  "), flush=True)
        shrunk = []
        if shrink_limit:
            seen = set()
            todo = []
            for rep in sorted(reports, key=lambda r: r.seed):
                for f in rep.findings:
                    if f.category not in seen and len(todo) < shrink_limit:
                        seen.add(f.category)
                        todo.append((rep.seed, rep.steps, f))
            if todo:
                print(f"shrinking {len(todo)} findings (one per category) ...", flush=True)
                shrunk = list(pool.imap_unordered(_shrink_task, todo))
    return _summary(reports, shrunk, opts.world, opts.targets)


def _summary(reports: list[SequenceReport], shrunk, world: str = "base",
             targets: int = 1) -> int:
    steps = [s for r in reports for s in r.step_reports]
    findings = [f for r in reports for f in r.findings]
    needless = collections.Counter(code for s in steps for _, code, _ in s.needless)
    examples: dict[str, str] = {}
    for r in reports:
        for s in r.step_reports:
            for uid, code, reason in s.needless:
                examples.setdefault(code, f"e.g. seed {r.seed} step {s.index} [{s.step}] "
                                          f"{uid}: {reason}")
    verdicts = [f"seed {r.seed} step {s.index}: {v}" for r in reports for s in r.step_reports
                for v in s.verdicts]
    crashed = [r for r in reports if r.error]
    harness = [h for s in steps for h in s.harness]
    print("\n== differential summary ==")
    print(f"sequences: {len(reports)}  steps: {len(steps)} (incl. initial builds)"
          f"  crashed: {len(crashed)}"
          + (f"  HARNESS MODEL ERRORS: {len(harness)}" if harness else ""))
    if steps:
        print(f"time per step: mean {statistics.mean(s.seconds for s in steps):.1f}s "
              f"(orc {statistics.mean(s.seconds_orc for s in steps):.1f}s, "
              f"shadow dbt {statistics.mean(s.seconds_shadow for s in steps):.1f}s), "
              f"max {max(s.seconds for s in steps):.1f}s")
    print(f"stale nodes: {len(findings)}")
    by_category = collections.Counter(f.category for f in findings)
    for category, n in by_category.most_common():
        steps_of = collections.Counter(f.step.split(":")[0] for f in findings
                                       if f.category == category)
        print(f"  {n:4d}  {category}   (after: "
              + ", ".join(f"{k} {v}" for k, v in steps_of.most_common()) + ")")
    for finding, minimal, trials in shrunk:
        print(f"  minimal ({trials} runs) for {finding.node} [{finding.category}], "
              f"seed {finding.seed}:\n    " + _replay_line(finding.seed, minimal, world,
                                                            targets))
    if targets == 2:
        _branch_summary(reports)
    print(f"needless builds: {sum(needless.values())}"
          + "".join(f"\n  {n:4d}  {code}\n          {examples[code][:160]}"
                    for code, n in needless.most_common()))
    print(f"test verdict mismatches: {len(verdicts)}"
          + "".join(f"\n  {v}" for v in verdicts[:30])
          + (f"\n  ... {len(verdicts) - 30} more" if len(verdicts) > 30 else ""))
    return 1 if findings or crashed or harness else 0


def _branch_summary(reports: list[SequenceReport]) -> None:
    """The two-target mode's figures: CI runs, their decisions over relation nodes (models
    and seeds), reason codes, and the stale CI relations among the findings."""
    steps = [s for r in reports for s in r.step_reports]
    ci = [s for s in steps if s.target == "ci"]
    prod = [s for s in steps if s.target == "prod"]
    stale_ci = sum(len(s.findings) for s in ci)
    stale_prod = sum(len(s.findings) for s in prod)
    print(f"two targets: prod_build steps {len(prod)} (stale {stale_prod}), ci_build steps "
          f"{len(ci)} (stale CI relations {stale_ci})")
    if ci:
        print(f"  CI relation nodes: cloned {sum(s.cloned for s in ci)}, built "
              f"{sum(s.built for s in ci)}, reused {sum(s.reused for s in ci)}; ci_builds "
              f"with a clone {sum(1 for s in ci if s.cloned)}, with a build "
              f"{sum(1 for s in ci if s.built)}")
        batches = collections.Counter(s.clone_batch for s in ci if s.clone_batch)
        print(f"  clone batches: {sum(batches.values())} ("
              + ", ".join(f"{n} {outcome}" for outcome, n in sorted(batches.items()))
              + "; a batch not cloned hands its nodes to dbt clone)")
        needless = sum(1 for s in ci for _, code, _ in s.needless if code.startswith("CI "))
        print(f"  CI builds whose rows equal production's relation (a clone would have "
              f"matched): {needless}, by reason under 'needless builds' (\"CI <code>\")")
        codes = collections.Counter()
        for s in ci:
            codes.update(s.reasons)
        for code, n in codes.most_common():
            print(f"  {n:5d}  {code}")
        fails = [f"seed {r.seed} step {s.index} [{s.step}]: {note}" for r in reports
                 for s in r.step_reports for note in s.notes if note.startswith("clone_failed")]
        if fails:
            print(f"  dbt clone failed (orc built instead) in {len(fails)} CI runs (logs: "
                  "clone_failed-*.log in the work dir):" + "".join(f"\n    {x}"
                                                                   for x in fails[:10]))


if __name__ == "__main__":
    sys.exit(main())
