"""Runs one differential sequence: orc on a generated project, step by step, each step
checked against a shadow `dbt` run; and shrinks a failing sequence.

Layout of one sequence (under the work root):
    orc/pyproject.toml      [tool.orchestra_dbt] use_stateful, state_file = "state.json"
    orc/state.json          orc's state (shared by concurrent runs)
    orc/warehouse.duckdb    orc's warehouse (raw tables in schema raw, models in main)
    orc/project/            the generated project (root + packages/diffpkg, packages/auxpkg)
    shadow/warehouse.duckdb the shadow warehouse, recreated at every step
    shadow/project/         the same project files, for the shadow's own dbt
    pre.duckdb              orc's warehouse as it was just before orc's run

The oracle of one step. Just before orc runs, orc's warehouse is copied (pre.duckdb). After
orc's run the copy becomes the shadow warehouse and plain dbt runs on it: the same verb, the
same selection, the same vars and environment, plus `--full-refresh` (so every selected
relation is rebuilt from scratch, incremental models included) and `--exclude` of the nodes
orc left alone because of their build_after window (their content in orc's warehouse is
staleness the user asked for; excluding them means their descendants are computed from the
same content in both). Every selected relation must then be identical in both warehouses,
except where the build failed in both. Starting from orc's pre-step warehouse rather than an
empty one is what makes selections sound: a node outside the selection is in both warehouses
exactly as dbt would leave it.

Two refinements. An `--empty` step runs the shadow with `--empty` too (every selected model
must then be empty in the shadow, or the harness's own model is wrong); the next normal step
compares full data again. A source whose table is a seed's or snapshot's relation is a
dependency dbt does not know: a reader of it may run before or while that node is rebuilt.
The shadow fixes the order (when the node was built in the step and a reader ran before it
finished, the readers run again after it); in orc's run a reader that raced the node is not
compared in that step (the next step compares it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .generator import RAW_SCHEMA, SNAPSHOT_ID, World, generate, sim_now
from .oracle import (BUILD_AFTER_CODES, FAILED, Finding, describe, read_compiled,
                     read_decisions, read_relations, read_run_results, read_timing,
                     reason_code)
from .steps import INITIAL_STEP, Command, Step, apply_mutation

REPO = Path(__file__).resolve().parents[2]
# the venv with dbt (ORC_TEST_VENV, as the e2e tests take it, e.g. from a git worktree)
VENV_BIN = Path(os.environ.get("ORC_TEST_VENV") or REPO / ".venv") / "bin"
_SCRUBBED = ("ORCHESTRA_", "DBT_", "ORC_", "AWS_", "GOOGLE_", "AZURE_", "DIFF_")
PROFILES = """diff:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('DIFF_DUCKDB_PATH') }}"
      schema: main
      threads: 4
      retries:
        connect_attempts: 12
