"""Implicit freshness on Snowflake, for real through dbt-snowflake against fakesnow (a local
stand-in serving Snowflake's HTTP API over DuckDB). What this proves: orc's metadata query
(INFORMATION_SCHEMA.TABLES.LAST_ALTERED, names as the warehouse spells them, upper-case column
names in dbt's answer) runs through the real adapter inside orc's one dbt process and its
answer is read into a token, a view and a missing table are unknown with their reason, and
relations are listed. What it cannot prove: change detection, because fakesnow's LAST_ALTERED
is a constant (the unit tests cover reading changing values)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers import base_env, read_json, run_orc

VENV = Path(__file__).resolve().parents[2] / ".venv-snowflake"
# dbt-snowflake lives in its own venv: real dbt processes (no fork server of .venv's dbt).
pytestmark = pytest.mark.real_dbt

PROJECT = {
    "dbt_project.yml": "name: snowproj\nversion: '1.0'\nconfig-version: 2\nprofile: snow\n",
    "models/sources.yml": """version: 2
sources:
  - name: raw
    database: ORCDB
    schema: RAW
    tables:
      - name: events
      - name: events_view
      - name: missing_table
""",
    "models/stg_events.sql": "select * from {{ source('raw', 'events') }}\n",
    "models/stg_view.sql": "select * from {{ source('raw', 'events_view') }}\n",
    "models/stg_missing.sql": "select * from {{ source('raw', 'missing_table') }}\n",
    "macros/setup.sql": """{% macro setup_raw() %}
  {% do run_query("create database if not exists ORCDB") %}
  {% do run_query("create schema if not exists ORCDB.RAW") %}
  {% do run_query("create or replace table ORCDB.RAW.EVENTS (id int, v varchar)") %}
  {% do run_query("insert into ORCDB.RAW.EVENTS values (1, 'a'), (2, 'b')") %}
  {% do run_query("create or replace view ORCDB.RAW.EVENTS_VIEW as select * from ORCDB.RAW.EVENTS") %}
  {% do run_query("create or replace table ORCDB.RAW.MISSING_TABLE (id int)") %}
{% endmacro %}
{% macro drop_raw(name) %}
  {% do run_query("drop table ORCDB.RAW." ~ name) %}
{% endmacro %}
""",
    "pyproject.toml": '[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = "state.json"\n',
    "state.json": '{"state": {}}\n',
}


@pytest.fixture(scope="module")
def fakesnow(tmp_path_factory):
    if not (VENV / "bin" / "fakesnow").exists():
        pytest.fail(".venv-snowflake is missing: run `VENV=.venv-snowflake "
                    "REQUIREMENTS=requirements-snowflake.txt bash scripts/install_deps.sh`",
                    pytrace=False)
    from servers.fakesnow_server import FakesnowServer

    server = FakesnowServer(tmp_path_factory.mktemp("fakesnow"))
    yield server
    server.stop()


@pytest.fixture
def snow_project(fakesnow, tmp_path) -> tuple[Path, dict]:
    for rel, text in PROJECT.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "profiles.yml").write_text(f"""snow:
  target: dev
  outputs:
    dev:
      type: snowflake
      account: fake
      user: fake
      password: fake
      database: ORCDB
      schema: ANALYTICS
      warehouse: WH
      host: 127.0.0.1
      port: {fakesnow.port}
      protocol: http
      threads: 1
