"""Shared helpers for the end-to-end tests: run orc and dbt, read dbt's artifacts and orc's
decision record, hash the project tree, and steer the tutorial's raw data.

Every path used here lives under a test's own tmp_path (and every PostgreSQL test has its own
schema), so tests can run in parallel.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "tutorial"
# The Python venv whose dbt the tests run; ORC_TEST_VENV points at another one (for example
# a venv with dbt-core 1.10) to run the suite against that dbt version.
VENV_BIN = Path(os.environ.get("ORC_TEST_VENV") or REPO / ".venv").resolve() / "bin"

# dbt's own outputs inside a project; everything else must stay byte-identical.
DBT_OUTPUT_NAMES = frozenset({"target", "logs", "dbt_packages", ".user.yml"})

# Inherited variables that would change what orc or dbt do behind a test's back.
_SCRUBBED_ENV_PREFIXES = ("ORCHESTRA_", "DBT_", "ORC_", "AWS_", "GOOGLE_", "AZURE_",
                          "STORAGE_EMULATOR_HOST", "IDENTITY_")

DEFAULT_TIMEOUT = 600
# Warehouses for tests of orc's own logic (decisions, reports, passthrough), where the
# adapter does not change what is checked: DuckDB, and PostgreSQL too with ORC_E2E_FULL=1
# (`make test-full`). Tests whose outcome depends on the warehouse (relation kinds and
# listings, change tokens, the probe's SQL) run on both in every run.
LOGIC_TARGETS = ["duckdb", "postgres"] if os.environ.get("ORC_E2E_FULL") == "1" else ["duckdb"]

# A test too slow for `make test` whose subject another `make test` stage covers (a comment
# at the test says which): skipped unless ORC_E2E_FULL=1 (`make test-full`), which runs it.
FULL_ONLY = pytest.mark.skipif(os.environ.get("ORC_E2E_FULL") != "1",
                               reason="slow; `make test-full` runs it")


def slow(seconds: int):
    """Marks one of the slowest tests with its rough duration in CI: conftest.py starts these
    first, longest first, so that none is left running alone at the end of the three-worker
    end-to-end stage."""
    return pytest.mark.slow(seconds=seconds)


class Result(NamedTuple):
    """Outcome of one process: unpacks as (returncode, stdout, stderr)."""

    returncode: int
    stdout: str
    stderr: str
    args: Sequence[str] = ()

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self, tail: int = 60) -> str:
        """The command, its exit code and the end of its output, for assertion messages."""
        lines = self.output.splitlines()[-tail:]
        return f"$ {' '.join(map(str, self.args))}\nexit {self.returncode}\n" + "\n".join(lines)


def orc_binary() -> Path:
    """The orc binary under test: $ORC_BIN, else build/orc in the repository."""
    return Path(os.environ.get("ORC_BIN") or REPO / "build" / "orc").resolve()


def real_dbt_binary() -> Path:
    """The dbt executable of the project's venv."""
    return VENV_BIN / "dbt"


# dbt through a warm fork server (tests/dbt_fork_server.py): every dbt process of a test
# (orc's driver, which orc starts through the server's `dbt` script as it would through
# the real one, and the plain-dbt runs) is forked from a Python that has dbt imported,
# saving 2-3 s of CPU each. One server per test process, started on first use. Tests marked
# `real_dbt` (conftest.py) and every run with ORC_E2E_FORK=0 use the real executable.
_FORK_ENABLED = os.environ.get("ORC_E2E_FORK", "1") != "0"
_fork_servers: dict[Path, Any] = {}
_real_dbt_for_this_test = False


def use_real_dbt(real: bool) -> None:
    """Makes dbt_binary(), base_env() and fork_server() give the real dbt (True) or the fork
    server's (False) until called again; conftest.py calls it before each test from its
    `real_dbt` marker."""
    global _real_dbt_for_this_test
    _real_dbt_for_this_test = real


def fork_server(venv_bin: Path = VENV_BIN):
    """The fork server (tests/dbt_fork_server.ForkServer) of the venv whose bin directory is
    `venv_bin`, started on first use in this process; None when real processes are to be
    used. Its `bin` directory holds `python-fork` (run a script of that venv through it) and
    `dbt`."""
    if not _FORK_ENABLED or _real_dbt_for_this_test:
        return None
    if venv_bin not in _fork_servers:
        import atexit
        import sys
        import tempfile

        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from tests.dbt_fork_server import start

        work = Path(tempfile.mkdtemp(prefix="orc-e2e-fork-"))
        server = start(work, str(venv_bin / "python"), _scrubbed_env(), REPO)
        _fork_servers[venv_bin] = server

        def stop_and_tidy():
            server.stop()
            shutil.rmtree(work, ignore_errors=True)
        atexit.register(stop_and_tidy)
    return _fork_servers[venv_bin]


