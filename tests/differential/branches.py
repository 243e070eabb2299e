"""Two-target mode (`--targets 2`): a production project and a CI branch copy of it over ONE
DuckDB warehouse and one shared state file, for orc's `--reuse-from` (issue 34).

Layout of one sequence (under the work root), besides runner.py's:
    orc/project/            production: default target `dev`, schema main
    orc/ci_project/         the branch copy: target `ci`, schema ci (same warehouse file)
    orc/state.json          shared by both (entries record their orc_target)
    shadow/warehouse.duckdb the production shadow (prod_build) or the CI truth (ci_build)

Raw tables are in schema `raw`: both targets read the same sources. Steps (text form as in
steps.py; `--replay` works with `--targets 2`):

    insert:src_a:5/ci_build              a data change (shared warehouse), then a CI run
    branch_sql_edit:m04_join:3/ci_build  a change of the branch copy only
    branch_var_change:-:2/prod_build     the branch's dbt_project.yml var min_val
    branch_env_change:-:1/ci_build       DIFF_FACTOR in the CI environment only
    none:-:0/ci_build[v=7]               --vars '{min_val: 7}' on the CI run only
    prod_sql_edit:m02_scale:4/prod_build a change landing on production, not on the branch
    merge:-:0/prod_build                 the branch's files copied to production
    drop_relation:m03_filter:0/ci_build  production's relation dropped outside dbt

Commands: `prod_build` = `orc dbt build` in the production project (checked by runner.py's
shadow oracle as in the one-target mode); `ci_build[v=N]` = `orc dbt build --target ci
--reuse-from dev [--vars ..]` in the branch copy. The oracle of a ci_build: the warehouse is
copied, the copy's schema ci is dropped and plain dbt builds the branch from scratch there
(`build --target ci --full-refresh`, same vars and env); every relation of schema ci must
hold the same rows in both (kinds may differ: a clone is a view of production's table).
Nodes orc left alone for their build_after window in the CI run, and their descendants, are
not compared; snapshots and ephemeral models never are; audit columns are left out.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import shutil
import subprocess
import time

import duckdb

from .generator import World, sim_now
from .oracle import BUILD_AFTER_CODES, FAILED, Finding, describe, read_decisions, \
    read_relations, read_run_results, reason_code
from .runner import ORC_TIMEOUT, PROFILES, SequenceRun, StepReport
from .steps import Command, Step, apply_mutation

PROD_TARGET = "dev"
CI_TARGET = "ci"
CI_SCHEMA = "ci"
PROD_SCHEMA = "main"  # production's schema (runner.py's profile)
PROFILES_2 = PROFILES + f"""    {CI_TARGET}:
      type: duckdb
      path: "{{{{ env_var('DIFF_DUCKDB_PATH') }}}}"
      schema: {CI_SCHEMA}
      threads: 4
      retries:
        connect_attempts: 12
