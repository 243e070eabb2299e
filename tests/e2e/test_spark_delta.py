"""Implicit freshness on Spark, for real: dbt-spark in `session` mode (pyspark in-process, a
local Spark with a Derby metastore in the test's tmp dir) on Delta Lake tables. What this
proves: orc's data-change token for a source without loaded_at_field/loaded_at_query,
`DESCRIBE HISTORY <table> LIMIT 1` run with run_query inside orc's one warehouse query, is read
through the real adapter in orc's one dbt process; it is stable while the table is unchanged
(the dependant is reused) and moves with an INSERT (the dependant is rebuilt and holds the new
row); a source that is not a Delta table, a view or a missing table is unknown (its dependant
is always built); and orc leaves the project untouched.

Heavy (a JVM per dbt process, pyspark in its own venv): it runs only under `make test-spark`,
which creates .venv-spark (requirements-spark.txt) and sets ORC_TEST_SPARK=1."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from helpers import (Result, assert_tree_unchanged, base_env, dbt_invocations,
                     project_tree_snapshot, read_json, run_orc, run_process)

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("ORC_SPARK_VENV") or REPO / ".venv-spark")
# dbt-spark lives in its own venv: real dbt processes (no fork server of .venv's dbt).
pytestmark = pytest.mark.real_dbt

if os.environ.get("ORC_TEST_SPARK") != "1":
    pytest.skip("the Spark/Delta test is heavy (JVM, pyspark): run it with `make test-spark`",
                allow_module_level=True)
if not (VENV / "bin" / "dbt").exists():
    pytest.skip(f"{VENV} is missing: `make test-spark` creates it (requirements-spark.txt)",
                allow_module_level=True)

P = "sparkproj"
STG_EVENTS = f"model.{P}.stg_events"
EVENTS_DAILY = f"model.{P}.events_daily"
STG_PARQUET = f"model.{P}.stg_parquet"
STG_VIEW = f"model.{P}.stg_view"
STG_MISSING = f"model.{P}.stg_missing"
DESCRIBE_HISTORY = "metadata: describe history"

PROJECT = {
    "dbt_project.yml": f"""name: {P}
version: '1.0'
config-version: 2
profile: spark
models:
  {P}:
    +materialized: table
    +file_format: delta
""",
    "models/sources.yml": """version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: events
      - name: events_parquet
      - name: events_view
      - name: missing_table