def _fork_dbt() -> Path | None:
    """The fork server's dbt script, or None when the real dbt is to be used."""
    server = fork_server()
    return server.dbt if server else None


def dbt_binary() -> Path:
    """The dbt the tests run: the fork server's (see above) or the venv's real one."""
    return _fork_dbt() or real_dbt_binary()


def _scrubbed_env() -> dict[str, str]:
    """The caller's environment without orc/dbt/cloud settings and PYTHONPATH, dbt's anonymous
    usage statistics off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_ENV_PREFIXES)}
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.pop("PYTHONPATH", None)
    return env


def base_env() -> dict[str, str]:
    """The caller's environment without orc/dbt/cloud settings, with the venv first on PATH;
    ORC_DBT names the fork server's dbt when the test uses it."""
    env = _scrubbed_env()
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    fork = _fork_dbt()
    if fork:
        env["ORC_DBT"] = str(fork)
    return env


def run_process(argv: Sequence[str | os.PathLike], cwd: Path, env: dict[str, str] | None = None,
                timeout: float = DEFAULT_TIMEOUT, stdin: str | None = None) -> Result:
    """Runs argv (no shell) and returns its exit code and captured output."""
    argv = [str(a) for a in argv]
    proc = subprocess.run(argv, cwd=cwd, env=env if env is not None else base_env(),
                          input=stdin, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr, argv)


def run_orc(args: Sequence[str | os.PathLike], cwd: Path, env: dict[str, str] | None = None,
            orc_bin: Path | None = None, timeout: float = DEFAULT_TIMEOUT) -> Result:
    """Runs `orc <args>` (args include the leading "dbt" when wanted)."""
    return run_process([orc_bin or orc_binary(), *args], cwd, env, timeout)


def run_dbt(args: Sequence[str | os.PathLike], cwd: Path, env: dict[str, str] | None = None,
            dbt_bin: Path | None = None, timeout: float = DEFAULT_TIMEOUT) -> Result:
    """Runs `dbt <args>` directly, without orc."""
    return run_process([dbt_bin or dbt_binary(), *args], cwd, env, timeout)


def _project_dir(project: "Project | Path") -> Path:
    return project.dir if isinstance(project, Project) else Path(project)


def read_json(path: Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# The thread_id of the results orc writes into run_results.json for nodes dbt did not run
# (reused nodes; exposures when dbt was not started).
ORC_THREAD_ID = "orc"


def read_all_run_results(project: "Project | Path") -> list[dict]:
    """Every result of the project's target/run_results.json, dbt's and orc's, in order."""
    return read_json(_project_dir(project) / "target" / "run_results.json")["results"]


def read_run_results(project: "Project | Path") -> dict[str, str]:
    """{unique_id: status} of what dbt ran, from the project's target/run_results.json: the
    results orc adds for what it reused (thread_id ORC_THREAD_ID) are left out."""
    return {r["unique_id"]: r["status"] for r in read_all_run_results(project)
            if r["thread_id"] != ORC_THREAD_ID}


def read_sources_json(project: "Project | Path") -> dict[str, dict]:
    """{source unique_id: result} from the project's target/sources.json."""
    data = read_json(_project_dir(project) / "target" / "sources.json")
    return {r["unique_id"]: r for r in data["results"]}


def read_decisions(project: "Project | Path"):
    """The parsed target/orc_decisions.json written by a stateful orc run."""
    return read_json(_project_dir(project) / "target" / "orc_decisions.json")


def dbt_invocations(decisions) -> list[str]:
    """The dbt subcommands orc invoked during the run, in order, the build included (the
    driver's own project parse left out)."""
    out = []
    for process in decisions["dbt_processes"]:
        for i, line in enumerate(process["invocations"]):
            if process["mode"] == "driver" and i == 0 and line.split()[1] == "parse":
                continue
            out.append(line.split()[1])
    return out


def project_tree_snapshot(project: "Project | Path") -> dict[str, str]:
    """{relative path: digest} of everything under the project except dbt's own outputs
    (top-level target/, logs/, dbt_packages/, .user.yml). Directories and symlinks count too,
    so a created or removed entry shows up as well as a changed byte."""
    root = _project_dir(project)
    snap: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d not in DBT_OUTPUT_NAMES]
            filenames = [f for f in filenames if f not in DBT_OUTPUT_NAMES]
        dirnames.sort()
        for d in dirnames:
            p = Path(dirpath) / d
            rel = str(rel_dir / d)
            snap[rel] = ("link:" + os.readlink(p)) if p.is_symlink() else "dir"
        for name in sorted(filenames):
            p = Path(dirpath) / name
            rel = str(rel_dir / name)
            if p.is_symlink():
                snap[rel] = "link:" + os.readlink(p)
            else:
                snap[rel] = f"{oct(p.stat().st_mode & 0o7777)}:" + hashlib.sha256(p.read_bytes()).hexdigest()
    return snap


