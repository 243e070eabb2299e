"""The kill campaign (issue #18): `orc dbt build` on a scratch copy of the tutorial (DuckDB,
use_stateful on), with local state and with S3 state (moto), is sent SIGKILL, SIGTERM or
SIGINT at a random moment, N times. After every kill:

  - the project tree is byte-identical to before the run (tests/e2e/helpers' tree hash);
  - the state is the old document or a new complete one: it parses, has the
    {"state": {id: {...}}} shape, and every entry saved before is still there and not older;
  - the next normal `orc dbt build` succeeds and is not stale: every model relation has the
    rows (as a multiset) of a from-scratch `dbt build --full-refresh` of the same project and
    raw data in another DuckDB file (tests/differential/oracle.py reads both). Nodes orc
    reused inside a `build_after` window and snapshots are exempt, as in the differential
    harness.

Between kills, rows are sometimes appended to the raw sources, so a run that loses track of
new data shows up as stale. The killed process is orc alone (a scheduler's SIGKILL/SIGTERM;
SIGINT goes to its process group, as a terminal's Ctrl-C); whatever it leaves running (dbt)
is then killed with its group, as a scheduler tearing the job down would.

Usage: python -m tests.kill -n 200 [--seed S] [--backends local,s3] [--json out.json]
Exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO))

from helpers import TUTORIAL, base_env, project_tree_snapshot, tree_diff  # noqa: E402
from tests.differential.oracle import read_relations  # noqa: E402

SIGNALS = [(signal.SIGKILL, 0.6), (signal.SIGTERM, 0.2), (signal.SIGINT, 0.2)]
RUN_TIMEOUT = 900


@dataclass
class Figures:
    """What the campaign counts; the problem counters (see failures()) must stay 0."""
    kills: int = 0  # signals that reached a running orc (the campaign's N)
    runs: int = 0  # killed runs attempted: kills plus runs that ended before their moment
    by_signal: dict = field(default_factory=dict)
    by_backend: dict = field(default_factory=dict)
    corrupt_states: int = 0
    lost_entries: int = 0
    changed_project_files: int = 0
    failed_next_runs: int = 0
    stale: int = 0
    state_changed_by_killed_run: int = 0
    finished_before_signal: int = 0  # the run ended before its random moment came
    leftover_temp_files: int = 0  # a local save killed between its temp file and the rename
    seconds: float = 0.0
    problems: list = field(default_factory=list)

    def failures(self) -> int:
        return (self.corrupt_states + self.lost_entries + self.changed_project_files +
                self.failed_next_runs + self.stale)


def parse_ts(text: str) -> datetime | None:
    """An ISO-8601 timestamp as orc accepts it (Z, offsets, naive = UTC); None if not one."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except (ValueError, AttributeError):
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


class Backend:
    """Where the state lives: read its bytes (None when absent) and name it."""
    name = "?"

    def read(self) -> bytes | None:
        raise NotImplementedError

    def stop(self) -> None:
        pass


class LocalBackend(Backend):
    name = "local"

    def __init__(self, path: Path):
        self.path = path
        self.env = {}

    def read(self) -> bytes | None:
        return self.path.read_bytes() if self.path.exists() else None


class S3Backend(Backend):
    name = "s3"

    def __init__(self, log_dir: Path):
        from servers.moto_s3 import MotoServer
        self.server = MotoServer(log_dir)
        self.bucket = "orc-kill"
        self.server.client().create_bucket(Bucket=self.bucket)
        self.env = self.server.env | {"ORCHESTRA_STATE_FILE": f"s3://{self.bucket}/state.json"}

    def read(self) -> bytes | None:
        try:
            return self.server.client().get_object(Bucket=self.bucket,
                                                   Key="state.json")["Body"].read()
        except Exception as exc:  # NoSuchKey
            if "NoSuchKey" in str(exc):
                return None
            raise

    def stop(self) -> None:
        self.server.stop()


