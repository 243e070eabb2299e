#!/usr/bin/env python3
"""Seeded, reproducible generator of *runnable* dbt projects on DuckDB, for the end-to-end
benchmark (bench_e2e.py). Unlike gen_project.py (synthetic artifacts for the engine
benchmark), the result is a real project that `dbt build` and `orc dbt build` run.

For M models it writes into OUT/:
  dbt_project.yml, profiles.yml   project `orc_bench`, DuckDB file in the project directory
                                  (ORC_DUCKDB_PATH overrides), threads 4, target `duckdb`
  pyproject.toml, .orchestra/state.json   [tool.orchestra_dbt] use_stateful with a local
                                  state file (read by orc and the reference alike)
  macros/raw_data.sql             `dbt run-operation setup_raw` (re)creates the raw tables
                                  (5 rows each, loaded two hours ago);
                                  `dbt run-operation add_raw_rows --args '{table: t007}'`
                                  appends a row loaded now (the tutorial's interface)
  models/staging/sources.yml      one source table per staging model; most have
                                  loaded_at_field + freshness, every sixth has neither
  models/staging/stg_*.sql        views, one per source table (~10 % of the models)
  models/intermediate/int_*.sql   tables and incrementals joining 2-4 parents (staging and
                                  recent intermediates, so the DAG has depth)
  models/marts/mart_*.sql         tables and incrementals joining ~3 parents (leaves)
  models/*/schema.yml             unique/not_null tests (every staging id, some others)
  tests/assert_*.sql              singular tests
  bench_project.json              counts, plus what the benchmark changes: the source table
                                  for "one source changed" and the staging model for "one
                                  model edited" (each with about 5 % of the models downstream)

Every model has the columns id (unique, from its first parent), amount (bounded) and
loaded_at (the latest loaded_at of the parent rows it joined), so rows stay few and SQL
stays cheap: the timing measures dbt and orc, not DuckDB. Incrementals merge on id the rows
whose loaded_at is newer than their own latest, which gives the same rows as a full build
while raw data is only appended.

Usage: gen_dbt_project.py --models M --out DIR [--seed S]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = "orc_bench"
ORC_CONFIG = '[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = ".orchestra/state.json"\n'
RAW_ROWS = 5
AMOUNT_MOD = 100000
CHANGED_SHARE = 0.05  # descendants of the changed source / edited model, as a share of models


@dataclass
class Model:
    name: str
    layer: str                # staging | intermediate | marts
    materialized: str         # view | table | incremental
    parents: list[str] = field(default_factory=list)  # refs (staging: none)
    source: str = ""          # staging: its source table


def write_orc_config(project: Path) -> None:
    """Writes pyproject.toml ([tool.orchestra_dbt] stateful, local state file) and an empty
    state file into `project`, so `orc dbt build` (and the reference) run statefully there."""
    (project / "pyproject.toml").write_text(ORC_CONFIG)
    state = project / ".orchestra" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"state": {}}\n')


def plan_models(n_models: int, rng: random.Random) -> tuple[list[str], list[Model]]:
    """Chooses the source tables and the models (layer, materialization, parents); returns
    (source tables, models in dependency order). Exactly `n_models` models."""
    if n_models < 10:
        raise ValueError("at least 10 models")
    n_staging = max(3, round(n_models * 0.1))
    n_int = (n_models - n_staging) // 2
    n_marts = n_models - n_staging - n_int
    tables = [f"t{i:03d}" if n_staging <= 1000 else f"t{i:04d}" for i in range(n_staging)]
    staging = [Model(f"stg_{t}", "staging", "view", source=t) for t in tables]
    ints: list[Model] = []
    for i in range(n_int):
        k = rng.choice([2, 3, 3, 4])
        parents = [rng.choice(staging).name]
        window = ints[-40:]
        while len(parents) < k:
            pool = window if window and rng.random() < 0.75 else staging
            p = rng.choice(pool).name
            if p not in parents:
                parents.append(p)
        mat = "incremental" if rng.random() < 0.2 else "table"
        ints.append(Model(f"int_{i:04d}", "intermediate", mat, parents))
    marts: list[Model] = []
    for i in range(n_marts):
        k = rng.choice([2, 3, 3, 3, 4])
        parents: list[str] = []
        while len(parents) < k:
            pool = staging if rng.random() < 0.15 else ints
            p = rng.choice(pool).name
            if p not in parents:
                parents.append(p)
        mat = "incremental" if rng.random() < 0.1 else "table"
        marts.append(Model(f"mart_{i:04d}", "marts", mat, parents))
    return tables, staging + ints + marts


def descendants(models: list[Model]) -> dict[str, int]:
    """Number of models downstream of each model (transitively)."""
    children: dict[str, list[str]] = {m.name: [] for m in models}
    for m in models:
        for p in m.parents:
            children[p].append(m.name)
    count: dict[str, set[str]] = {}
    for m in reversed(models):  # models are in dependency order: children first here
        below: set[str] = set()
        for c in children[m.name]:
            below.add(c)
            below |= count[c]
        count[m.name] = below
    return {name: len(below) for name, below in count.items()}


def staging_sql(m: Model) -> str:
    """A staging view: the source table's columns, renamed nothing, filtered nothing."""
    return (f"select\n    id,\n    amount,\n    label,\n    loaded_at\n"
            f"from {{{{ source('raw', '{m.source}') }}}}\n")


