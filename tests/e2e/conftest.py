"""Fixtures for the end-to-end tests: the orc and dbt binaries, a PostgreSQL server, and
scratch copies of the tutorial project (DuckDB or PostgreSQL) in each test's tmp_path.

Layout of one test (tmp_path = workspace):
    pyproject.toml      [tool.orchestra_dbt] use_stateful = true, state_file = "state.json"
    state.json          {"state": {}}
    warehouse.duckdb    the DuckDB database (outside the project)
    project/            copy of tutorial/ with dbt_packages installed and raw tables created

Fixtures: orc_bin, dbt_bin, pg_env, make_project(target), project (DuckDB),
pg_project (PostgreSQL, own schema, dropped afterwards), any_project (both), logic_project
(DuckDB; both with ORC_E2E_FULL=1, see helpers.LOGIC_TARGETS).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import (LOGIC_TARGETS, REPO, TUTORIAL, Project, base_env, copy_prepared_project,
                     dbt_binary, orc_binary, real_dbt_binary, run_dbt, use_real_dbt)

_TEMPLATE_IGNORE = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml",
                                          "*.duckdb", "*.duckdb.wal", "__pycache__")


@pytest.fixture(scope="session")
def orc_bin() -> Path:
    path = orc_binary()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"orc binary not found at {path}: build it (cmake -S . -B build -G Ninja && "
                    f"cmake --build build) or point ORC_BIN at it", pytrace=False)
    return path


@pytest.fixture(autouse=True)
def _dbt_processes(request):
    """Real dbt processes for tests marked `real_dbt`, the fork server's for the others
    (helpers.dbt_binary)."""
    use_real_dbt(request.node.get_closest_marker("real_dbt") is not None)
    yield
    use_real_dbt(False)


@pytest.fixture
def dbt_bin() -> Path:
    """The dbt this test runs (helpers.dbt_binary)."""
    real = real_dbt_binary()
    if not real.is_file():
        pytest.fail(f"dbt not found at {real}: run scripts/install_deps.sh", pytrace=False)
    return dbt_binary()


@pytest.fixture(scope="session")
def pg_env() -> dict[str, str]:
    """Starts (or reuses) the test PostgreSQL server; returns its PG* variables."""
    script = REPO / "scripts" / "pg.sh"
    # pg.sh is not safe to run twice at once (initdb); parallel workers take turns.
    with open(script) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["bash", str(script), "start"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"could not start PostgreSQL with scripts/pg.sh:\n{proc.stdout}{proc.stderr}",
                    pytrace=False)
    env = dict(re.findall(r"(PG[A-Z]+)=(\S+)", proc.stdout))
    if "PGHOST" not in env:
        pytest.fail(f"scripts/pg.sh printed no PG* variables:\n{proc.stdout}", pytrace=False)
    return env


@pytest.fixture(scope="session")
def tutorial_template(tmp_path_factory) -> tuple[Path, Path]:
    """One copy of the tutorial per session with `dbt deps` done, and a DuckDB warehouse with
    the raw tables (`dbt run-operation setup_raw`). Returns (project dir, warehouse file).
    Tests copy both; nobody writes to the template."""
    root = tmp_path_factory.mktemp("tutorial-template")
    project = root / "project"
    shutil.copytree(TUTORIAL, project, ignore=_TEMPLATE_IGNORE, symlinks=True)
    warehouse = root / "warehouse.duckdb"
    env = base_env() | {"DBT_PROFILES_DIR": str(project), "ORC_DUCKDB_PATH": str(warehouse)}
    for args in (["deps"], ["run-operation", "setup_raw"]):
        r = run_dbt(args, project, env)
        if r.returncode != 0:
            pytest.fail(f"preparing the tutorial failed:\n{r.describe()}", pytrace=False)
    shutil.rmtree(project / "target", ignore_errors=True)  # tests start without artifacts
    shutil.rmtree(project / "logs", ignore_errors=True)
    return project, warehouse


def pytest_configure(config):
    config.addinivalue_line("markers", "slow(seconds): among the slowest tests; collected "
                            "first, longest first (helpers.slow)")
    config.addinivalue_line("markers", "real_dbt: runs the real dbt executable, not the "
                            "fork server's (helpers.dbt_binary)")


def pytest_collection_modifyitems(config, items):
    """Slow tests first, longest first (a stable sort otherwise): xdist hands tests out in
    collection order, and a slow test collected last would run alone while the others idle."""
    def rank(item) -> int:
        mark = item.get_closest_marker("slow")
        return -mark.kwargs.get("seconds", 1) if mark else 0
    items.sort(key=rank)


def _schema_name(node_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", node_name.lower()).strip("_")[:30]
    return f"orc_{slug}_{uuid.uuid4().hex[:8]}"


def _drop_pg_schemas(pg: dict[str, str], schema: str) -> None:
    import psycopg2  # installed with dbt-postgres

    conn = psycopg2.connect(host=pg["PGHOST"], port=pg["PGPORT"], user=pg["PGUSER"],
                            password=pg.get("PGPASSWORD", ""), dbname=pg["PGDATABASE"])
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for s in (schema, f"{schema}_raw"):
                cur.execute(f'drop schema if exists "{s}" cascade')
    finally:
        conn.close()


@pytest.fixture
def make_project(request, tmp_path, tutorial_template, orc_bin, dbt_bin):
    """Factory: make_project("duckdb" | "postgres", name="project") → Project.

    The workspace (tmp_path, or tmp_path/<name> for extra projects) gets a pyproject.toml with
    use_stateful = true and state_file = "state.json", and a bootstrapped empty state file.
    A PostgreSQL project gets its own schema (ORC_PG_SCHEMA), dropped after the test."""
    template_dir, template_warehouse = tutorial_template
    cleanups = []

    def make(target: str = "duckdb", name: str = "project") -> Project:
        workspace = tmp_path if name == "project" else tmp_path / name
        workspace.mkdir(parents=True, exist_ok=True)
        project_dir = workspace / "project"
        copy_prepared_project(template_dir, project_dir)
        env = base_env() | {"DBT_PROFILES_DIR": str(project_dir),
                            "ORC_DUCKDB_PATH": str(workspace / "warehouse.duckdb")}
        schema = None
        if target == "duckdb":
            shutil.copyfile(template_warehouse, workspace / "warehouse.duckdb")
        elif target == "postgres":
            pg = request.getfixturevalue("pg_env")
            schema = _schema_name(request.node.name)
            env |= pg | {"ORC_PG_SCHEMA": schema}
            cleanups.append(lambda: _drop_pg_schemas(pg, schema))
        else:
            raise ValueError(f"unknown target {target!r}")
        project = Project(dir=project_dir, workspace=workspace, target=target, env=env,
                          orc_bin=orc_bin, dbt_bin=dbt_bin, schema=schema)
        if target == "postgres":
            r = project.dbt("run-operation", "setup_raw")
            assert r.returncode == 0, r.describe()
            shutil.rmtree(project_dir / "target", ignore_errors=True)
        project.write_config(use_stateful=True, state_file="state.json")
        project.write_state({"state": {}})
        return project

    yield make
    for cleanup in cleanups:
        cleanup()


@pytest.fixture
def project(make_project) -> Project:
    """The tutorial on DuckDB."""
    return make_project("duckdb")


@pytest.fixture
def pg_project(make_project) -> Project:
    """The tutorial on PostgreSQL, in a schema of its own."""
    return make_project("postgres")


@pytest.fixture(params=["duckdb", "postgres"])
def any_project(request, make_project) -> Project:
    """The tutorial on each warehouse in turn."""
    return make_project(request.param)


@pytest.fixture(params=LOGIC_TARGETS)
def logic_project(request, make_project) -> Project:
    """The tutorial for a test of orc's own logic: DuckDB, and PostgreSQL too in a full run."""
    return make_project(request.param)