""",
    "models/stg_events.sql": "select id, v from {{ source('raw', 'events') }}\n",
    "models/events_daily.sql": "select count(*) as n from {{ ref('stg_events') }}\n",
    # The always-built dependants are views: cheaper to build than Delta tables.
    "models/stg_parquet.sql": "{{ config(materialized='view') }}\n"
                              "select id, v from {{ source('raw', 'events_parquet') }}\n",
    "models/stg_view.sql": "{{ config(materialized='view') }}\n"
                           "select id, v from {{ source('raw', 'events_view') }}\n",
    # Depends on a source table that does not exist, without reading it (so it builds).
    "models/stg_missing.sql": "{{ config(materialized='view') }}\n"
                              "-- depends_on: {{ source('raw', 'missing_table') }}\n"
                              "select 1 as id\n",
    "macros/setup.sql": """{% macro setup_raw() %}
  {% do run_query("create schema if not exists raw") %}
  {% do run_query("create or replace table raw.events (id int, v string) using delta") %}
  {% do run_query("insert into raw.events values (1, 'a'), (2, 'b')") %}
  {% do run_query("create table raw.events_parquet (id int, v string) using parquet") %}
  {% do run_query("insert into raw.events_parquet values (1, 'a')") %}
  {% do run_query("create or replace view raw.events_view as select * from raw.events") %}
{% endmacro %}
{% macro insert_event(id, v) %}
  {% do run_query("insert into raw.events values (" ~ id ~ ", '" ~ v ~ "')") %}
{% endmacro %}
""",
}
# Outside the project (orc finds the configuration walking up from it): the state changes.
WORKSPACE = {
    "pyproject.toml": '[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = "state.json"\n',
    "state.json": '{"state": {}}\n',
}


def _dist_version(name: str) -> str:
    """The version of an installed distribution of the spark venv, from its dist-info."""
    found = sorted(VENV.glob(f"lib/python*/site-packages/{name}-*.dist-info"))
    if not found:
        pytest.fail(f"{name} is not installed in {VENV}", pytrace=False)
    return found[-1].name[len(name) + 1:-len(".dist-info")]


def _delta_package() -> str:
    """The Maven coordinates of the Delta jars matching the venv's delta-spark and pyspark
    (Spark 4 is built with Scala 2.13, Spark 3 with 2.12), as configure_spark_with_delta_pip
    would set them."""
    scala = "2.13" if int(_dist_version("pyspark").split(".")[0]) >= 4 else "2.12"
    return f"io.delta:delta-spark_{scala}:{_dist_version('delta_spark')}"


def _profile(spark_dir: Path) -> str:
    params = {
        "spark.master": "local[1]",
        "spark.jars.packages": _delta_package(),
        # Ivy's cache lives with the venv: the jars are fetched once from Maven Central.
        "spark.jars.ivy": str(VENV / "ivy"),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # Tables and the Derby metastore in the test's tmp dir, not in the working directory.
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        # Short-lived JVMs on a small machine: the C1 compiler only, the serial collector.
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir / 'derby'} "
                                         "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "1",
        "spark.databricks.delta.snapshotPartitions": "1",
    }
    lines = "".join(f"        {k}: {json.dumps(v)}\n" for k, v in params.items())
    return f"""spark:
  target: dev
  outputs:
    dev:
      type: spark
      method: session
      host: NA
      schema: analytics
      threads: 1
      server_side_parameters:
{lines}"""


@pytest.fixture
def spark_project(tmp_path) -> tuple[Path, dict]:
    project = tmp_path / "project"
    for rel, text in PROJECT.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    for rel, text in WORKSPACE.items():
        (tmp_path / rel).write_text(text)
    (tmp_path / "profiles.yml").write_text(_profile(tmp_path / "spark"))
    env = base_env() | {"DBT_PROFILES_DIR": str(tmp_path), "SPARK_LOCAL_IP": "127.0.0.1",
                        "PATH": f"{VENV / 'bin'}{os.pathsep}{base_env()['PATH']}"}
    env.pop("SPARK_HOME", None)
    env.pop("PYSPARK_SUBMIT_ARGS", None)
    dbt(project, env, "run-operation", "setup_raw")
    return project, env


def dbt(project: Path, env: dict, *args: str) -> Result:
    r = run_process([VENV / "bin" / "dbt", *args], project, env)
    assert r.returncode == 0, r.describe()
    return r


def spark_rows(project: Path, env: dict, sql: str) -> list[dict]:
    """The rows of `sql`, read back from Spark with dbt show (its own dbt process)."""
    r = dbt(project, env, "show", "--inline", sql, "--output", "json", "--limit", "-1",
            "--quiet", "--no-write-json")
    text = r.stdout
    return json.loads(text[text.index("{"):text.rindex("}") + 1])["show"]


def orc_build(project: Path, env: dict) -> tuple[dict, dict]:
    before = project_tree_snapshot(project)
    r = run_orc(["dbt", "build"], project, env)
    assert r.returncode == 0, r.describe()
    assert_tree_unchanged(project, before)
    record = read_json(project / "target" / "orc_decisions.json")
    # One dbt process (orc's driver) for parse, the warehouse query and the build.
    assert [p["mode"] for p in record["dbt_processes"]] == ["driver"], record["dbt_processes"]
    invocations = dbt_invocations(record)
    assert invocations[-1] == "build" and invocations.count("build") == 1, invocations
    assert set(invocations) <= {"show", "build"} and "show" in invocations, invocations
    return {n["unique_id"]: n for n in record["nodes"]}, record


def source_input(node: dict, table: str) -> dict:
    return node["inputs"]["sources"][f"source.{P}.raw.{table}"]


def assert_always_built(d: dict) -> None:
    """The dependants of the parquet table, the view and the missing table: unknown, built."""
    for uid, table, why in ((STG_PARQUET, "events_parquet", "the source is not a Delta table"),
                            (STG_VIEW, "events_view", "the source is a view"),
                            (STG_MISSING, "missing_table", "the source relation was not found")):
        src = source_input(d[uid], table)
        assert src["method"] == f"unknown: {why}", (uid, src)
        assert src["current"] is None, (uid, src)
        assert d[uid]["decision"] == "build", d[uid]
        assert d[uid]["reason_code"] == "source_freshness_unknown", d[uid]


def test_describe_history_token_on_delta(spark_project):
    project, env = spark_project

    # Run 1: nothing recorded yet, everything is built; the state records the Delta source's
    # token, `meta:v<version>@<timestamp>` of its latest commit (version 1: the insert).
    d, _ = orc_build(project, env)
    assert {u: n["reason_code"] for u, n in d.items()} == \
        {u: "no_state_entry" for u in d}, d
    state = read_json(project.parent / "state.json")["state"]
    first_token = state[STG_EVENTS]["orc_source_tokens"][f"source.{P}.raw.events"]
    assert re.fullmatch(r"meta:v1@\d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*", first_token), state
    for uid in (STG_PARQUET, STG_VIEW, STG_MISSING):
        assert not state[uid].get("orc_source_tokens"), ("no token for an unknown source",
                                                         state[uid])

    # Run 2, no change: the token is the same, the Delta source's dependants are reused.
    # The tokens, the schema listing and the selection come from one query (one `show`).
    d, record = orc_build(project, env)
    assert dbt_invocations(record) == ["show", "build"], record["dbt_processes"]
    events = source_input(d[STG_EVENTS], "events")
    assert events["method"] == DESCRIBE_HISTORY and events["current"] == first_token, events
    assert events["recorded"] == first_token, events
    for uid in (STG_EVENTS, EVENTS_DAILY):
        assert d[uid]["decision"] == "reuse", d[uid]
        assert d[uid]["reason_code"] == "no_new_data", d[uid]
        # Its table was found in Spark's listing of the schema (`show table extended`).
        assert d[uid]["inputs"]["relation_check"] == "ok", d[uid]
    assert_always_built(d)

    # An INSERT into the Delta source: a new commit, a new token; rebuilt with the new row.
    dbt(project, env, "run-operation", "insert_event", "--args", "{id: 3, v: c}")
    d, record = orc_build(project, env)
    assert dbt_invocations(record) == ["show", "build"], record["dbt_processes"]
    events = source_input(d[STG_EVENTS], "events")
    assert events["method"] == DESCRIBE_HISTORY, events
    assert events["recorded"] == first_token and events["current"] != first_token, events
    assert events["current"].startswith("meta:v2@"), events
    assert d[STG_EVENTS]["decision"] == "build", d[STG_EVENTS]
    assert d[STG_EVENTS]["reason_code"] == "source_new_data", d[STG_EVENTS]
    assert d[EVENTS_DAILY]["decision"] == "build", d[EVENTS_DAILY]
    assert_always_built(d)
    rows = spark_rows(project, env, "select id, v from analytics.stg_events union all "
                                    "select n, 'daily' from analytics.events_daily")
    assert sorted((r["id"], r["v"]) for r in rows) == \
        [(1, "a"), (2, "b"), (3, "c"), (3, "daily")], rows