def joined_sql(m: Model) -> str:
    """A model joining its parents on id: rows of the first parent, amounts combined and
    bounded, loaded_at the newest of the joined rows; incrementals keep only rows newer
    than their own latest and merge them on id."""
    alias = [f"p{i + 1}" for i in range(len(m.parents))]
    amount = " + ".join([f"{alias[0]}.amount"] + [f"coalesce({a}.amount, 0)" for a in alias[1:]])
    loaded = ", ".join([f"{alias[0]}.loaded_at"]
                       + [f"coalesce({a}.loaded_at, {alias[0]}.loaded_at)" for a in alias[1:]])
    joins = "".join(f"\nleft join {{{{ ref('{p}') }}}} as {a} on {a}.id = {alias[0]}.id"
                    for p, a in zip(m.parents[1:], alias[1:]))
    select = (f"select\n    {alias[0]}.id,\n    ({amount}) % {AMOUNT_MOD} as amount,\n"
              f"    {alias[0]}.label,\n    greatest({loaded}) as loaded_at\n"
              f"from {{{{ ref('{m.parents[0]}') }}}} as {alias[0]}{joins}\n")
    if m.materialized != "incremental":
        return select
    return ("{{ config(materialized='incremental', unique_key='id') }}\n"
            f"with joined as (\n{select})\nselect * from joined\n"
            "{% if is_incremental() %}\n"
            "where loaded_at > (select coalesce(max(loaded_at), timestamptz '1900-01-01') "
            "from {{ this }})\n{% endif %}\n")


RAW_MACROS = """{#- Raw source data of the generated benchmark project (DuckDB SQL), in the schema
    `<target schema>_raw`: 5 rows per table, loaded two hours ago.
      dbt run-operation setup_raw                                 -- (re)create every table
      dbt run-operation add_raw_rows --args '{table: t000}'       -- append a row loaded now
-#}

{% macro raw_relation(table) -%}
  {{ adapter.quote(target.schema ~ '_raw') }}.{{ adapter.quote(table) }}
{%- endmacro %}

{% macro setup_raw() %}
  {% do run_query('create schema if not exists ' ~ adapter.quote(target.schema ~ '_raw')) %}
  {% for t in raw_tables() %}
    {% do run_query("create or replace table " ~ raw_relation(t) ~ " as select
        cast(i as integer) as id, cast((i * 37 + " ~ loop.index ~ ") % 1000 as integer) as amount,
        'l' || (i % 3) as label, current_timestamp - interval 2 hour as loaded_at
        from range(1, __RANGE_END__) as r(i)") %}
  {% endfor %}
  {{ log('orc_bench: ' ~ (raw_tables() | length) ~ ' raw tables created', info=True) }}
{% endmacro %}

{#- Appends `count` rows (default 1) with new ids to one raw table, loaded now. -#}
{% macro add_raw_rows(table, count=1) %}
  {% set rel = raw_relation(table) %}
  {% do run_query("insert into " ~ rel ~ " select m.id + cast(i as integer), 7, 'l0',
      current_timestamp from (select max(id) as id from " ~ rel ~ ") as m, range(1, "
      ~ (count | int + 1) ~ ") as r(i)") %}
{% endmacro %}
"""