class Workspace:
    """A scratch tutorial (project/), its pyproject.toml and warehouse, plus a second copy
    (reference/) whose from-scratch builds are the oracle."""

    def __init__(self, root: Path, orc: Path, dbt: Path, backend_env: dict[str, str]):
        self.root, self.orc, self.dbt = root, orc, dbt
        self.project = root / "project"
        self.reference = root / "reference"
        self.warehouse = root / "warehouse.duckdb"
        self.reference_warehouse = root / "reference.duckdb"
        ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml",
                                        "*.duckdb", "*.duckdb.wal", "__pycache__")
        shutil.copytree(TUTORIAL, self.project, ignore=ignore)
        shutil.copytree(TUTORIAL, self.reference, ignore=ignore)
        (root / "pyproject.toml").write_text(
            '[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = "state.json"\n')
        (root / "state.json").write_text('{"state": {}}')
        self.env = base_env() | {"DBT_PROFILES_DIR": str(self.project),
                                 "ORC_DUCKDB_PATH": str(self.warehouse)} | backend_env
        self.ref_env = base_env() | {"DBT_PROFILES_DIR": str(self.reference),
                                     "ORC_DUCKDB_PATH": str(self.reference_warehouse)}
        for d in (self.project, self.reference):
            self.check(self.run([str(dbt), "deps"], d, self.env))
        self.check(self.run([str(dbt), "run-operation", "setup_raw"], self.project, self.env))
        self._reference_key = None
        self._reference = None

    @staticmethod
    def run(argv, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT)

    @staticmethod
    def check(r: subprocess.CompletedProcess) -> None:
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(r.args)} failed ({r.returncode}):\n"
                               f"{(r.stdout + r.stderr)[-3000:]}")

    def orc_build(self) -> subprocess.CompletedProcess:
        return self.run([str(self.orc), "dbt", "build"], self.project, self.env)

    def start_orc_build(self) -> subprocess.Popen:
        return subprocess.Popen([str(self.orc), "dbt", "build"], cwd=self.project, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def add_raw_rows(self, rng: random.Random) -> None:
        """Appends a row loaded now to one or two raw tables (straight into DuckDB)."""
        import duckdb
        con = duckdb.connect(str(self.warehouse))
        try:
            for table in rng.sample(["orders", "payments", "customers", "page_views"],
                                    rng.randint(1, 2)):
                rel = f'main_raw."{table}"'
                next_id = con.execute(f"select coalesce(max(id), 0) + 1 from {rel}").fetchone()[0]
                cols = [c[0] for c in con.execute(f"describe {rel}").fetchall()]
                row = con.execute(f"select * from {rel} order by id limit 1").fetchone()
                values = dict(zip(cols, row))
                values["id"] = next_id
                if "loaded_at" in values:
                    values["loaded_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
                placeholders = ", ".join("?" for _ in cols)
                con.execute(f"insert into {rel} values ({placeholders})",
                            [values[c] for c in cols])
        finally:
            con.close()

    def raw_data_key(self) -> str:
        """A digest of the raw tables' content: the reference is rebuilt only when it changes."""
        import duckdb
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            h = hashlib.sha256()
            for table in ("orders", "payments", "customers", "page_views"):
                rows = con.execute(f'select * from main_raw."{table}" order by id').fetchall()
                h.update(repr(rows).encode())
            return h.hexdigest()
        finally:
            con.close()

    def model_relations(self) -> dict[str, str]:
        """{unique_id: relation name} of the project's models (from orc's last manifest)
        that materialize in schema main; snapshots and ephemerals excluded."""
        manifest = json.loads((self.project / "target" / "manifest.json").read_text())
        out = {}
        for uid, node in manifest["nodes"].items():
            if node["resource_type"] not in ("model", "seed"):
                continue
            if node["config"].get("materialized") == "ephemeral" or node["schema"] != "main":
                continue
            out[uid] = node.get("alias") or node["name"]
        return out

    def reference_content(self, relations: dict[str, str]) -> dict:
        """The relations of a from-scratch build of the same project and raw data."""
        key = self.raw_data_key()
        if key != self._reference_key:
            shutil.copyfile(self.warehouse, self.reference_warehouse)
            import duckdb
            con = duckdb.connect(str(self.reference_warehouse))
            try:  # keep only the raw data: everything orc built is dropped
                for (name, kind) in con.execute(
                        "select table_name, table_type from information_schema.tables "
                        "where table_schema = 'main'").fetchall():
                    con.execute(f'drop {"view" if kind == "VIEW" else "table"} '
                                f'if exists main."{name}" cascade')
            finally:
                con.close()
            self.check(self.run([str(self.dbt), "build", "--full-refresh"], self.reference,
                                self.ref_env))
            self._reference = read_relations(self.reference_warehouse, relations)
            self._reference_key = key
        return self._reference


def state_problems(before: bytes | None, after: bytes | None) -> tuple[str | None, int]:
    """(why the state after a kill is corrupt, or None; how many entries saved before are
    lost or older). A missing state where one existed counts as corrupt."""
    if after is None:
        return ("the state disappeared" if before is not None else None), 0
    try:
        doc = json.loads(after)
    except ValueError as exc:
        return f"not JSON ({exc})", 0
    if not isinstance(doc, dict) or not isinstance(doc.get("state"), dict) or not all(
            isinstance(e, dict) for e in doc["state"].values()):
        return "not of the shape {\"state\": {id: {...}}}", 0
    if before is None:
        return None, 0
    old = json.loads(before)["state"]
    lost = 0
    for key, entry in old.items():
        now = doc["state"].get(key)
        if now is None:
            lost += 1
            continue
        t0, t1 = parse_ts(entry.get("last_updated") or ""), parse_ts(now.get("last_updated") or "")
        if t0 and t1 and t1 < t0:
            lost += 1
    return None, lost


def kill_once(ws: Workspace, backend: Backend, rng: random.Random, full_run_s: float,
              figures: Figures, index: int, log) -> float:
    """One kill and its checks (see the module docstring). Returns how long the next normal
    run took (the scale of the next kill's random moment)."""
    if rng.random() < 0.5:
        ws.add_raw_rows(rng)
    tree_before = project_tree_snapshot(ws.project)
    state_before = backend.read()
    sig = rng.choices([s for s, _ in SIGNALS], [w for _, w in SIGNALS])[0]
    # A fifth of the kills aim at the end of the run (the state save), the rest anywhere in
    # it. The scale is the last run's length, which varies with load: the moments stop short
    # of it, so that fewer runs end before their signal.
    delay = (rng.uniform(0.8, 1.0) if rng.random() < 0.2 else rng.uniform(0.0, 0.9)) * full_run_s
    proc = ws.start_orc_build()
    started = time.monotonic()
    while proc.poll() is None and time.monotonic() - started < delay:
        time.sleep(0.02)
    finished_first = proc.poll() is not None
    took = time.monotonic() - started  # with finished_first: (about) how long the run took
    if not finished_first:
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the job's leftovers (dbt), as a scheduler would
    except ProcessLookupError:
        pass
    time.sleep(0.5)
    name = signal.Signals(sig).name
    figures.runs += 1
    figures.finished_before_signal += finished_first
    if not finished_first:  # only a signal that reached a running orc counts as a kill
        figures.kills += 1
        figures.by_signal[name] = figures.by_signal.get(name, 0) + 1
    figures.by_backend[backend.name] = figures.by_backend.get(backend.name, 0) + 1
    where = f"kill {index} ({backend.name}, {name} after {delay:.1f}s" + \
        (", orc had already exited)" if finished_first else ")")

    diff = tree_diff(tree_before, project_tree_snapshot(ws.project))
    if diff:
        figures.changed_project_files += len(diff)
        figures.problems.append(f"{where}: project files changed: {diff}")
    state_after = backend.read()
    corrupt, lost = state_problems(state_before, state_after)
    if corrupt:
        figures.corrupt_states += 1
        figures.problems.append(f"{where}: corrupt state: {corrupt}")
    if lost:
        figures.lost_entries += lost
        figures.problems.append(f"{where}: {lost} saved entries lost or older")
    if state_after != state_before:
        figures.state_changed_by_killed_run += 1
    if isinstance(backend, LocalBackend):
        figures.leftover_temp_files = len(list(backend.path.parent.glob(".state.json.tmp-*")))

    t0 = time.monotonic()
    r = ws.orc_build()
    # The next random moment is drawn over the length of a normal run; a run that ended
    # before its moment is the better measure (the one after a kill has more to build).
    run_s = took if finished_first else time.monotonic() - t0
    if r.returncode != 0:
        figures.failed_next_runs += 1
        figures.problems.append(f"{where}: next run failed ({r.returncode}): "
                                f"{(r.stdout + r.stderr)[-1500:]}")
        log(f"{where}: next run FAILED")
        return run_s
    relations = ws.model_relations()
    mine = read_relations(ws.warehouse, relations)
    reference = ws.reference_content(relations)
    decisions = json.loads((ws.project / "target" / "orc_decisions.json").read_text())
    exempt = {n["unique_id"] for n in decisions.get("nodes", [])
              if str(n.get("reason_code", "")).startswith("build_after")}
    stale = sorted(uid for uid in relations
                   if uid not in exempt and mine.get(uid) != reference.get(uid))
    if stale:
        figures.stale += len(stale)
        figures.problems.append(f"{where}: stale after the next run: {stale}")
    log(f"{where}: tree {'CHANGED' if diff else 'ok'}, state "
        f"{'CORRUPT' if corrupt else ('changed' if state_after != state_before else 'old')}"
        f"{f', {lost} LOST' if lost else ''}, next run ok, stale {len(stale)}")
    return run_s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.kill", description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=10, help="number of kills (split over backends)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--backends", default="local,s3")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args(argv)
    orc = Path(os.environ.get("ORC_BIN") or REPO / "build" / "orc").resolve()
    dbt = Path(os.environ.get("ORC_TEST_VENV") or REPO / ".venv").resolve() / "bin" / "dbt"
    rng = random.Random(args.seed)
    figures = Figures()
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="orc-kill-"))

    def log(msg: str) -> None:
        print(msg, flush=True)

    names = args.backends.split(",")
    setups: list[tuple[Backend, Workspace, float]] = []
    started_backends: list[Backend] = []
    try:
        for name in names:  # every backend set up first; the kills then alternate between them
            root = scratch / name
            root.mkdir()
            backend = LocalBackend(root / "state.json") if name == "local" else S3Backend(root)
            started_backends.append(backend)
            ws = Workspace(root, orc, dbt, backend.env)
            t0 = time.monotonic()
            Workspace.check(ws.orc_build())  # a first complete state to lose
            setups.append((backend, ws, time.monotonic() - t0))
            log(f"{name}: first run {setups[-1][2]:.1f}s")
        log(f"{args.n} kills, seed {args.seed}")
        i = 0  # runs that end before their moment do not count: at most 3 N attempts
        while figures.kills < args.n and i < 3 * args.n:
            backend, ws, full_run_s = setups[i % len(setups)]
            run_s = kill_once(ws, backend, rng, full_run_s, figures, i + 1, log)
            setups[i % len(setups)] = (backend, ws, run_s)
            i += 1
            figures.seconds = round(time.monotonic() - started, 1)
            if args.json:  # after every kill, so an interrupted campaign still has figures
                args.json.write_text(json.dumps(figures.__dict__, indent=2))
    finally:
        for backend in started_backends:
            backend.stop()
        figures.seconds = round(time.monotonic() - started, 1)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    summary = {k: v for k, v in figures.__dict__.items()}
    print(json.dumps({k: v for k, v in summary.items() if k != "problems"}))
    for p in figures.problems:
        print("PROBLEM:", p)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 1 if figures.failures() else 0