def _serve(server):
    """Yields a started loopback server (tests/e2e/servers) and stops it afterwards."""
    yield server
    server.stop()


def _fresh(create) -> str:
    """A new random name `orc-<hex>`, created with `create(name)` (a bucket or a container)."""
    name = f"orc-{uuid.uuid4().hex[:12]}"
    create(name)
    return name


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A real S3 server (moto in server mode) on loopback, one per test module."""
    from servers.moto_s3 import MotoServer

    yield from _serve(MotoServer(tmp_path_factory.mktemp("moto")))


@pytest.fixture
def bucket(moto) -> str:
    """A fresh bucket on the module's moto server."""
    return _fresh(lambda name: moto.client().create_bucket(Bucket=name))


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    """A real Azure Blob emulator (Azurite) on loopback, one per test module."""
    from servers.azurite import AzuriteServer

    yield from _serve(AzuriteServer(tmp_path_factory.mktemp("azurite")))


@pytest.fixture
def container(azurite) -> str:
    """A fresh container on the module's Azurite."""
    return _fresh(azurite.client().create_container)


@pytest.fixture(scope="module")
def fake_gcs(tmp_path_factory):
    """fake-gcs-server on loopback behind a proxy that enforces ifGenerationMatch."""
    from servers.fake_gcs import FakeGcsServer

    yield from _serve(FakeGcsServer(tmp_path_factory.mktemp("fake-gcs")))


@pytest.fixture
def gcs_bucket(fake_gcs) -> str:
    """A fresh bucket on the module's fake-gcs-server."""
    return _fresh(fake_gcs.create_bucket)