def write_project(out: Path, tables: list[str], models: list[Model], rng: random.Random) -> dict:
    """Writes every file of the project into `out`; returns counts for bench_project.json."""
    (out / "models" / "staging").mkdir(parents=True, exist_ok=True)
    (out / "models" / "intermediate").mkdir(parents=True, exist_ok=True)
    (out / "models" / "marts").mkdir(parents=True, exist_ok=True)
    (out / "macros").mkdir(exist_ok=True)
    (out / "tests").mkdir(exist_ok=True)
    (out / "dbt_project.yml").write_text(
        f"# Generated by bench/gen_dbt_project.py ({len(models)} models).\n"
        f"name: {PROJECT}\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: {PROJECT}\n"
        "model-paths: [\"models\"]\ntest-paths: [\"tests\"]\nmacro-paths: [\"macros\"]\n"
        "clean-targets: [\"target\"]\n"
        f"models:\n  {PROJECT}:\n    staging:\n      +materialized: view\n"
        "    intermediate:\n      +materialized: table\n    marts:\n      +materialized: table\n"
        "flags:\n  send_anonymous_usage_stats: false\n")
    (out / "profiles.yml").write_text(
        f"{PROJECT}:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n"
        "      path: \"{{ env_var('ORC_DUCKDB_PATH', 'orc_bench.duckdb') }}\"\n"
        "      schema: main\n      threads: 4\n")
    write_orc_config(out)
    (out / "macros" / "raw_data.sql").write_text(
        RAW_MACROS.replace("__RANGE_END__", str(RAW_ROWS + 1))
        + "\n{% macro raw_tables() -%}\n  {{ return(["
        + ", ".join(f"'{t}'" for t in tables) + "]) }}\n{%- endmacro %}\n")

    # Sources: every sixth table has no loaded_at_field (its freshness is unknown to dbt).
    lines = ["version: 2", "", "sources:", "  - name: raw",
             "    schema: \"{{ target.schema }}_raw\"", "    tables:"]
    without_loaded_at = []
    for i, t in enumerate(tables):
        lines.append(f"      - name: {t}")
        if i % 6 == 5:
            without_loaded_at.append(t)
            continue
        lines += ["        config:", "          loaded_at_field: loaded_at",
                  "          freshness:", "            warn_after: {count: 24, period: hour}"]
    (out / "models" / "staging" / "sources.yml").write_text("\n".join(lines) + "\n")

    tested: dict[str, list[str]] = {"staging": [], "intermediate": [], "marts": []}
    tests = 0
    for i, m in enumerate(models):
        sql = staging_sql(m) if m.layer == "staging" else joined_sql(m)
        (out / "models" / m.layer / f"{m.name}.sql").write_text(sql)
        if m.layer == "staging":
            tested["staging"].append(f"  - name: {m.name}\n    columns:\n      - name: id\n"
                                     "        data_tests: [unique, not_null]")
            tests += 2
        elif i % 5 == 0:
            tested[m.layer].append(f"  - name: {m.name}\n    columns:\n      - name: id\n"
                                   "        data_tests: [not_null]")
            tests += 1
    for layer, entries in tested.items():
        (out / "models" / layer / "schema.yml").write_text(
            "version: 2\n\nmodels:\n" + "\n".join(entries) + "\n")
    marts = [m.name for m in models if m.layer == "marts"]
    singular = {"assert_amount_in_range": marts[-1], "assert_ids_positive": rng.choice(marts)}
    for name, model in singular.items():
        cond = f"amount < 0 or amount >= {AMOUNT_MOD}" if "amount" in name else "id <= 0"
        (out / "tests" / f"{name}.sql").write_text(
            f"select * from {{{{ ref('{model}') }}}} where {cond}\n")
    return {"tests": tests + len(singular), "sources_without_loaded_at": len(without_loaded_at)}


def pick_changes(tables: list[str], models: list[Model], n_models: int) -> dict:
    """The source table to append to and the staging model to edit: staging models with
    loaded_at on their source whose downstream count is closest to CHANGED_SHARE of the
    models (two different ones)."""
    below = descendants(models)
    target = CHANGED_SHARE * n_models
    candidates = sorted(
        (abs(below[f"stg_{t}"] - target), i, t) for i, t in enumerate(tables) if i % 6 != 5)
    source, edit = candidates[0][2], candidates[1][2]
    return {"change_source": source, "change_source_downstream": below[f"stg_{source}"],
            "edit_model": f"models/staging/stg_{edit}.sql",
            "edit_model_downstream": below[f"stg_{edit}"]}


def generate(n_models: int, out: str, seed: int = 42) -> dict:
    """Writes a runnable project with `n_models` models into `out` (created or overwritten
    file by file) and returns what it wrote to bench_project.json."""
    rng = random.Random(seed * 1_000_003 + n_models)
    tables, models = plan_models(n_models, rng)
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    counts = write_project(path, tables, models, rng)
    mats = [m.materialized for m in models]
    meta = {"models": len(models), "seed": seed, "sources": len(tables),
            "views": mats.count("view"), "tables": mats.count("table"),
            "incrementals": mats.count("incremental"),
            "edges": sum(len(m.parents) for m in models) + len(tables), **counts,
            **pick_changes(tables, models, n_models)}
    (path / "bench_project.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args(argv)
    print(json.dumps(generate(a.models, a.out, a.seed), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