def project_tree_hash(project: "Project | Path") -> str:
    """One SHA-256 over project_tree_snapshot(): equal before and after means untouched."""
    h = hashlib.sha256()
    for rel, digest in sorted(project_tree_snapshot(project).items()):
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


def tree_diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Human-readable differences between two project_tree_snapshot() results."""
    out = []
    for rel in sorted(set(before) | set(after)):
        if rel not in after:
            out.append(f"removed: {rel}")
        elif rel not in before:
            out.append(f"added:   {rel}")
        elif before[rel] != after[rel]:
            out.append(f"changed: {rel}")
    return out


def copy_prepared_project(template: Path, dest: Path) -> None:
    """Copies a prepared tutorial (`dbt deps` done). `dbt deps` installs a local package as a
    symlink to its absolute path; point the copy's link at the copy's own package, exactly as
    deps would."""
    shutil.copytree(template, dest, symlinks=True)
    packages = dest / "dbt_packages"
    for link in packages.iterdir():
        if link.is_symlink():
            target = Path(os.readlink(link))
            if target.is_relative_to(template):
                link.unlink()
                link.symlink_to(dest / target.relative_to(template))


def toml_value(value) -> str:
    """A Python value as a TOML literal (bool, int, float, str)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # JSON string escapes are valid TOML basic strings


@dataclass
class Project:
    """A scratch copy of the tutorial plus its workspace.

    Layout: `workspace/` (the test's tmp_path) holds `pyproject.toml` with
    `[tool.orchestra_dbt]`, the state file `state.json` and the DuckDB warehouse;
    `workspace/project/` is the dbt project, which orc finds its configuration above.
    """

    dir: Path
    workspace: Path
    target: str  # "duckdb" or "postgres"
    env: dict[str, str]
    orc_bin: Path
    dbt_bin: Path
    schema: str | None = None  # PostgreSQL schema (raw tables in `<schema>_raw`)
    extra_cleanup: list = field(default_factory=list)

    @property
    def target_args(self) -> list[str]:
        """Arguments that select this project's target (empty for the default, DuckDB)."""
        return ["--target", "postgres"] if self.target == "postgres" else []

    @property
    def pyproject(self) -> Path:
        return self.workspace / "pyproject.toml"

    @property
    def state_file(self) -> Path:
        return self.workspace / "state.json"

    @property
    def target_dir(self) -> Path:
        return self.dir / "target"

    def _env(self, env: dict[str, str] | None) -> dict[str, str]:
        merged = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return merged

    def orc(self, *args, target: bool = True, env: dict[str, str | None] | None = None,
            cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT) -> Result:
        """`orc dbt <args> [--target postgres]` from the project directory.
        env entries are added to the project's environment (None removes a variable)."""
        argv = ["dbt", *map(str, args), *(self.target_args if target else [])]
        return run_orc(argv, cwd or self.dir, self._env(env), self.orc_bin, timeout)

    def orc_raw(self, *args, env: dict[str, str | None] | None = None,
                cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT) -> Result:
        """`orc <args>` exactly as given (no "dbt", no target)."""
        return run_orc(list(map(str, args)), cwd or self.dir, self._env(env), self.orc_bin, timeout)

    def dbt(self, *args, target: bool = True, env: dict[str, str | None] | None = None,
            cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT) -> Result:
        """Plain `dbt <args> [--target postgres]` from the project directory."""
        argv = [*map(str, args), *(self.target_args if target else [])]
        return run_dbt(argv, cwd or self.dir, self._env(env), self.dbt_bin, timeout)

    def write_config(self, **settings) -> None:
        """Rewrites workspace/pyproject.toml with these [tool.orchestra_dbt] settings only."""
        body = "".join(f"{k} = {toml_value(v)}\n" for k, v in settings.items())
        self.pyproject.write_text("[tool.orchestra_dbt]\n" + body, encoding="utf-8")

    def write_state(self, state) -> None:
        """Writes the state file (a dict is dumped as JSON, a str is written verbatim)."""
        text = state if isinstance(state, str) else json.dumps(state, indent=2)
        self.state_file.write_text(text, encoding="utf-8")

    def read_state(self):
        return read_json(self.state_file)

    def run_results(self) -> dict[str, str]:
        """What dbt ran: {unique_id: status} (see read_run_results)."""
        return read_run_results(self)

    def decisions(self):
        return read_decisions(self)

    def sources_json(self) -> dict[str, dict]:
        return read_sources_json(self)

    def tree_hash(self) -> str:
        return project_tree_hash(self)

    def tree_snapshot(self) -> dict[str, str]:
        return project_tree_snapshot(self)

    def add_source_rows(self, table: str, count: int = 1) -> Result:
        return add_source_rows(self, table, count)

    def clear_target(self) -> None:
        """Removes target/ so the next run cannot read a stale artifact."""
        shutil.rmtree(self.target_dir, ignore_errors=True)