"""
ORC_TIMEOUT = 900
WINDOW_SLACK = dt.timedelta(minutes=5)


@dataclass
class Options:
    orc_bin: Path
    dbt: Path                    # the dbt of the shadow run (fork-server client or real)
    work_root: Path
    orc_dbt: Path | None = None  # ORC_DBT for orc (default: `dbt`); see --orc-dbt
    keep: bool = False           # keep every workspace (default: only failing ones)
    stop_at_first_stale: bool = False
    verbose: bool = False
    world: str = "base"          # base | real (generate(seed, real=True))
    targets: int = 1             # 2: production + a CI branch target (branches.py)


@dataclass
class StepReport:
    index: int
    step: str
    seconds: float = 0.0
    seconds_orc: float = 0.0
    seconds_shadow: float = 0.0
    built: int = 0
    reused: int = 0
    cloned: int = 0
    clone_batch: str = ""        # two-target mode: the clone batch's outcome ("" when none ran)
    target: str = ""             # two-target mode: "prod" | "ci" (whose run the step is)
    reasons: dict[str, int] = field(default_factory=dict)  # ci: relation nodes by decision/code
    orc_exit: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    needless: list[tuple[str, str, str]] = field(default_factory=list)  # (node, code, reason)
    verdicts: list[str] = field(default_factory=list)                 # test verdict mismatches
    notes: list[str] = field(default_factory=list)
    harness: list[str] = field(default_factory=list)   # the harness's own model was wrong


@dataclass
class SequenceReport:
    seed: int
    steps: list[str]
    step_reports: list[StepReport] = field(default_factory=list)
    error: str | None = None
    workspace: str | None = None
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.step_reports for f in s.findings]


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.pop("PYTHONPATH", None)
    return env


def _sha(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class SequenceRun:
    """One sequence's workspace and the harness's memory of it between steps."""

    initial_step = INITIAL_STEP

    def __init__(self, seed: int, opts: Options):
        self.seed = seed
        self.opts = opts
        self.world: World = generate(seed, real=opts.world == "real")
        self.root = opts.work_root / f"seq{seed}-{uuid.uuid4().hex[:8]}"
        self.orc_ws = self.root / "orc"
        self.shadow_ws = self.root / "shadow"
        self.pre_db = self.root / "pre.duckdb"
        self.logs = self.root / "logs"
        # harness memory, per unique_id
        self.gen: dict[str, int] = {}                  # successful builds so far
        self.built_key: dict[str, str] = {}            # input key at the last build
        self.built_def: dict[str, str] = {}            # definition key at the last build
        self.last_build_sim: dict[str, dt.datetime] = {}
        self.last_verdict: dict[str, str] = {}
        self.snap_content: str | None = None           # seed_items' key at the last snapshot
        self.emptied: set[str] = set()                 # models last built by an --empty run
        self.compiled: dict[str, tuple[str, str]] = {}  # uid -> (definition key, SQL) by dbt
        self._rendered: set[str] = set()
        self._setup()

    # ---- workspace -----------------------------------------------------------------------

    @property
    def orc_project(self) -> Path:
        return self.orc_ws / "project"

    @property
    def shadow_project(self) -> Path:
        return self.shadow_ws / "project"

    @property
    def orc_db(self) -> Path:
        return self.orc_ws / "warehouse.duckdb"

    @property
    def shadow_db(self) -> Path:
        return self.shadow_ws / "warehouse.duckdb"

    def _setup(self) -> None:
        for ws in (self.orc_ws, self.shadow_ws):
            (ws / "project").mkdir(parents=True)
            (ws / "profiles").mkdir()
            (ws / "profiles" / "profiles.yml").write_text(PROFILES)
            pkgs = ws / "project" / "dbt_packages"
            pkgs.mkdir()
            # what `dbt deps` does for a local package
            for name in self.world.package_names:
                (pkgs / name).symlink_to(ws / "project" / "packages" / name)
        self.logs.mkdir()
        self._write_pyproject()
        (self.orc_ws / "state.json").write_text('{"state":{}}')
        self._sync_files()
        con = duckdb.connect(str(self.orc_db))
        try:
            con.execute(f"create schema if not exists {RAW_SCHEMA}")
            for table in self.world.rows:
                for sql in self.world.raw_table_sql(table):
                    con.execute(sql)
            for sql in self.world.load_log_sql():
                con.execute(sql)
        finally:
            con.close()

    def _write_pyproject(self) -> None:
        sso = "true" if self.world.seed_state_orchestration else "false"
        (self.orc_ws / "pyproject.toml").write_text(
            "[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = \"state.json\"\n"
            f"seed_state_orchestration = {sso}\n")

    def _sync_files(self) -> None:
        """Writes the rendered project into both workspaces; removes files that are no
        longer rendered (a model a package upgrade removed, an override macro dropped)."""
        files = self.world.render()
        for project in (self.orc_project, self.shadow_project):
            for rel in self._rendered - set(files):
                (project / rel).unlink(missing_ok=True)
            for rel, text in files.items():
                path = project / rel
                if path.exists() and path.read_text() == text:
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        self._rendered = set(files)

    def _env(self, ws: Path, now: dt.datetime) -> dict[str, str]:
        env = base_env()
        env["DBT_PROFILES_DIR"] = str(ws / "profiles")
        env["DIFF_DUCKDB_PATH"] = str(ws / "warehouse.duckdb")
        env["ORC_DBT"] = str(self.opts.orc_dbt or self.opts.dbt)
        env["ORC_NOW"] = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if self.world.env_factor is not None:
            env["DIFF_FACTOR"] = self.world.env_factor
        return env

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- warehouse helpers ---------------------------------------------------------------

    def relation_nodes(self) -> dict[str, str]:
        """{unique_id: relation name} of every node that has a relation (non-ephemeral
        models, seeds)."""
        out = {self.world.node_id(s): s for s in self.world.seeds}
        for m in self.world.models:
            if m.materialized != "ephemeral":
                out[m.unique_id] = m.relation
        return out

    def _apply_to_warehouse(self, tables: set[str], drop: str | None) -> None:
        if not tables and not drop:
            return
        con = duckdb.connect(str(self.orc_db))
        try:
            for table in sorted(tables):
                for sql in self.world.raw_table_sql(table):
                    con.execute(sql)
            if any(self.world.source(t).kind == "query" for t in tables):
                for sql in self.world.load_log_sql():
                    con.execute(sql)
            if drop:
                rel = drop if drop in self.world.seeds else self.world.model(drop).relation
                kind = con.execute("select table_type from information_schema.tables where "
                                   "table_schema = 'main' and table_name = ?", [rel]).fetchone()
                if kind:
                    what = "view" if kind[0] == "VIEW" else "table"
                    con.execute(f'drop {what} main."{rel}"')
        finally:
            con.close()

    @staticmethod
    def _copy_db(src: Path, dst: Path) -> None:
        for suffix in ("", ".wal"):
            d = Path(str(dst) + suffix)
            if d.exists():
                d.unlink()
        shutil.copyfile(src, dst)
        wal = Path(str(src) + ".wal")
        if wal.exists():
            shutil.copyfile(wal, Path(str(dst) + ".wal"))

    # ---- the harness's knowledge of each node's inputs -----------------------------------

    def definition_key(self, name: str, cli: dict[str, int]) -> str:
        """Hash of what defines a node apart from upstream data: its SQL file, config,
        macros, vars (as dbt resolves them for the node's package; `cli` = --vars) and env
        vars it reads (and those of ephemeral parents)."""
        w = self.world
        if name in w.seeds:
            return _sha(name, w.render()[f"seeds/{name}.csv"])
        m = w.model(name)
        # comments do not count: orc fingerprints normalised code
        parts = [w._model_sql(m, comments=False), m.materialized, m.alias]
        if m.uses_macro:
            parts += ["macro", w.macro_c]
        if m.template == "pkg_enrich":
            parts += ["pkg_macro", w.pkg_macro_c]
        if m.template == "pkg_scale":
            parts += ["scale", w.scale_impl(m.package)]
        for var in w.vars_read(m):
            value = (cli.get(var, w.min_val) if var == "min_val"
                     else w.var_value(m.package, var, cli))
            parts += ["var", var, value]
        if m.uses_env:
            parts += ["env", w.env_factor]
        for p in m.refs:
            if not p.startswith("source:") and p not in w.seeds \
                    and w.model(p).materialized == "ephemeral":
                parts.append(self.definition_key(p, cli))
        return _sha(*parts)

    def underlying_key(self, source: str) -> str | None:
        """What the relation behind a relation source holds, as far as its readers see it:
        the seed file at the seed's last build, or seed_items at the snapshot's last run."""
        node = self.world.source(source).relation_of
        if node == "snap_items":
            return self.snap_content
        return self.built_def.get(self.world.node_id(node))

    def input_key(self, name: str, cli: dict[str, int]) -> str:
        """definition_key plus the versions of everything upstream: source data versions and
        how often each parent relation was built (through ephemeral parents, and through
        views, whose content follows their own inputs without a rebuild)."""
        w = self.world
        if name in w.seeds:
            return self.definition_key(name, cli)
        upstream = []
        for p in w.model(name).refs:
            if w.is_rel_source(p):
                upstream.append((p, self.underlying_key(p[7:])))
            elif p.startswith("source:"):
                upstream.append((p, w.data_version[p[7:]]))
            elif p in w.seeds:
                upstream.append((p, self.gen.get(w.node_id(p), 0)))
            elif w.model(p).materialized == "ephemeral":
                upstream.append((p, self.input_key(p, cli)))
            elif w.model(p).materialized == "view":  # live: its inputs are the child's too
                upstream.append((p, self.gen.get(w.model(p).unique_id, 0),
                                 self.input_key(p, cli)))
            else:
                upstream.append((p, self.gen.get(w.model(p).unique_id, 0)))
        return _sha(self.definition_key(name, cli), upstream)

    def upstream_text(self, name: str, decisions: dict[str, dict]) -> str:
        """The node's parents, recursively, with materialization and orc's decision:
        `m08(table: reuse no_new_data) <- [m05(view: reuse build_after_window) <- [...]]`."""
        w = self.world
        if name.startswith("source:"):
            return name
        if name in w.seeds:
            kind, refs = "seed", []
        else:
            m = w.model(name)
            kind, refs = m.materialized, m.refs
        d = decisions.get(w.node_id(name))
        what = f"{d['decision']} {reason_code(d)}" if d else "not decided"
        inner = ", ".join(self.upstream_text(p, decisions) for p in refs)
        return f"{name}({kind}: {what})" + (f" <- [{inner}]" if inner else "")

    def unbuilt_view_upstream(self, name: str, decisions: dict[str, dict]) -> str | None:
        """A view the node reads (directly or through views/ephemerals) that orc did not
        build in this step, if any: data reaches the node through it without a rebuild."""
        w = self.world
        if name.startswith("source:") or name in w.seeds:
            return None
        for p in w.model(name).refs:
            if p.startswith("source:") or p in w.seeds:
                continue
            pm = w.model(p)
            if pm.materialized == "view":
                d = decisions.get(pm.unique_id)
                if not d or d["decision"] != "build":
                    return f"{p} ({reason_code(d) if d else 'not selected'})"
            if pm.materialized in ("view", "ephemeral"):
                found = self.unbuilt_view_upstream(p, decisions)
                if found:
                    return found
        return None

    def expected_kind(self, uid: str) -> str:
        name = uid.split(".")[-1]
        if name in self.world.seeds:
            return "BASE TABLE"
        return "VIEW" if self.world.model(name).materialized == "view" else "BASE TABLE"

    # ---- running -------------------------------------------------------------------------

    def _run_orc(self, commands: list[Command], now: dt.datetime, index: int
                 ) -> tuple[list[int], dict[str, dict] | None, dict[str, str], dict]:
        """Runs orc (two processes at once for a concurrent step, the second with its own
        --target-path). Returns exit codes, decisions, run results and execute timings
        (merged)."""
        env = self._env(self.orc_ws, now)
        targets = ["target", "target_b"][:len(commands)]
        for t in targets:
            for f in ("orc_decisions.json", "run_results.json"):
                (self.orc_project / t / f).unlink(missing_ok=True)
        procs = []
        for i, (cmd, t) in enumerate(zip(commands, targets)):
            argv = [str(self.opts.orc_bin), "dbt", cmd.verb, *cmd.args()]
            if t != "target":
                argv += ["--target-path", t]
            log = open(self.logs / f"step{index:02d}-orc{i}.log", "w")
            log.write("$ " + " ".join(argv) + f"\nORC_NOW={env['ORC_NOW']}\n")
            log.flush()
            procs.append((subprocess.Popen(argv, cwd=self.orc_project, env=env, stdout=log,
                                           stderr=subprocess.STDOUT), log))
        codes = []
        for proc, log in procs:
            try:
                codes.append(proc.wait(timeout=ORC_TIMEOUT))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(-9)
            log.close()
        decisions: dict[str, dict] | None = None
        results: dict[str, str] = {}
        timing: dict[str, tuple[str, str]] = {}
        for t in targets:
            d = read_decisions(self.orc_project / t)
            if d is not None:
                decisions = {**(decisions or {}), **d}
            results.update(read_run_results(self.orc_project / t))
            timing.update(read_timing(self.orc_project / t))
        return codes, decisions, results, timing

    def _run_shadow(self, commands: list[Command], frozen: list[str], now: dt.datetime,
                    index: int, only: list[str] | None = None
                    ) -> tuple[int, dict[str, str], dict, dict[str, str]]:
        """Plain dbt on the shadow warehouse: the step's verb and selection (both selections
        of a concurrent step), --full-refresh for build/run, --empty when the step has it,
        and --exclude of `frozen`; with `only`, exactly those nodes instead. Returns the exit
        code, run results, execute timings and compiled SQL."""
        first = commands[0]
        cmd = Command(first.verb, full_refresh=first.verb != "test", vars=first.vars,
                      pvars=first.pvars, empty=first.empty,
                      select=[s for c in commands for s in c.select],
                      exclude=list(first.exclude) if len(commands) == 1 else [])
        if only is not None:
            cmd.select, cmd.exclude, frozen = only, [], []
        argv = [str(self.opts.dbt), cmd.verb, *cmd.args(extra_exclude=frozen)]
        target = self.shadow_project / "target"
        (target / "run_results.json").unlink(missing_ok=True)
        name = f"step{index:02d}-shadow" + ("-again" if only is not None else "")
        with open(self.logs / f"{name}.log", "w") as log:
            log.write("$ " + " ".join(argv) + "\n")
            log.flush()
            proc = subprocess.run(argv, cwd=self.shadow_project,
                                  env=self._env(self.shadow_ws, now), stdout=log,
                                  stderr=subprocess.STDOUT, timeout=ORC_TIMEOUT)
        return (proc.returncode, read_run_results(target), read_timing(target),
                read_compiled(target))

    # ---- relation sources: the order dbt does not know ------------------------------------

    def raced(self, sources: list[str], status: dict[str, str], timing: dict,
              decisions: dict[str, dict] | None = None) -> set[str]:
        """Readers of `sources` (models downstream of them) that ran in a run whose node
        behind the source was built, and started before that node was done (or have no
        timing): they may have read the old rows, or none while the node was recreated
        (a seed's --full-refresh drops its table first). With `decisions`, only readers
        orc built."""
        w = self.world
        out: set[str] = set()
        for name in sources:
            node = w.source(name).relation_of
            uid = SNAPSHOT_ID if node == "snap_items" else w.node_id(node)
            if status.get(uid) != "success" or uid not in timing:
                continue
            done = timing[uid][1]
            for reader in w.descendants(f"source:{name}"):
                rid = w.model(reader).unique_id
                if rid not in status or w.model(reader).materialized == "ephemeral":
                    continue
                if decisions is not None and decisions.get(rid, {}).get("decision") != "build":
                    continue
                if rid not in timing or timing[rid][0] < done:
                    out.add(reader)
        return out

    def run_step(self, index: int, step: Step) -> StepReport:
        rep = StepReport(index, step.text())
        t0 = time.monotonic()
        w = self.world
        eff = apply_mutation(w, step)
        if eff.note:
            rep.notes.append(eff.note)
        self._sync_files()
        self._apply_to_warehouse(eff.raw_tables, eff.drop)
        return self._orc_step(rep, step, step.commands, t0)

    def _orc_step(self, rep: StepReport, step: Step, commands: list[Command],
                  t0: float) -> StepReport:
        """orc's run of `commands` on the (production) project, the shadow run and the
        oracle (run_step after the mutation; the two-target mode's prod_build too)."""
        w = self.world
        relations = self.relation_nodes()
        pre = read_relations(self.orc_db, relations)
        self._copy_db(self.orc_db, self.pre_db)
        now = sim_now(w)
        index = rep.index
        cli = commands[0].cli_vars()
        empty = any(c.empty for c in commands)
        rel_sources = [s.name for s in w.rel_sources]

        t1 = time.monotonic()
        rep.orc_exit, decisions, orc_status, orc_timing = self._run_orc(commands, now,
                                                                        index)
        rep.seconds_orc = time.monotonic() - t1
        post = read_relations(self.orc_db, relations)
        decisions = decisions or {}
        if not decisions:
            rep.notes.append(f"orc wrote no decisions (exit {rep.orc_exit})")
        rep.built = sum(d["decision"] == "build" for d in decisions.values())
        rep.reused = len(decisions) - rep.built

        # an --empty run builds every selected relation, build_after or not
        frozen_ids = [] if empty else [
            uid for uid, d in decisions.items()
            if d["decision"] == "reuse" and reason_code(d) in BUILD_AFTER_CODES
            and uid in relations]
        frozen = [uid.split(".")[-1] for uid in frozen_ids]
        self._copy_db(self.pre_db, self.shadow_db)
        t2 = time.monotonic()
        _, shadow_status, timing, compiled = self._run_shadow(commands, frozen, now, index)
        again = self.raced(rel_sources, shadow_status, timing)
        if again:
            # readers ran before the node behind their source was rebuilt: run them (and
            # what the run selected downstream of them) again, after it
            closure = again | {d for r in again for d in w.descendants(r)
                               if w.model(d).unique_id in shadow_status}
            rep.notes.append("shadow: readers of a relation source run again: "
                             + ", ".join(sorted(closure)))
            _, status2, _, compiled2 = self._run_shadow(commands, frozen, now, index,
                                                        only=sorted(closure))
            shadow_status.update(status2)
            compiled.update(compiled2)
        rep.seconds_shadow = time.monotonic() - t2
        shadow = read_relations(self.shadow_db, relations)
        raced = self.raced(rel_sources, orc_status, orc_timing, decisions)
        raced_ids = {w.model(n).unique_id for r in raced for n in {r} | w.descendants(r)}
        if raced:
            rep.notes.append("orc: readers of a relation source raced the node behind it "
                             "(not compared in this step): " + ", ".join(sorted(raced)))

        full_refresh = any(c.full_refresh for c in commands)
        self._check_model(rep, cli, shadow_status, compiled, empty, shadow, relations)
        self._classify(rep, step, relations, decisions, orc_status, shadow_status,
                       pre, post, shadow, set(frozen_ids), now, cli, full_refresh, empty,
                       raced_ids)
        rep.seconds = time.monotonic() - t0
        return rep

    def _relations_read(self, name: str) -> list[str]:
        """The relation names in model `name`'s compiled SQL: its model parents', and those
        its ephemeral parents read (dbt inlines them as CTEs)."""
        w, out = self.world, []
        for p in w.model(name).refs:
            if p.startswith("source:") or p in w.seeds:
                continue
            parent = w.model(p)
            out += (self._relations_read(p) if parent.materialized == "ephemeral"
                    else [parent.relation])
        return out

    def _check_model(self, rep: StepReport, cli: dict[str, int], shadow_status: dict,
                     compiled: dict[str, str], empty: bool, shadow: dict,
                     relations: dict[str, str]) -> None:
        """Checks the generator's own model of the project against what dbt did in the
        shadow: the models dbt parsed are the World's, a model's compiled SQL changes only
        when its definition key or a parent's relation name does, and an --empty run
        leaves every model that reads something empty."""
        w = self.world
        manifest = self.shadow_project / "target" / "manifest.json"
        if manifest.exists():
            nodes = json.loads(manifest.read_text()).get("nodes", {})
            parsed = {uid for uid in nodes if uid.startswith("model.")}
            known = {m.unique_id for m in w.models}
            for uid in sorted(parsed ^ known):
                rep.harness.append(f"{uid}: " + ("parsed by dbt, unknown to the generator"
                                                 if uid in parsed else
                                                 "in the generator, not parsed by dbt"))
        for uid, sql in compiled.items():
            name = uid.split(".")[-1]
            if empty or not w.has_model(name):
                continue
            # the relations it reads are in its SQL too (a parent's alias), also through the
            # ephemeral parents it inlines
            key = _sha(self.definition_key(name, cli), self._relations_read(name))
            sql = re.sub(r"(?m)^-- reviewed \(\d+\)\n", "", sql)
            seen = self.compiled.get(uid)
            if seen and seen[0] == key and seen[1] != sql:
                rep.harness.append(f"{uid}: compiled SQL changed, its definition key did not:"
                                   f" {seen[1]!r} -> {sql!r}")
            self.compiled[uid] = (key, sql)
        if empty:
            for m in w.models:
                uid = m.unique_id
                if (shadow_status.get(uid) == "success" and uid in relations and m.refs
                        and shadow.get(uid) and shadow[uid][0] != "ERROR" and shadow[uid][1]):
                    rep.harness.append(f"{uid}: not empty after dbt --empty")

    # ---- the oracle ----------------------------------------------------------------------

    def _classify(self, rep: StepReport, step: Step, relations: dict[str, str],
                  decisions: dict[str, dict], orc_status: dict[str, str],
                  shadow_status: dict[str, str], pre: dict, post: dict, shadow: dict,
                  frozen: set[str], now: dt.datetime, cli: dict[str, int],
                  full_refresh: bool, empty: bool = False, raced: set[str] = frozenset()
                  ) -> None:
        w = self.world

        def finding(uid: str, kind: str, detail: str) -> None:
            d = decisions.get(uid, {})
            name = uid.split(".")[-1]
            detail += " | upstream: " + self.upstream_text(name, decisions)
            view = self.unbuilt_view_upstream(name, decisions)
            rep.findings.append(Finding(self.seed, rep.index, step.text(), uid, kind,
                                        reason_code(d) if d else "not_decided",
                                        d.get("reason", "not decided by orc"), detail,
                                        via_view=view or ""))

        for uid, rel in relations.items():
            d = decisions.get(uid)
            in_shadow = uid in shadow_status
            if d is None and not in_shadow:
                continue
            name = uid.split(".")[-1]
            if shadow_status.get(uid) == "success" and shadow[uid] is not None \
                    and shadow[uid][0] != self.expected_kind(uid):
                rep.harness.append(f"{uid}: dbt built a {shadow[uid][0]}, the generator "
                                   f"expected a {self.expected_kind(uid)}")
            if uid in frozen:
                self._check_build_after_claim(uid, name, d, post, now, cli, finding)
                continue
            if uid in raced:
                continue                  # raced the node behind a relation source (notes)
            o = ("reuse" if d and d["decision"] == "reuse"
                 else orc_status.get(uid, "not run") if d else "not decided")
            s = shadow_status.get(uid, "not selected")
            o_failed = o in FAILED or o == "not run"
            s_failed = s in FAILED
            if o_failed and s_failed:
                continue                                   # failed in both
            if o_failed:
                blocker = (self._failed_test_on_frozen([name], frozen, orc_status)
                           if o == "skipped" else None)
                if step.concurrent:
                    rep.notes.append(f"{uid}: {o} in a concurrent run (dbt: {s})")
                elif blocker:
                    # dbt build skips what is downstream of a failing test; the shadow left
                    # the frozen node (and so its tests) out, orc ran the test: both right.
                    rep.notes.append(f"{uid}: skipped behind failing {blocker}")
                else:
                    finding(uid, "orc_failed", f"orc: {o}, dbt: {s}")
                continue
            if s == "error":
                finding(uid, "hidden_error", f"dbt fails on it ({s}), orc: {o}")
                continue
            if s == "skipped" and o == "reuse":
                continue                  # dbt skipped it, orc kept it: same pre-step content
            if d is None:
                rep.notes.append(f"{uid} selected by dbt but not decided by orc")
            if s == "not selected":
                if o != "reuse":
                    rep.notes.append(f"{uid} decided by orc ({o}) but not selected by dbt")
                continue
            if post[uid] != shadow[uid]:
                if post[uid] is None:
                    kind = "missing"
                elif shadow[uid] is not None and post[uid][0] != shadow[uid][0]:
                    kind = "kind"
                else:
                    kind = "content"
                finding(uid, kind, f"orc {o}: {describe(post[uid])} | dbt {s}: "
                                   f"{describe(shadow[uid])}")

        stale = {f.node.split(".")[-1] for f in rep.findings}
        for f in rep.findings:
            if not f.via_view:
                name = f.node.split(".")[-1]
                above = w.ancestors(name) if name not in w.seeds else set()
                f.via_stale = next((a for a in sorted(above) if a in stale), "")

        # test verdicts
        for uid, d in decisions.items():
            if not uid.startswith(("test.", "unit_test.")):
                continue
            s = shadow_status.get(uid)
            if d["decision"] == "build":
                o = orc_status.get(uid)
                if o is not None:
                    self.last_verdict[uid] = o
                if s is not None and o is not None and o != s:
                    blocker = (self._failed_test_on_frozen(
                        self._test_models(uid), frozen, orc_status)
                        if o == "skipped" else None)
                    if blocker:
                        # as for relations above: the shadow left the frozen node and its
                        # tests out, orc ran the failing one and dbt skipped what is behind it
                        rep.notes.append(f"{uid}: skipped behind failing {blocker}")
                    else:
                        rep.verdicts.append(f"{uid}: orc ran it: {o}, dbt: {s}")
            elif s in ("fail", "error") and self.last_verdict.get(uid, "pass") == "pass":
                rep.verdicts.append(f"{uid}: orc reused it ({reason_code(d)}), dbt: {s}")

        # bookkeeping + needless builds, parents before children (the snapshot after the
        # seeds: what it holds is what relation-source readers read)
        order = [w.node_id(s) for s in w.seeds] + [SNAPSHOT_ID] + [m.unique_id
                                                                    for m in w.models]
        for uid in order:
            d = decisions.get(uid)
            if not d or d["decision"] != "build" or orc_status.get(uid) != "success":
                continue
            if uid == SNAPSHOT_ID:
                if not empty:         # an --empty snapshot run changes nothing in it
                    self.snap_content = self.built_def.get(w.node_id("seed_items"))
                continue
            name = uid.split(".")[-1]
            key = self.input_key(name, cli)
            if (not full_refresh and not empty and uid in relations
                    and self.built_key.get(uid) == key
                    and pre.get(uid) is not None and pre.get(uid) == post.get(uid)):
                rep.needless.append((uid, reason_code(d), d.get("reason", "")))
            self.gen[uid] = self.gen.get(uid, 0) + 1
            self.built_key[uid] = key
            self.built_def[uid] = self.definition_key(name, cli)
            self.last_build_sim[uid] = now
            # a model built by --empty holds no rows: its next build is never needless
            if empty and name not in w.seeds:
                self.built_key[uid] = "empty"
                self.emptied.add(uid)
            else:
                self.emptied.discard(uid)

    def _manifest_nodes(self) -> dict:
        """The `nodes` of orc's last manifest ({} when there is none)."""
        manifest = self.orc_project / "target" / "manifest.json"
        if not manifest.exists():
            return {}
        return json.loads(manifest.read_text()).get("nodes", {})

    def _test_models(self, test_id: str) -> list[str]:
        """Names of the models test `test_id` reads (manifest)."""
        deps = self._manifest_nodes().get(test_id, {}).get("depends_on", {}).get("nodes", [])
        return [d.split(".")[-1] for d in deps if d.startswith("model.")]

    def _failed_test_on_frozen(self, names: list[str], frozen: set[str],
                               orc_status: dict[str, str]) -> str | None:
        """A test that failed in orc's run on a frozen (build_after) node upstream of one of
        `names`."""
        nodes = self._manifest_nodes()
        if not nodes:
            return None
        above = {self.world.node_id(a) for name in names for a in self.world.ancestors(name)
                 if not a.startswith("source:")}
        for tid, status in orc_status.items():
            if tid.startswith(("test.", "unit_test.")) and status in ("fail", "error"):
                deps = nodes.get(tid, {}).get("depends_on", {}).get("nodes", [])
                if any(dep in frozen and dep in above for dep in deps):
                    return tid
        return None

    def _check_build_after_claim(self, uid, name, d, post, now, cli, finding) -> None:
        """A node orc left alone for its build_after window: the window must exist and not
        have passed, its definition must be unchanged, and its relation must be there."""
        code = reason_code(d)
        ba = self.world.effective_build_after(name)
        if ba is None:
            finding(uid, "build_after_claim", "the node has no build_after (own or inherited)")
            return
        if code == "build_after_waiting_for_all" and ba[1] != "all":
            finding(uid, "build_after_claim", f"build_after updates_on is {ba[1]}, not all")
        last = self.last_build_sim.get(uid)
        if (code == "build_after_window" and last is not None
                and now - last > dt.timedelta(hours=ba[0]) + WINDOW_SLACK):
            finding(uid, "build_after_claim",
                    f"window of {ba[0]}h has passed (last build {now - last} ago, simulated)")
        if uid in self.built_def and self.built_def[uid] != self.definition_key(name, cli):
            finding(uid, "build_after_claim", "its definition changed since its last build")
        if uid in self.emptied:
            finding(uid, "build_after_claim", "its last build was an --empty run (no rows)")
        if post.get(uid) is None:
            finding(uid, "build_after_claim", "its relation is missing")
        elif post[uid][0] != self.expected_kind(uid):
            finding(uid, "build_after_claim",
                    f"relation is a {post[uid][0]}, the project says {self.expected_kind(uid)}")


def run_sequence(seed: int, steps: list[Step], opts: Options,
                 stop_node: str | None = None) -> SequenceReport:
    """Runs the initial build then `steps`. With stop_node, stops at the first step where
    that node is stale (used while shrinking); with opts.stop_at_first_stale at any."""
    rep = SequenceReport(seed, [s.text() for s in steps])
    t0 = time.monotonic()
    if opts.targets == 2:
        from .branches import BranchRun
        run = BranchRun(seed, opts)
    else:
        run = SequenceRun(seed, opts)
    rep.workspace = str(run.root)
    try:
        for i, step in enumerate([run.initial_step, *steps]):
            sr = run.run_step(i, step)
            rep.step_reports.append(sr)
            if opts.verbose:
                print(f"  seed {seed} step {i} {sr.step}: {sr.seconds:.1f}s "
                      f"(orc {sr.seconds_orc:.1f}s, shadow {sr.seconds_shadow:.1f}s) "
                      f"built {sr.built} reused {sr.reused}"
                      + (f" cloned {sr.cloned}" if sr.target == "ci" else "")
                      + f" stale {len(sr.findings)}",
                      flush=True)
                for f in sr.findings:
                    print("    STALE " + f.line(), flush=True)
                for note in sr.notes:
                    print("    note: " + note, flush=True)
                for h in sr.harness:
                    print("    HARNESS " + h, flush=True)
            if stop_node and any(f.node == stop_node for f in sr.findings):
                break
            if opts.stop_at_first_stale and sr.findings:
                break
    except Exception as exc:  # a harness or environment failure, reported as such
        import traceback

        rep.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    rep.seconds = time.monotonic() - t0
    if not opts.keep and not rep.findings and not rep.error:
        run.cleanup()
        rep.workspace = None
    return rep


def shrink(seed: int, steps: list[Step], target: Finding, opts: Options,
           max_trials: int = 30) -> tuple[list[Step], int]:
    """Delta debugging: the shortest subsequence of `steps` found (within max_trials runs)
    after which `target.node` is still stale with the same kind of finding. Returns the
    subsequence and the number of runs it took."""
    def fails(candidate: list[Step]) -> bool:
        rep = run_sequence(seed, candidate, opts, stop_node=target.node)
        if rep.workspace:
            shutil.rmtree(rep.workspace, ignore_errors=True)
        return any(f.node == target.node and f.kind == target.kind for f in rep.findings)

    current = steps[:target.step_index]  # the initial build is not in `steps`
    trials = 0
    n = 2
    while current and trials < max_trials:
        chunk = max(1, (len(current) + n - 1) // n)
        reduced = False
        for start in range(0, len(current), chunk):
            candidate = current[:start] + current[start + chunk:]
            trials += 1
            if fails(candidate):
                current = candidate
                n = max(n - 1, 2)
                reduced = True
                break
            if trials >= max_trials:
                break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(current), n * 2)
    return current, trials