""")
    env = base_env() | {"DBT_PROFILES_DIR": str(tmp_path),
                        "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run([str(VENV / "bin" / "dbt"), "run-operation", "setup_raw"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return tmp_path, env


def orc_build(project: Path, env: dict, *args: str):
    r = run_orc(["dbt", "build", *args], project, env)
    assert r.returncode == 0, r.describe()
    d = read_json(project / "target" / "orc_decisions.json")
    return {n["unique_id"]: n for n in d["nodes"]}, d


def source_input(node: dict, source: str) -> dict:
    return node["inputs"]["sources"][f"source.snowproj.raw.{source}"]


def test_last_altered_token_is_read_through_dbt_snowflake(snow_project):
    project, env = snow_project
    _, record = orc_build(project, env)
    assert [p["mode"] for p in record["dbt_processes"]] == ["driver"], record["dbt_processes"]

    second, record = orc_build(project, env)
    stg = second["model.snowproj.stg_events"]
    events = source_input(stg, "events")
    assert events["method"] == "metadata: last_altered", events
    assert events["current"] and events["current"].startswith("meta:"), events
    assert stg["decision"] == "reuse" and stg["reason_code"] == "no_new_data", stg
    assert events["recorded"] == events["current"]
    # A source that is a view: always new data, so its dependant is built again.
    view = source_input(second["model.snowproj.stg_view"], "events_view")
    assert view["method"] == "unknown: the source is a view", view
    assert second["model.snowproj.stg_view"]["decision"] == "build"
    assert second["model.snowproj.stg_view"]["reason_code"] == "source_freshness_unknown"


def test_a_source_table_dropped_outside_dbt_is_unknown(snow_project):
    project, env = snow_project
    orc_build(project, env)
    r = subprocess.run([str(VENV / "bin" / "dbt"), "run-operation", "drop_raw", "--args",
                        "{name: MISSING_TABLE}"], cwd=project, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # The model reading the dropped table then fails to build; what matters is the token.
    r = run_orc(["dbt", "build"], project, env)
    d = {n["unique_id"]: n for n in read_json(project / "target" / "orc_decisions.json")["nodes"]}
    missing = source_input(d["model.snowproj.stg_missing"], "missing_table")
    assert missing["method"] == "unknown: the source relation was not found", \
        (missing, r.describe())
    assert d["model.snowproj.stg_missing"]["decision"] == "build"
    assert d["model.snowproj.stg_events"]["decision"] == "reuse"


def test_reuse_from_clones_through_dbt_snowflake(snow_project):
    """`--reuse-from` on Snowflake (issue 34): what this proves is that orc's clone batch runs
    through the real dbt-snowflake adapter inside orc's one dbt process and that the clone
    decision and the clone entries work there: dbt-snowflake's create_or_replace_clone issues
    its zero-copy `create or replace transient table CI.x clone ANALYTICS.x`, which fakesnow
    accepts. What a clone costs or
    keeps on real Snowflake (time travel, storage) is Snowflake's, not provable here."""
    project, env = snow_project
    profiles = project / "profiles.yml"
    text = profiles.read_text()
    dev = text[text.index("    dev:"):]
    profiles.write_text(text + dev.replace("    dev:", "    ci:").replace(
        "schema: ANALYTICS", "schema: CI"))
    model = project / "models" / "orders_table.sql"
    model.write_text("{{ config(materialized='table') }}\nselect id, v from "
                     "{{ source('raw', 'events') }}\n")
    orc_build(project, env, "--select", "orders_table")
    r = run_orc(["dbt", "build", "--select", "orders_table", "--target", "ci", "--reuse-from",
                 "dev"], project, env)
    d = {n["unique_id"]: n for n in read_json(project / "target" / "orc_decisions.json")["nodes"]}
    node = d["model.snowproj.orders_table"]
    assert (node["decision"], node["reason_code"]) == ("clone", "cloned_from_target"), \
        (node, r.describe())
    assert r.returncode == 0, r.describe()
    log = (project / "logs" / "dbt.log").read_text()
    assert "clone ORCDB.ANALYTICS.orders_table" in log, "dbt-snowflake's zero-copy clone ran"
    # Made by orc's clone batch (dbt-snowflake's create_or_replace_clone in one inline query;
    # its own view materialization would only matter for a view clone), not by `dbt clone`.
    record = read_json(project / "target" / "orc_decisions.json")
    assert record["clone_batch"] == {"nodes": 1, "outcome": "cloned"}, record["clone_batch"]
    assert "clone_command" not in record, record["clone_command"]
    entry = read_json(project / "state.json")["state"]["model.snowproj.orders_table"]
    assert (entry["orc_target"], entry["orc_cloned_from"]) == ("ci", "dev"), entry
    again = run_orc(["dbt", "build", "--select", "orders_table", "--target", "ci",
                     "--reuse-from", "dev"], project, env)
    assert again.returncode == 0, again.describe()
    d = {n["unique_id"]: n for n in read_json(project / "target" / "orc_decisions.json")["nodes"]}
    assert d["model.snowproj.orders_table"]["decision"] == "reuse", d["model.snowproj.orders_table"]
