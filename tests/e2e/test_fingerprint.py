"""A node is never reused stale (issue "Never stale"): its fingerprint, not only dbt's file
checksum, decides reuse, and the warehouse is checked before a relation is reused.

The fingerprint covers the node's normalised code, every project/package macro it calls
(transitively) and a custom materialization that builds it, its result-affecting config, its
relation identity and adapter, and the values of the vars and env vars its code reads. Each
test changes one of those between two orc runs and asserts on three things:

- what dbt ran (target/run_results.json),
- why orc decided so (`reason_code` / `reason_subject` in target/orc_decisions.json; never the
  wording of `reason`),
- the warehouse itself (information_schema and row contents, read directly once dbt exited).

Every orc run is bracketed by a snapshot of the project tree: the tests edit project files
between runs, orc itself never does.

The scratch project gets a few models of its own (see `add_fingerprint_models`):
    macros/fp_money.sql               money(col) calls money_factor(): a macro chain
    models/marts/fp_orders.sql        reads money(), var('weight', 1), env_var('SHOP_CURRENCY')
    models/marts/fp_orders_total.sql  a child of fp_orders
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from helpers import slow, Project, assert_tree_unchanged
from test_stateful_core import FCT_ORDERS, ORDERS_BY_STATUS, P, STG_ORDERS, decisions_by_id

FP_ORDERS = f"model.{P}.fp_orders"
FP_TOTAL = f"model.{P}.fp_orders_total"
MONEY = f"macro.{P}.money"
MONEY_FACTOR = f"macro.{P}.money_factor"

# Looks like a credential: it must never reach the state file or orc's output.
SECRET = "sk_live_4f9c2e7a1b8d6e3f0a5c"

# The reason code of a node reused because nothing changed.
UNCHANGED = "no_new_data"

MONEY_SQL = """\
{#- Test macros for fingerprints: money() calls money_factor(). -#}
{% macro money(col) -%}
  round(cast({{ col }} as numeric(12, 2)) * {{ money_factor() }}, 2)
{%- endmacro %}

{% macro money_factor() -%}
  1
{%- endmacro %}
"""

FP_ORDERS_SQL = """\
{#- Its result depends on a macro chain, a var and an env var. -#}
select
    order_id,
    {{ money('amount') }} as amount_money,
    {{ var('weight', 1) }} as weight,
    '{{ env_var('SHOP_CURRENCY', 'EUR') }}' as currency,
    'per  order' as label
from {{ ref('fct_orders') }}
"""

FP_TOTAL_SQL = """\
select sum(amount_money) as total, max(weight) as weight, max(currency) as currency
from {{ ref('fp_orders') }}
"""

MY_TABLE_SQL = """\
{#- A custom materialization: a table with the materialization's version as a column. -#}
{% materialization my_table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = adapter.get_relation(database=this.database, schema=this.schema,
                                          identifier=this.identifier) -%}
  {% if existing is not none %}
    {% do adapter.drop_relation(existing) %}
  {% endif %}
  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, target_relation,
                               'select *, 1 as mat_version from (' ~ sql ~ ') as m') }}
  {%- endcall %}
  {% do adapter.commit() %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
"""


# --- project set-up -----------------------------------------------------------------------

def add_fingerprint_models(p: Project) -> None:
    """Adds the money macros and fp_orders / fp_orders_total to the scratch project, and
    turns seed_state_orchestration on so unchanged seeds do not rebuild their children."""
    (p.dir / "macros" / "fp_money.sql").write_text(MONEY_SQL)
    (p.dir / "models" / "marts" / "fp_orders.sql").write_text(FP_ORDERS_SQL)
    (p.dir / "models" / "marts" / "fp_orders_total.sql").write_text(FP_TOTAL_SQL)
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)


def edit(path: Path, old: str, new: str) -> None:
    """Replaces exactly one occurrence of `old` in a scratch project file."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not found once in {path}"
    path.write_text(text.replace(old, new))


# --- running orc --------------------------------------------------------------------------

def build(p: Project, *args, env: dict | None = None):
    """`orc dbt build <args>`, which must succeed and leave every project file as it was.
    Returns (decisions by unique_id, the nodes dbt ran, orc's Result)."""
    before = p.tree_snapshot()
    r = p.orc("build", *args, env=env)
    assert r.returncode == 0, r.describe()
    assert_tree_unchanged(p, before)
    return decisions_by_id(p), ran(p), r


def ran(p: Project) -> set[str]:
    """The nodes dbt ran in the last orc invocation (none when orc did not start dbt)."""
    if p.decisions()["run_command"] is None:
        return set()
    return set(p.run_results())


def assert_code(d: dict, uid: str, decision: str, code: str | set[str],
                subject: str | None = None) -> None:
    """Node `uid` was decided `decision` with reason code `code` (one of them, for a set)
    and, when given, reason subject `subject`."""
    node = d.get(uid)
    assert node is not None, f"{uid} was not decided"
    codes = {code} if isinstance(code, str) else code
    assert node["decision"] == decision and node.get("reason_code") in codes, (uid, node)
    if subject is not None:
        assert node.get("reason_subject") == subject, (uid, node)


def assert_reused(d: dict, ran_ids: set[str], *uids: str) -> None:
    """Each node was reused because nothing changed, and dbt did not run it."""
    for uid in uids:
        assert_code(d, uid, "reuse", UNCHANGED)
        assert uid not in ran_ids, f"{uid} was reused but dbt ran it"


def assert_built(ran_ids: set[str], p: Project, *uids: str) -> None:
    results = p.run_results()
    for uid in uids:
        assert uid in ran_ids and results[uid] == "success", (uid, results.get(uid))


# --- the warehouse, read directly (dbt is not running) ------------------------------------

def schema_of(p: Project) -> str:
    return p.schema if p.target == "postgres" else "main"


def warehouse(p: Project, sql: str, fetch: bool = True) -> list[tuple]:
    """Runs one SQL statement against the project's warehouse, outside dbt."""
    if p.target == "duckdb":
        import duckdb

        con = duckdb.connect(str(p.workspace / "warehouse.duckdb"))
        try:
            cur = con.execute(sql)
            return cur.fetchall() if fetch else []
        finally:
            con.close()
    import psycopg2

    e = p.env
    con = psycopg2.connect(host=e["PGHOST"], port=e["PGPORT"], user=e["PGUSER"],
                           password=e.get("PGPASSWORD", ""), dbname=e["PGDATABASE"])
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if fetch else []
    finally:
        con.close()


def relation_type(p: Project, name: str, schema: str | None = None) -> str | None:
    """'BASE TABLE', 'VIEW' or None (absent), from information_schema."""
    rows = warehouse(p, "select table_type from information_schema.tables "
                        f"where table_schema = '{schema or schema_of(p)}' "
                        f"and table_name = '{name}'")
    return rows[0][0] if rows else None


def fq(p: Project, name: str) -> str:
    return f'"{schema_of(p)}"."{name}"'


def amount_of_order_1(p: Project) -> Decimal:
    sql = f"select amount_money from {fq(p, 'fp_orders')} where order_id = 1"
    return warehouse(p, sql)[0][0]


# --- the tests ----------------------------------------------------------------------------

def test_macro_edit_rebuilds_its_callers(logic_project: Project):
    p = logic_project
    add_fingerprint_models(p)
    d, _, _ = build(p)
    assert_code(d, FP_ORDERS, "build", "no_state_entry")
    assert amount_of_order_1(p) == Decimal("10.00")

    # The macro the model calls changes: the model and its child are rebuilt, nothing else.
    macros = p.dir / "macros" / "fp_money.sql"
    edit(macros, "* {{ money_factor() }}, 2)", "* {{ money_factor() }} * 100, 2)")
    d, ran_ids, _ = build(p)
    assert_code(d, FP_ORDERS, "build", "macro_changed", MONEY)
    assert_code(d, FP_TOTAL, "build", "parent_built", FP_ORDERS)
    assert_built(ran_ids, p, FP_ORDERS, FP_TOTAL)
    assert_reused(d, ran_ids, STG_ORDERS, FCT_ORDERS, ORDERS_BY_STATUS)
    assert amount_of_order_1(p) == Decimal("1000.00")

    # A macro it calls only through money(): the change is seen through the call chain.
    edit(macros, "{% macro money_factor() -%}\n  1\n", "{% macro money_factor() -%}\n  10\n")
    d, ran_ids, _ = build(p)
    assert_code(d, FP_ORDERS, "build", "macro_changed", MONEY_FACTOR)
    assert_built(ran_ids, p, FP_ORDERS, FP_TOTAL)
    assert_reused(d, ran_ids, FCT_ORDERS)
    assert amount_of_order_1(p) == Decimal("10000.00")


def test_var_value_change_rebuilds_its_readers(any_project: Project):
    p = any_project
    add_fingerprint_models(p)
    build(p)
    weight_3 = ["--vars", json.dumps({"weight": 3})]

    d, ran_ids, _ = build(p, *weight_3)
    assert_code(d, FP_ORDERS, "build", "var_changed", "weight")
    assert_code(d, FP_TOTAL, "build", "parent_built", FP_ORDERS)
    assert_built(ran_ids, p, FP_ORDERS, FP_TOTAL)
    assert_reused(d, ran_ids, STG_ORDERS, FCT_ORDERS)  # they do not read `weight`
    assert warehouse(p, f"select max(weight) from {fq(p, 'fp_orders_total')}") == [(3,)]

    # The same vars again: nothing to do for the readers.
    d, ran_ids, _ = build(p, *weight_3)
    assert_reused(d, ran_ids, FP_ORDERS, FP_TOTAL, FCT_ORDERS)

    # Back to the default value: rebuilt once more.
    d, ran_ids, _ = build(p)
    assert_code(d, FP_ORDERS, "build", "var_changed", "weight")
    assert_built(ran_ids, p, FP_ORDERS, FP_TOTAL)
    assert warehouse(p, f"select max(weight) from {fq(p, 'fp_orders_total')}") == [(1,)]


def test_env_var_change_rebuilds_and_its_value_is_never_recorded(project: Project):
    p = project
    add_fingerprint_models(p)
    build(p)

    d, ran_ids, r = build(p, env={"SHOP_CURRENCY": SECRET, "ORCHESTRA_DBT_DEBUG": "true"})
    assert_code(d, FP_ORDERS, "build", "env_var_changed", "SHOP_CURRENCY")
    assert_built(ran_ids, p, FP_ORDERS, FP_TOTAL)
    assert_reused(d, ran_ids, STG_ORDERS, FCT_ORDERS)
    assert warehouse(p, f"select max(currency) from {fq(p, 'fp_orders_total')}") == [(SECRET,)]
    state_text = p.state_file.read_text()
    assert "fingerprint" in json.loads(state_text)["state"][FP_ORDERS], "no fingerprint recorded"
    assert SECRET not in state_text, "an env var's value was written to the state file"
    assert SECRET not in r.output, "an env var's value was printed by orc"
    decisions_text = (p.target_dir / "orc_decisions.json").read_text()
    assert SECRET not in decisions_text, "an env var's value was written to orc_decisions.json"

    # The same value again: reused.
    d, ran_ids, r = build(p, env={"SHOP_CURRENCY": SECRET})
    assert_reused(d, ran_ids, FP_ORDERS, FP_TOTAL)
    assert SECRET not in p.state_file.read_text() and SECRET not in r.output


def test_materialized_config_change_rebuilds_as_view(any_project: Project):
    p = any_project
    add_fingerprint_models(p)
    build(p)
    assert relation_type(p, "orders_by_status") == "BASE TABLE"

    # Only dbt_project.yml changes; orders_by_status.sql (dbt's checksum) does not.
    edit(p.dir / "dbt_project.yml", "    marts:\n      +materialized: table\n",
         "    marts:\n      +materialized: table\n"
         "      orders_by_status:\n        +materialized: view\n")
    d, ran_ids, _ = build(p)
    assert_code(d, ORDERS_BY_STATUS, "build", "config_changed", "materialized")
    assert_built(ran_ids, p, ORDERS_BY_STATUS)
    assert_reused(d, ran_ids, FCT_ORDERS, FP_ORDERS)
    assert relation_type(p, "orders_by_status") == "VIEW"


def test_dropped_table_is_rebuilt(any_project: Project):
    p = any_project
    add_fingerprint_models(p)
    build(p)
    warehouse(p, f"drop table {fq(p, 'orders_by_status')}", fetch=False)
    assert relation_type(p, "orders_by_status") is None

    d, ran_ids, _ = build(p)
    assert_code(d, ORDERS_BY_STATUS, "build", "relation_missing")
    assert "orders_by_status" in d[ORDERS_BY_STATUS]["reason_subject"], d[ORDERS_BY_STATUS]
    assert_built(ran_ids, p, ORDERS_BY_STATUS)
    assert_reused(d, ran_ids, FCT_ORDERS, FP_ORDERS)
    assert relation_type(p, "orders_by_status") == "BASE TABLE"
    assert warehouse(p, f"select count(*) from {fq(p, 'orders_by_status')}")[0][0] > 0


@slow(75)
def test_targets_never_share_reuse(project: Project):
    p = project
    add_fingerprint_models(p)
    # A second output: the same DuckDB file, schema `other` (raw tables in `other_raw`).
    edit(p.dir / "profiles.yml", "    postgres:\n",
         "    other:\n"
         "      type: duckdb\n"
         "      path: \"{{ env_var('ORC_DUCKDB_PATH', 'orc_tutorial.duckdb') }}\"\n"
         "      schema: other\n"
         "      threads: 4\n"
         "    postgres:\n")
    r = p.dbt("run-operation", "setup_raw", "--target", "other")
    assert r.returncode == 0, r.describe()
    models = (STG_ORDERS, FCT_ORDERS, ORDERS_BY_STATUS, FP_ORDERS, FP_TOTAL)

    build(p)
    assert relation_type(p, "fct_orders", "other") is None

    # Same state file, other target: everything is built there.
    d, ran_ids, _ = build(p, "--target", "other")
    for uid in models:
        assert_code(d, uid, "build", {"no_state_entry", "relation_changed"})
    assert_built(ran_ids, p, *models)
    assert relation_type(p, "fct_orders", "other") == "BASE TABLE"
    assert relation_type(p, "stg_orders", "other") == "VIEW"

    # Back to the first target: its relations and entries are still there.
    d, ran_ids, _ = build(p)
    assert_reused(d, ran_ids, *models)

    # And back to the other one: reused too.
    d, ran_ids, _ = build(p, "--target", "other")
    assert_reused(d, ran_ids, *models)


def test_comments_layout_and_descriptions_change_nothing(project: Project):
    p = project
    add_fingerprint_models(p)
    build(p)

    fct = p.dir / "models" / "marts" / "fct_orders.sql"
    edit(fct, "select\n", "-- orders, one row each\n{# a Jinja comment #}\nselect /* inline */\n")
    d, ran_ids, _ = build(p)
    assert_reused(d, ran_ids, FCT_ORDERS, ORDERS_BY_STATUS, FP_ORDERS)

    # Layout only (indentation, line breaks, blank lines, trailing spaces), and a column
    # description in a schema file.
    edit(fct, "    order_id,\n    customer_id,\n", "\torder_id,   customer_id,  \n\n\n")
    edit(p.dir / "models" / "marts" / "marts.yml", "      - name: order_id\n",
         "      - name: order_id\n        description: One row per order.\n")
    d, ran_ids, _ = build(p)
    assert_reused(d, ran_ids, FCT_ORDERS, ORDERS_BY_STATUS, FP_ORDERS)

    # Whitespace inside a string literal does count.
    edit(p.dir / "models" / "marts" / "fp_orders.sql", "'per  order'", "'per order'")
    d, ran_ids, _ = build(p)
    assert_code(d, FP_ORDERS, "build", "code_changed", FP_ORDERS)
    assert_built(ran_ids, p, FP_ORDERS, FP_TOTAL)
    assert_reused(d, ran_ids, FCT_ORDERS)
    assert warehouse(p, f"select distinct label from {fq(p, 'fp_orders')}") == [("per order",)]


def test_table_replaced_by_view_is_rebuilt_as_table(project: Project):
    p = project
    add_fingerprint_models(p)
    build(p)
    warehouse(p, f"drop table {fq(p, 'orders_by_status')}", fetch=False)
    warehouse(p, f"create view {fq(p, 'orders_by_status')} as select 'stale' as status",
              fetch=False)
    assert relation_type(p, "orders_by_status") == "VIEW"

    d, ran_ids, _ = build(p)
    assert_code(d, ORDERS_BY_STATUS, "build", "relation_kind_changed")
    assert "orders_by_status" in d[ORDERS_BY_STATUS]["reason_subject"]
    assert d[ORDERS_BY_STATUS]["reason_detail"] == "table -> view", d[ORDERS_BY_STATUS]
    assert_built(ran_ids, p, ORDERS_BY_STATUS)
    assert_reused(d, ran_ids, FCT_ORDERS)
    assert relation_type(p, "orders_by_status") == "BASE TABLE"
    statuses = {row[0] for row in warehouse(p, f"select status from {fq(p, 'orders_by_status')}")}
    assert "stale" not in statuses and "completed" in statuses


def test_custom_materialization_edit_rebuilds_its_users(project: Project):
    p = project
    add_fingerprint_models(p)
    mat = p.dir / "macros" / "materializations" / "my_table.sql"
    mat.parent.mkdir()
    mat.write_text(MY_TABLE_SQL)
    users = [f"model.{P}.fp_custom_a", f"model.{P}.fp_custom_b"]
    for uid in users:
        (p.dir / "models" / "marts" / f"{uid.split('.')[-1]}.sql").write_text(
            "{{ config(materialized='my_table') }}\n"
            "select order_id from {{ ref('fct_orders') }}\n")
    build(p)
    assert warehouse(p, f"select distinct mat_version from {fq(p, 'fp_custom_a')}") == [(1,)]

    edit(mat, "1 as mat_version", "2 as mat_version")
    d, ran_ids, _ = build(p)
    for uid in users:
        assert_code(d, uid, "build", "macro_changed",
                    f"macro.{P}.materialization_my_table_default")
    assert_built(ran_ids, p, *users)
    assert_reused(d, ran_ids, FCT_ORDERS, ORDERS_BY_STATUS, FP_ORDERS)
    for name in ("fp_custom_a", "fp_custom_b"):
        assert warehouse(p, f"select distinct mat_version from {fq(p, name)}") == [(2,)]
        assert relation_type(p, name) == "BASE TABLE"


def test_relation_check_can_be_turned_off(project: Project):
    """verify_relations_exist = false (or ORCHESTRA_VERIFY_RELATIONS_EXIST=false) trusts the
    state: a table dropped outside dbt is not noticed. The default notices it."""
    p = project
    add_fingerprint_models(p)
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True,
                   verify_relations_exist=False)
    build(p)
    warehouse(p, f"drop table {fq(p, 'orders_by_status')}", fetch=False)

    d, ran_ids, _ = build(p)
    assert_reused(d, ran_ids, ORDERS_BY_STATUS)
    assert relation_type(p, "orders_by_status") is None

    # The environment variable turns it off as well (config back to the default).
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    d, ran_ids, _ = build(p, env={"ORCHESTRA_VERIFY_RELATIONS_EXIST": "false"})
    assert_reused(d, ran_ids, ORDERS_BY_STATUS)
    assert relation_type(p, "orders_by_status") is None

    # Default: noticed and rebuilt.
    d, ran_ids, _ = build(p)
    assert_code(d, ORDERS_BY_STATUS, "build", "relation_missing")
    assert relation_type(p, "orders_by_status") == "BASE TABLE"


def test_reference_state_entries_are_rebuilt_once(project: Project):
    p = project
    add_fingerprint_models(p)
    build(p)
    # Rewrite every entry in the reference's shape: checksum, last_updated, sources only.
    state = p.read_state()
    for entry in state["state"].values():
        for key in list(entry):
            if key not in ("checksum", "last_updated", "sources"):
                del entry[key]
    p.write_state(state)
    models = (STG_ORDERS, FCT_ORDERS, ORDERS_BY_STATUS, FP_ORDERS, FP_TOTAL)

    d, ran_ids, _ = build(p)
    for uid in models:
        assert_code(d, uid, "build", "fingerprint_unrecorded")
    assert_built(ran_ids, p, *models)
    saved = p.read_state()["state"]
    for uid in models:
        assert {"checksum", "last_updated", "sources", "fingerprint"} <= saved[uid].keys(), uid

    d, ran_ids, _ = build(p)
    assert_reused(d, ran_ids, *models)