"""
# What the warehouse and the clock hold: shared by both projects (a seed edit lands in both)
SHARED = ("rows", "load_log", "clock_offset_s", "data_version", "seed_groups", "seed_items",
          "extra_cols", "seed_loads")
DATA_KINDS = ("insert", "update", "delete", "late_insert", "seed_edit", "advance_time",
              "drop_relation", "none")
BRANCH_KINDS = ("sql_edit", "comment_edit", "config_change", "macro_edit", "var_change",
                "env_change")
BRANCH_WEIGHTS = {
    "insert": 3, "update": 2, "delete": 1.5, "late_insert": 1, "seed_edit": 1,
    "advance_time": 1.5, "drop_relation": 1.5, "none": 0.5,
    "branch_sql_edit": 3, "branch_config_change": 1.5, "branch_macro_edit": 1,
    "branch_env_change": 1, "branch_var_change": 1, "branch_comment_edit": 0.5,
    "prod_sql_edit": 1, "merge": 1.5,
}
INITIAL_BRANCH_STEP = Step("none", "-", 0, [Command("prod_build")])


def draw_branch_sequence(world: World, rng: random.Random, n_steps: int) -> list[Step]:
    """`n_steps` random two-target steps: data changes, branch-only and production-only
    edits, merges, dropped production relations, time; each followed by a production or a
    CI run (CI runs mostly after branch edits, a var only in CI now and then)."""
    kinds = list(BRANCH_WEIGHTS)
    weights = [BRANCH_WEIGHTS[k] for k in kinds]
    steps: list[Step] = []
    while len(steps) < n_steps:
        kind = rng.choices(kinds, weights)[0]
        target = "-"
        base = kind.split("_", 1)[1] if kind.startswith(("branch_", "prod_")) else kind
        if kind in ("insert", "update", "delete", "late_insert"):
            target = rng.choice(world.sources).name
        elif base in ("sql_edit", "comment_edit", "config_change"):
            target = rng.choice(world.models).name
        elif kind == "drop_relation":
            target = rng.choice([m.name for m in world.models] + world.seeds)
        p_ci = {"merge": 0.3}.get(kind, 0.85 if kind.startswith("branch_") else 0.6)
        if kind == "drop_relation":
            p_ci = 0.75
        if rng.random() < p_ci:
            cmd = Command("ci_build", vars=rng.randint(0, 10) if rng.random() < 0.15 else None)
        else:
            cmd = Command("prod_build")
        steps.append(Step(kind, target, rng.randrange(1000), [cmd]))
    return steps


class BranchRun(SequenceRun):
    """A SequenceRun (production: self.world, orc/project, checked by runner.py's oracle)
    plus the CI branch copy (self.ci_world, orc/ci_project)."""

    initial_step = INITIAL_BRANCH_STEP

    def __init__(self, seed, opts):
        if opts.world == "real":
            raise ValueError("--targets 2 runs the base world only")
        self._ci_rendered: set[str] = set()
        self.ci_world: World | None = None
        super().__init__(seed, opts)

    @property
    def ci_project(self):
        return self.orc_ws / "ci_project"

    def _setup(self) -> None:
        self.ci_world = copy.deepcopy(self.world)
        (self.orc_ws / "ci_project" / "dbt_packages").mkdir(parents=True)
        for name in self.world.package_names:
            (self.ci_project / "dbt_packages" / name).symlink_to(
                self.ci_project / "packages" / name)
        super()._setup()
        for ws in (self.orc_ws, self.shadow_ws):
            (ws / "profiles" / "profiles.yml").write_text(PROFILES_2)

    def _sync_files(self) -> None:
        super()._sync_files()
        if self.ci_world is None:
            return
        files = self.ci_world.render()
        for rel in self._ci_rendered - set(files):
            (self.ci_project / rel).unlink(missing_ok=True)
        for rel, text in files.items():
            path = self.ci_project / rel
            if path.exists() and path.read_text() == text:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self._ci_rendered = set(files)

    def _ci_env(self, ws, now):
        env = self._env(ws, now)
        env.pop("DIFF_FACTOR", None)
        if self.ci_world.env_factor is not None:
            env["DIFF_FACTOR"] = self.ci_world.env_factor
        return env

    # ---- one step ------------------------------------------------------------------------

    def _mutate(self, step: Step) -> list[str]:
        kind = step.mutation
        notes = []
        if kind == "merge":
            env = self.world.env_factor            # the environment is not a file
            self.world = copy.deepcopy(self.ci_world)
            self.world.env_factor = env
            notes.append("merge: the branch's files copied to production")
            self._sync_files()
            return notes
        if kind.startswith(("branch_", "prod_")):
            who, _, base = kind.partition("_")
            world = self.ci_world if who == "branch" else self.world
            if base not in BRANCH_KINDS:
                raise ValueError(f"unknown mutation {kind!r}")
            eff = apply_mutation(world, Step(base, step.target, step.rseed, []))
            notes.append(f"{who} only: {base} {step.target} {eff.note}".rstrip())
            if eff.raw_tables or eff.drop:
                raise ValueError(f"{kind} touched the warehouse")
            self._sync_files()
            return notes
        if kind not in DATA_KINDS:
            raise ValueError(f"unknown two-target mutation {kind!r}")
        eff = apply_mutation(self.world, step)
        for f in SHARED:
            setattr(self.ci_world, f, copy.deepcopy(getattr(self.world, f)))
        if eff.note:
            notes.append(eff.note)
        self._sync_files()
        self._apply_to_warehouse(eff.raw_tables, eff.drop)
        return notes

    def run_step(self, index: int, step: Step) -> StepReport:
        rep = StepReport(index, step.text())
        t0 = time.monotonic()
        if len(step.commands) != 1 or step.commands[0].verb not in ("prod_build", "ci_build"):
            raise ValueError(f"two-target steps end in prod_build or ci_build: {step.text()}")
        rep.notes += self._mutate(step)
        cmd = step.commands[0]
        if cmd.verb == "prod_build":
            rep.target = "prod"
            return self._orc_step(rep, step, [Command("build", vars=cmd.vars)], t0)
        rep.target = "ci"
        return self._ci_step(rep, step, Command("build", vars=cmd.vars), t0)

    def _ci_step(self, rep: StepReport, step: Step, cmd: Command, t0: float) -> StepReport:
        w = self.ci_world
        now = sim_now(w)
        index = rep.index
        target = self.ci_project / "target"
        for f in ("orc_decisions.json", "run_results.json"):
            (target / f).unlink(missing_ok=True)
        argv = [str(self.opts.orc_bin), "dbt", "build", "--target", CI_TARGET,
                "--reuse-from", PROD_TARGET, *cmd.args()]
        env = self._ci_env(self.orc_ws, now)
        t1 = time.monotonic()
        with open(self.logs / f"step{index:02d}-orc0.log", "w") as log:
            log.write("$ " + " ".join(argv) + f"\nORC_NOW={env['ORC_NOW']}\n")
            log.flush()
            try:
                proc = subprocess.run(argv, cwd=self.ci_project, env=env, stdout=log,
                                      stderr=subprocess.STDOUT, timeout=ORC_TIMEOUT)
                rep.orc_exit = [proc.returncode]
            except subprocess.TimeoutExpired:
                rep.orc_exit = [-9]
        rep.seconds_orc = time.monotonic() - t1
        decisions = read_decisions(target) or {}
        orc_status = read_run_results(target)
        with contextlib.suppress(OSError, ValueError):
            batch = json.loads((target / "orc_decisions.json").read_text()).get("clone_batch")
            rep.clone_batch = batch["outcome"] if batch else ""
        if not decisions:
            rep.notes.append(f"orc wrote no decisions (exit {rep.orc_exit})")

        # the truth: plain dbt builds the branch from scratch in a copy of the warehouse
        self._copy_db(self.orc_db, self.shadow_db)
        con = duckdb.connect(str(self.shadow_db))
        try:
            con.execute(f"drop schema if exists {CI_SCHEMA} cascade")
        finally:
            con.close()
        truth_dir = self.ci_project / "target_truth"
        (truth_dir / "run_results.json").unlink(missing_ok=True)
        targv = [str(self.opts.dbt), "build", "--target", CI_TARGET, "--full-refresh",
                 "--target-path", "target_truth", *cmd.args()]
        t2 = time.monotonic()
        with open(self.logs / f"step{index:02d}-truth.log", "w") as log:
            log.write("$ " + " ".join(targv) + "\n")
            log.flush()
            subprocess.run(targv, cwd=self.ci_project, env=self._ci_env(self.shadow_ws, now),
                           stdout=log, stderr=subprocess.STDOUT, timeout=ORC_TIMEOUT)
        rep.seconds_shadow = time.monotonic() - t2
        truth_status = read_run_results(truth_dir)

        relations = self._ci_relation_nodes()
        post = read_relations(self.orc_db, relations, schema=CI_SCHEMA)
        truth = read_relations(self.shadow_db, relations, schema=CI_SCHEMA)
        self._needless_ci_builds(rep, relations, decisions, orc_status, post)

        for uid in relations:
            d = decisions.get(uid)
            if d:
                key = f"{d['decision']} {reason_code(d)}"
                rep.reasons[key] = rep.reasons.get(key, 0) + 1
        failed = sorted(u for u, d in decisions.items() if reason_code(d) == "clone_failed")
        if failed:
            # orc's fallback (built instead): not stale, but worth a look; keep the log
            rep.notes.append("clone_failed: " + ", ".join(failed))
            keep = self.opts.work_root / f"clone_failed-seed{self.seed}-step{index:02d}.log"
            shutil.copyfile(self.logs / f"step{index:02d}-orc0.log", keep)
        rep.cloned = sum(d["decision"] == "clone" for u, d in decisions.items()
                         if u in relations)
        rep.built = sum(d["decision"] == "build" for u, d in decisions.items()
                        if u in relations)
        rep.reused = sum(d["decision"] == "reuse" for u, d in decisions.items()
                         if u in relations)

        frozen = {uid.split(".")[-1] for uid, d in decisions.items()
                  if d["decision"] == "reuse" and reason_code(d) in BUILD_AFTER_CODES}
        skipped = frozen | {x for f in frozen if f not in w.seeds for x in w.descendants(f)}
        if frozen:
            rep.notes.append("build_after in CI, not compared: " + ", ".join(sorted(skipped)))
        self._classify_ci(rep, step, relations, decisions, orc_status, truth_status, post,
                          truth, skipped)
        rep.seconds = time.monotonic() - t0
        return rep

    def _needless_ci_builds(self, rep: StepReport, relations, decisions, orc_status,
                            post) -> None:
        """A node CI built whose relation now holds the same rows as production's: a clone
        would have given the same (orc missed one, or the build was its rule's price, e.g. a
        seed on a warehouse that clones tables as views). Counted as "CI <reason code>"."""
        prod = read_relations(self.orc_db, relations, schema=PROD_SCHEMA)
        for uid in relations:
            d = decisions.get(uid)
            if not d or d["decision"] != "build" or orc_status.get(uid) != "success":
                continue
            a, p = post.get(uid), prod.get(uid)
            if a and p and "ERROR" not in (a[0], p[0]) and a[1] == p[1]:
                rep.needless.append((uid, f"CI {reason_code(d)}", d.get("reason", "")))

    def _ci_relation_nodes(self) -> dict[str, str]:
        w = self.ci_world
        out = {w.node_id(s): s for s in w.seeds}
        for m in w.models:
            if m.materialized != "ephemeral":
                out[m.unique_id] = m.relation
        return out

    def _classify_ci(self, rep, step, relations, decisions, orc_status, truth_status, post,
                     truth, skipped) -> None:
        w = self.ci_world

        def finding(uid: str, kind: str, detail: str) -> None:
            d = decisions.get(uid, {})
            rep.findings.append(Finding(self.seed, rep.index, step.text(), uid, kind,
                                        reason_code(d) if d else "not_decided",
                                        d.get("reason", "not decided by orc"), detail))

        for uid in relations:
            name = uid.split(".")[-1]
            if name in skipped:
                continue
            d = decisions.get(uid)
            o = (d["decision"] if d and d["decision"] != "build"
                 else orc_status.get(uid, "not run") if d else "not decided")
            s = truth_status.get(uid, "not run")
            o_failed = o in FAILED or o in ("not run", "not decided")
            s_failed = s in FAILED or s == "not run"
            if o_failed and s_failed:
                continue
            if o_failed:
                finding(uid, "orc_failed", f"orc: {o}, dbt: {s}")
                continue
            if s == "error":
                finding(uid, "hidden_error", f"dbt fails on it, orc: {o}")
                continue
            if s_failed:
                rep.notes.append(f"{uid}: dbt {s}, orc {o} (not compared)")
                continue
            a, b = post.get(uid), truth.get(uid)
            same = (a is not None and b is not None and a[0] != "ERROR" and b[0] != "ERROR"
                    and a[1] == b[1])
            if not same:
                kind = "missing" if a is None else "content"
                finding(uid, kind, f"orc {o}: {describe(a)} | dbt {s}: {describe(b)}")
        stale = {f.node.split(".")[-1] for f in rep.findings}
        for f in rep.findings:
            name = f.node.split(".")[-1]
            above = w.ancestors(name) if name not in w.seeds else set()
            f.via_stale = next((x for x in sorted(above) if x in stale), "")
        # test verdicts: a test orc ran must agree with dbt's; one orc did not run must pass.
        # A test of a node left alone for its build_after window (or downstream of one) reads
        # what the user chose to keep: its verdict is not compared, like that node's rows.
        manifest = self.ci_project / "target" / "manifest.json"
        nodes = json.loads(manifest.read_text()).get("nodes", {}) if manifest.exists() else {}
        for uid, d in decisions.items():
            if not uid.startswith(("test.", "unit_test.")):
                continue
            tested = {p.split(".")[-1] for p in
                      nodes.get(uid, {}).get("depends_on", {}).get("nodes", [])}
            if tested & skipped:
                continue
            s = truth_status.get(uid)
            if d["decision"] == "build":
                o = orc_status.get(uid)
                if s is not None and o is not None and o != s:
                    rep.verdicts.append(f"{uid}: orc ran it in CI: {o}, dbt: {s}")
            elif s in ("fail", "error"):
                rep.verdicts.append(f"{uid}: orc {d['decision']} it in CI "
                                    f"({reason_code(d)}), dbt: {s}")