def add_source_rows(project: Project, table: str, count: int = 1) -> Result:
    """Appends `count` rows loaded now to raw table `table` (orders, payments, customers,
    page_views) through the tutorial's add_raw_rows macro; fails the test if dbt fails."""
    args = json.dumps({"table": table, "count": count})
    r = project.dbt("run-operation", "add_raw_rows", "--args", args)
    assert r.returncode == 0, r.describe()
    return r


def fail_model_on_env(project: Project, model_file: str, env_name: str) -> None:
    """Makes the model in `model_file` (relative to the project) fail while the environment
    variable `env_name` is set: an input only that model reads, so switching the failure on
    and off changes nothing its parents read. Edit the scratch copy before the first run."""
    path = project.dir / model_file
    path.write_text(path.read_text() +
                    "\n{% if execute and model.resource_type == 'model'"
                    f" and env_var('{env_name}', '') %}}"
                    "{{ exceptions.raise_compiler_error('failing on request') }}"
                    "{% endif %}\n")


def assert_tree_unchanged(project: Project, before: dict[str, str]) -> None:
    """Fails with the list of differing paths when the project tree changed."""
    diff = tree_diff(before, project_tree_snapshot(project))
    assert not diff, "project files changed:\n" + "\n".join(diff)


def statuses(results: dict[str, str], ids: Iterable[str]) -> dict[str, str | None]:
    """The status of each id (None when it did not run)."""
    return {i: results.get(i) for i in ids}


def state_entry(ts: str, checksum: str = "c") -> dict:
    """A state entry in the reference's shape, built at `ts`."""
    return {"checksum": checksum, "last_updated": ts, "sources": {}}


def stateful_workspace(tmp_path: Path) -> Path:
    """tmp_path with a pyproject.toml that turns stateful mode on (the store comes from env)."""
    (tmp_path / "pyproject.toml").write_text("[tool.orchestra_dbt]\nuse_stateful = true\n")
    return tmp_path


def save_state(tmp_path: Path, env: dict[str, str], entries: dict,
               name: str = "updates.json") -> Result:
    """`orc dbt orchestra save-state` of {"state": entries} (written to tmp_path/name) from the
    stateful workspace tmp_path; env says where the state is stored."""
    updates = tmp_path / name
    updates.write_text(json.dumps({"state": entries}))
    return run_orc(["dbt", "orchestra", "save-state", updates], stateful_workspace(tmp_path), env)


def assert_build_twice_reuses(project: Project, env: dict[str, str],
                              stored_entries: Callable[[], dict]) -> None:
    """`orc dbt build` twice with the state in a remote store (env: its ORCHESTRA_STATE_FILE and
    credentials; `stored_entries()` reads the stored entries back). The first run starts from
    empty state (the object does not exist yet), builds, and saves to the store, not to the
    local state_file; the second reuses the models and runs only what it decided to build."""
    package = "orc_tutorial"
    first = project.orc("build", env=env)
    assert first.returncode == 0, first.describe()
    first_decisions = {n["unique_id"]: n["decision"] for n in project.decisions()["nodes"]}
    assert first_decisions[f"model.{package}.stg_orders"] == "build"
    saved = stored_entries()
    assert f"model.{package}.stg_orders" in saved and f"model.{package}.fct_orders" in saved
    assert project.read_state() == {"state": {}}  # the local state_file was not used

    second = project.orc("build", env=env)
    assert second.returncode == 0, second.describe()
    decisions = {n["unique_id"]: n["decision"] for n in project.decisions()["nodes"]}
    reused = {u for u, d in decisions.items() if d == "reuse"}
    assert f"model.{package}.stg_orders" in reused and f"model.{package}.fct_orders" in reused
    assert set(project.run_results()) == {u for u, d in decisions.items() if d == "build"}


