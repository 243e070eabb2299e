"""Twin copies of the tutorial: one run by the real dbt-orchestra 1.5.0, one by orc.

Both start from one prepared copy (`dbt deps`, the raw tables in a DuckDB file), so they hold
the same project and the same raw rows; every change a step makes (rows, edits) is made to
both alike, with the same explicit `loaded_at` values. Each twin has its own workspace:
`pyproject.toml`, the state (a local file or an S3 object on a shared moto server), the
warehouse and `project/`.

The reference leaves reused models patched when `local_run` is false (it expects a fresh
checkout per run, as on Orchestra's platform); its twin's project files are put back after
every run, as a fresh checkout would have them. orc must never change them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from helpers import (TUTORIAL, Result, base_env, copy_prepared_project,  # noqa: E402
                     dbt_binary, fork_server, orc_binary, project_tree_snapshot, run_dbt,
                     run_process, toml_value, tree_diff)

REFERENCE_VENV = Path(os.environ.get("ORC_REFERENCE_VENV") or REPO / ".venv-orchestra15")
TOOLS = ("reference", "orc")
RAW_SCHEMA = "main_raw"
_TEMPLATE_IGNORE = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml",
                                          "*.duckdb", "*.duckdb.wal", "__pycache__")


def reference_binary() -> Path:
    """The reference's `orc` (dbt-orchestra 1.5.0 in its own venv)."""
    return REFERENCE_VENV / "bin" / "orc"


def prepare_template(root: Path) -> tuple[Path, Path]:
    """A copy of the tutorial under `root` with `dbt deps` done and the raw tables created in
    `root/warehouse.duckdb`; returns (project dir, warehouse). Twins copy both."""
    project = root / "project"
    shutil.copytree(TUTORIAL, project, ignore=_TEMPLATE_IGNORE, symlinks=True)
    warehouse = root / "warehouse.duckdb"
    env = base_env() | {"DBT_PROFILES_DIR": str(project), "ORC_DUCKDB_PATH": str(warehouse)}
    for args in (["deps"], ["run-operation", "setup_raw"]):
        r = run_dbt(args, project, env, dbt_binary())
        if r.returncode != 0:
            raise RuntimeError(f"preparing the tutorial failed:\n{r.describe()}")
    shutil.rmtree(project / "target", ignore_errors=True)
    shutil.rmtree(project / "logs", ignore_errors=True)
    return project, warehouse


class Store:
    """Where one twin's state document lives: `location` for the configuration, `env` for the
    tools (credentials, endpoint), `read()` / `write(doc)` straight in the store."""

    location: str
    env: dict[str, str] = {}

    def read(self) -> dict | None:
        raise NotImplementedError

    def write(self, doc: dict) -> None:
        raise NotImplementedError


class LocalStore(Store):
    """A local JSON file, bootstrapped with `{"state": {}}` as the reference requires."""

    def __init__(self, path: Path):
        self.path = path
        self.location = str(path)
        self.env = {}
        path.write_text('{"state": {}}')

    def read(self) -> dict | None:
        return json.loads(self.path.read_text()) if self.path.exists() else None

    def write(self, doc: dict) -> None:
        self.path.write_text(json.dumps(doc))


class S3Store(Store):
    """An object on the moto server (servers.moto_s3.MotoServer), absent until the first save."""

    def __init__(self, moto, bucket: str, key: str):
        self.moto, self.bucket, self.key = moto, bucket, key
        self.location = f"s3://{bucket}/{key}"
        self.env = dict(moto.env)

    def read(self) -> dict | None:
        try:
            body = self.moto.client().get_object(Bucket=self.bucket, Key=self.key)["Body"]
        except Exception as exc:  # NoSuchKey: nothing saved yet
            if "NoSuchKey" in str(exc):
                return None
            raise
        return json.loads(body.read())

    def write(self, doc: dict) -> None:
        self.moto.client().put_object(Bucket=self.bucket, Key=self.key,
                                      Body=json.dumps(doc).encode())


@dataclass
class ToolRun:
    """One `<tool> dbt ...` run: its result, wall seconds, and the project files it left
    changed (put back afterwards)."""

    result: Result
    seconds: float
    changed_files: list[str]


class Twin:
    """One tool's copy: workspace/{pyproject.toml, warehouse.duckdb, project/} plus its store."""

    def __init__(self, tool: str, workspace: Path, template: tuple[Path, Path], store: Store):
        self.tool, self.workspace, self.store = tool, workspace, store
        workspace.mkdir(parents=True, exist_ok=True)
        self.project = workspace / "project"
        self.warehouse = workspace / "warehouse.duckdb"
        copy_prepared_project(template[0], self.project)
        shutil.copyfile(template[1], self.warehouse)
        self.config_env: dict[str, str] = {}

    @property
    def target(self) -> Path:
        return self.project / "target"

    def configure(self, pyproject: dict, env: dict[str, str]) -> None:
        """Writes [tool.orchestra_dbt] (workspace/pyproject.toml) and the ORCHESTRA_* env."""
        body = "".join(f"{k} = {toml_value(v)}\n" for k, v in pyproject.items())
        (self.workspace / "pyproject.toml").write_text("[tool.orchestra_dbt]\n" + body)
        self.config_env = dict(env)

    def env(self) -> dict[str, str]:
        env = base_env() | {"DBT_PROFILES_DIR": str(self.project),
                            "ORC_DUCKDB_PATH": str(self.warehouse)}
        if self.tool == "reference":  # its own dbt first on PATH (through its fork server)
            env["PATH"] = f"{REFERENCE_VENV / 'bin'}{os.pathsep}{env['PATH']}"
            server = fork_server(REFERENCE_VENV / "bin")
            if server:
                env["PATH"] = f"{server.bin}{os.pathsep}{env['PATH']}"
        return env | self.store.env | self.config_env

    def run(self, args: list[str]) -> ToolRun:
        """`<tool> dbt <args>` from the project directory, with dbt's artifacts of the previous
        run removed first (so nothing stale is read back)."""
        for name in ("run_results.json", "orc_decisions.json"):
            (self.target / name).unlink(missing_ok=True)
        files = _file_bytes(self.project)
        before = project_tree_snapshot(self.project)
        command = [orc_binary()]
        if self.tool == "reference":
            server = fork_server(REFERENCE_VENV / "bin")  # the reference is a Python script
            command = ([server.bin / "python-fork"] if server else []) + [reference_binary()]
        started = time.monotonic()
        result = run_process([*command, "dbt", *args], self.project, self.env())
        seconds = time.monotonic() - started
        changed = tree_diff(before, project_tree_snapshot(self.project))
        if changed:
            _restore(self.project, files)
        return ToolRun(result, seconds, changed)

    def edit(self, rel: str, transform) -> None:
        path = self.project / rel
        path.write_text(transform(path.read_text()))

    def add_rows(self, table: str, rows: list[dict]) -> None:
        """Appends rows to a raw table; each row's missing columns copy the table's first row,
        `id` continues the table's ids."""
        import duckdb

        con = duckdb.connect(str(self.warehouse))
        try:
            rel = f'{RAW_SCHEMA}."{table}"'
            cols = [c[0] for c in con.execute(f"describe {rel}").fetchall()]
            first = dict(zip(cols, con.execute(f"select * from {rel} order by id limit 1")
                             .fetchone()))
            next_id = con.execute(f"select coalesce(max(id), 0) + 1 from {rel}").fetchone()[0]
            for i, row in enumerate(rows):
                values = first | {"id": next_id + i} | row
                con.execute(f"insert into {rel} values ({', '.join('?' for _ in cols)})",
                            [values[c] for c in cols])
        finally:
            con.close()

    def read_json(self, name: str) -> dict | None:
        path = self.target / name
        return json.loads(path.read_text()) if path.exists() else None


def _file_bytes(root: Path) -> dict[str, bytes]:
    """Every regular file of the project (dbt's outputs and symlinked packages left out)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in ("target", "logs", "dbt_packages")]
        for name in filenames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                out[str(rel / name)] = p.read_bytes()
    return out


def _restore(root: Path, files: dict[str, bytes]) -> None:
    """Puts the project's files back as `files` holds them: changed ones rewritten, added ones
    removed (a fresh checkout)."""
    now = _file_bytes(root)
    for rel in now.keys() - files.keys():
        (root / rel).unlink()
    for rel, data in files.items():
        if now.get(rel) != data:
            (root / rel).write_bytes(data)


def utc_now() -> datetime:
    """The moment a step's rows are loaded at, timezone-aware UTC."""
    return datetime.now(timezone.utc)