@dataclass
class RemoteState:
    """One state document in a remote store, as the shared scenarios below use it: orc reaches
    it with `env` (from the stateful workspace `tmp_path`), the tests write and read its bytes
    straight in the store, as another writer would, with `write_bytes` and `read_bytes`. For
    the conflict scenarios orc's requests go through `proxy` (servers.forwarding_proxy), whose
    log holds only this save's requests, and `write` is the method of its conditional write."""

    tmp_path: Path
    env: dict[str, str]
    write_bytes: Callable[[bytes], Any]
    read_bytes: Callable[[], bytes]
    proxy: Any = None
    write: str = "PUT"

    def put(self, entries: dict, extra: dict | None = None) -> None:
        """Stores {"state": entries, **extra}."""
        self.write_bytes(json.dumps({"state": entries} | (extra or {})).encode())

    def read(self) -> dict:
        return json.loads(self.read_bytes())

    def save(self, entries: dict, name: str = "updates.json") -> Result:
        return save_state(self.tmp_path, self.env, entries, name)


def assert_saves_add_up(state: RemoteState) -> tuple[Result, Result]:
    """Saves model.p.a (the first save creates the document), then model.p.b: the second save
    re-reads what is stored and keeps it. Returns both results for store-specific checks."""
    first = state.save({"model.p.a": state_entry("2024-01-01T00:00:00Z")})
    assert first.returncode == 0, first.describe()
    assert set(state.read()["state"]) == {"model.p.a"}
    second = state.save({"model.p.b": state_entry("2024-01-02T00:00:00Z")}, "u2.json")
    assert second.returncode == 0, second.describe()
    assert set(state.read()["state"]) == {"model.p.a", "model.p.b"}
    return first, second


def assert_save_merges_with_someone_else(state: RemoteState) -> None:
    """A document written by someone else (another entry, a newer version of a shared one and
    an unknown top-level field): orc's save merges into it instead of overwriting it."""
    state.put({"model.p.other": state_entry("2024-01-01T00:00:00Z"),
               "model.p.shared": state_entry("2030-01-01T00:00:00Z", "newer")},
              {"written_by": "reference"})
    r = state.save({"model.p.mine": state_entry("2024-01-02T00:00:00Z"),
                    "model.p.shared": state_entry("2024-01-02T00:00:00Z", "older")})
    assert r.returncode == 0, r.describe()
    doc = state.read()
    assert set(doc["state"]) == {"model.p.other", "model.p.mine", "model.p.shared"}
    assert doc["state"]["model.p.shared"]["checksum"] == "newer"  # newer last_updated wins
    assert doc["written_by"] == "reference"  # unknown top-level fields survive


def _save_mine_with_hook(state: RemoteState, before_forward) -> Result:
    state.proxy.before_forward = before_forward
    try:
        return state.save({"model.mine": state_entry("2024-03-04T00:00:00Z")})
    finally:
        state.proxy.before_forward = None


def save_with_a_write_in_between(state: RemoteState, existing: bool) -> Result:
    """Another writer adds model.other_run exactly between orc's read and its conditional
    write of model.mine (the document holds model.first before when `existing`, else it does
    not exist): the write is refused, and orc must re-read, merge and retry, so every entry is
    stored. Returns orc's result for the store-specific checks (statuses, messages)."""
    before = {"model.first": state_entry("2024-01-01T00:00:00Z")} if existing else {}
    if existing:
        state.put(before)

    def other_run_writes_first(method: str, _path: str) -> None:
        if method == state.write and not state.proxy.statuses(state.write):
            state.put(before | {"model.other_run": state_entry("2024-03-03T00:00:00Z")})

    r = _save_mine_with_hook(state, other_run_writes_first)
    assert r.returncode == 0, r.describe()
    assert set(state.read()["state"]) == set(before) | {"model.other_run", "model.mine"}
    return r


def save_while_never_stops_changing(state: RemoteState) -> Result:
    """Another writer changes the document before every conditional write of orc's: orc must
    fail (exit 1) after a bounded number of attempts, all refused with 412 (never forced),
    without storing model.mine. Returns orc's result for the store-specific checks."""
    state.put({})

    def another_writer_every_time(method: str, _path: str) -> None:
        if method == state.write:
            n = len(state.proxy.statuses(state.write))
            state.put({f"model.other{n}": state_entry("2024-01-01T00:00:00Z")})

    r = _save_mine_with_hook(state, another_writer_every_time)
    assert r.returncode == 1, r.describe()
    writes = state.proxy.statuses(state.write)
    assert 2 <= len(writes) <= 20 and set(writes) == {412}, state.proxy.log
    assert "model.mine" not in state.read()["state"]
    return r
