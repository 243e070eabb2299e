"""orc tells the truth about a run (issue "Truthful runs"):

- a model that reads the clock or randomness has new input on every run (`volatile`), unless
  it is inside its `build_after` window or its config says `volatile: false`;
- a generic test is fingerprinted: editing a custom generic test runs it, even when its
  parents are reused, and its failure fails orc as it fails plain dbt;
- a run that builds nothing leaves a target/run_results.json of orc's reused results only, so
  neither an earlier run's results (a stale `warn`) nor orc's own `dbt show` query remain
  there;
- nodes orc decided to build that dbt did not run (skipped after a failure, or dropped by
  dbt's selection) are listed under `not_run` in orc_decisions.json.

Every test asserts on dbt's run_results.json, the reason codes in orc_decisions.json and,
where a value is at stake, the warehouse itself; every orc run is bracketed by a snapshot of
the project tree (taken after the test's own edits).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from helpers import Project, assert_tree_unchanged, fail_model_on_env, read_json
from test_fingerprint import edit, fq, warehouse
from test_stateful_core import (FCT_ORDERS, ORDERS_BY_STATUS, P, STG_ORDERS,
                                UNIT_TEST, decisions_by_id)

TIME_SPINE = f"model.{P}.time_spine"
TIME_SPINE_CHILD = f"model.{P}.time_spine_days"
IS_POSITIVE = f"macro.{P}.test_is_positive"
WARN_TEST = f"test.{P}.warn_when_requested"
WARN_VARS = ["--vars", "{orc_warn_test: true}"]

TIME_SPINE_SQL = "select current_timestamp as built_at\n"
TIME_SPINE_CHILD_SQL = \
    "select count(*) as spines, max(built_at) as built_at from {{ ref('time_spine') }}\n"

IS_POSITIVE_SQL = """\
{% test is_positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} < 0
{% endtest %}
"""


# --- helpers ------------------------------------------------------------------------------

def orc_build(p: Project, *args, env: dict | None = None, ok: bool = True):
    """`orc dbt build <args>`; it must succeed when `ok` (else fail) and leave every project
    file as it was. Returns (decisions by unique_id, dbt's results by unique_id, Result)."""
    before = p.tree_snapshot()
    r = p.orc("build", *args, env=env)
    if ok:
        assert r.returncode == 0, r.describe()
    else:
        assert r.returncode != 0, r.describe()
    assert_tree_unchanged(p, before)
    results = p.run_results() if p.decisions()["run_command"] is not None else {}
    return decisions_by_id(p), results, r


def code(d: dict, uid: str) -> tuple[str, str | None]:
    node = d.get(uid)
    assert node is not None, f"{uid} was not decided"
    return node["decision"], node.get("reason_code")


def assert_code(d: dict, uid: str, decision: str, reason: str, subject: str | None = None):
    assert code(d, uid) == (decision, reason), (uid, d[uid])
    if subject is not None:
        assert d[uid].get("reason_subject") == subject, (uid, d[uid])


def built_at(p: Project):
    rows = warehouse(p, f"select built_at from {fq(p, 'time_spine')}")
    assert len(rows) == 1, rows
    return rows[0][0]


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def last_updated(p: Project, uid: str) -> datetime:
    ts = p.read_state()["state"][uid]["last_updated"]
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def is_warn(p: Project) -> str:
    r = p.orc("orchestra", "is_warn", target=False)
    assert r.returncode == 0, r.describe()
    return r.stdout.strip().split()[-1]


def add_status_test(p: Project, values: str, config: str):
    """Adds an accepted_values test on fct_orders.status with these values and one config
    line; returns the edited yml file."""
    marts_yml = p.dir / "models" / "marts" / "marts.yml"
    edit(marts_yml, "      - name: order_id\n        data_tests: [unique]\n",
         "      - name: order_id\n        data_tests: [unique]\n"
         "      - name: status\n        data_tests:\n          - accepted_values:\n"
         f"              arguments:\n                values: {values}\n"
         f"              config:\n                {config}\n")
    return marts_yml


def ids_named(d_or_results, prefix: str) -> list[str]:
    return sorted(u for u in d_or_results if u.startswith(f"test.{P}.{prefix}"))


# --- volatile models ----------------------------------------------------------------------

def test_clock_model_is_built_every_run_unless_windowed_or_declared_stable(logic_project: Project):
    p = logic_project
    # `volatility = "any"`: every clock read counts, this audit-only spine included (under the
    # default `filters` it would be reused; see test_volatility.py).
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True,
                   volatility="any")
    marts = p.dir / "models" / "marts"
    (marts / "time_spine.sql").write_text(TIME_SPINE_SQL)
    (marts / "time_spine_days.sql").write_text(TIME_SPINE_CHILD_SQL)

    d, ran, _ = orc_build(p)
    assert_code(d, TIME_SPINE, "build", "no_state_entry")
    first = built_at(p)

    # Nothing changed anywhere, yet the model reads the clock: built again, with its child.
    d, ran, _ = orc_build(p)
    assert_code(d, TIME_SPINE, "build", "volatile")
    assert_code(d, TIME_SPINE_CHILD, "build", "parent_built", TIME_SPINE)
    assert ran.get(TIME_SPINE) == "success" and ran.get(TIME_SPINE_CHILD) == "success", ran
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert FCT_ORDERS not in ran
    second = built_at(p)
    assert second > first, (first, second)

    # A build_after window (freshness is not fingerprinted): reused inside it.
    (marts / "time_spine.yml").write_text(
        "version: 2\nmodels:\n  - name: time_spine\n    config:\n      freshness:\n"
        "        build_after: {count: 1, period: hour}\n")
    built = last_updated(p, TIME_SPINE)
    d, ran, _ = orc_build(p, env={"ORC_NOW": iso(built + timedelta(minutes=10))})
    assert_code(d, TIME_SPINE, "reuse", "build_after_window")
    assert TIME_SPINE not in ran and TIME_SPINE_CHILD not in ran, ran
    assert_code(d, TIME_SPINE_CHILD, "reuse", "no_new_data")
    assert built_at(p) == second

    # The user's word overrides the scan: `volatile: false` is reused when nothing changed,
    # and setting it is not a config change that rebuilds.
    (marts / "time_spine.yml").write_text(
        "version: 2\nmodels:\n  - name: time_spine\n    config:\n      volatile: false\n")
    d, ran, _ = orc_build(p)
    assert_code(d, TIME_SPINE, "reuse", "no_new_data")
    assert_code(d, TIME_SPINE_CHILD, "reuse", "no_new_data")
    assert TIME_SPINE not in ran
    assert built_at(p) == second


def test_volatile_config_in_the_model_file(project: Project):
    """`{{ config(volatile=true) }}` marks code orc cannot recognise as volatile, and
    `{{ config(volatile=false) }}` in a model calling now() lets it be reused."""
    p = project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    marts = p.dir / "models" / "marts"
    (marts / "stamped.sql").write_text("{{ config(volatile=false) }}\nselect now() as t\n")
    (marts / "declared.sql").write_text(
        "{{ config(volatile=true) }}\nselect count(*) as n from {{ ref('fct_orders') }}\n")
    stamped, declared = f"model.{P}.stamped", f"model.{P}.declared"
    orc_build(p)
    d, ran, _ = orc_build(p, "--select", "fct_orders", "stamped", "declared")
    assert_code(d, stamped, "reuse", "no_new_data")
    assert_code(d, declared, "build", "volatile")
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert set(ran) == {declared}, ran


# --- fingerprinted generic tests ----------------------------------------------------------

def test_edited_custom_generic_test_runs_and_fails_like_plain_dbt(logic_project: Project):
    p = logic_project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    generic = p.dir / "tests" / "generic" / "is_positive.sql"
    generic.parent.mkdir()
    generic.write_text(IS_POSITIVE_SQL)
    edit(p.dir / "models" / "marts" / "marts.yml",
         "      - name: order_id\n        data_tests: [unique]\n",
         "      - name: order_id\n        data_tests: [unique]\n"
         "      - name: amount\n        data_tests: [is_positive]\n")
    select = ["--select", "fct_orders"]  # the model and its tests

    d, ran, _ = orc_build(p)
    [test] = ids_named(d, "is_positive_fct_orders_amount")
    assert ran.get(test) == "pass", ran

    d, ran, _ = orc_build(p, *select)
    assert_code(d, test, "reuse", "test_parents_reused")
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert test not in ran

    # The test's macro now fails every row; the model it tests is unchanged.
    edit(generic, "< 0", "< 1000")
    d, ran, r = orc_build(p, *select, ok=False)
    assert_code(d, test, "build", "macro_changed", IS_POSITIVE)
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert ran.get(test) == "fail", ran
    assert FCT_ORDERS not in ran
    assert p.decisions().get("not_run") == [], p.decisions().get("not_run")

    # Plain dbt agrees on the outcome and the exit code.
    plain = p.dbt("test", "--select", "fct_orders,test_name:is_positive")
    assert plain.returncode == r.returncode, (plain.describe(), r.describe())
    assert p.run_results() == {test: "fail"}


def test_generic_test_config_change_runs_the_test(project: Project):
    """A generic test's result-affecting config (here `where`) is fingerprinted: changing it
    runs the test although its parents are reused."""
    p = project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    marts_yml = add_status_test(p, "[placed, completed]", "where: \"status <> 'returned'\"")
    select = ["--select", "fct_orders"]
    d, ran, _ = orc_build(p)
    [test] = ids_named(d, "accepted_values_fct_orders_status")
    assert ran.get(test) == "pass", ran
    d, ran, _ = orc_build(p, *select)
    assert_code(d, test, "reuse", "test_parents_reused")

    # Only the test's filter changes: now the returned order is checked, and fails.
    edit(marts_yml, "status <> 'returned'", "status <> 'placed'")
    d, ran, _ = orc_build(p, *select, ok=False)
    # dbt writes a generic test's config into its raw code, so the fingerprint sees either.
    assert code(d, test) in {("build", "config_changed"), ("build", "code_changed")}, d[test]
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert ran.get(test) == "fail", ran
    assert FCT_ORDERS not in ran


# --- a run that builds nothing ------------------------------------------------------------

def test_nothing_built_leaves_only_reused_results_and_no_stale_warn(logic_project: Project):
    p = logic_project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    # Everything built, and the warn test (enabled by the var, no parents) warns.
    d, ran, _ = orc_build(p, *WARN_VARS)
    assert ran.get(WARN_TEST) == "warn", ran
    assert is_warn(p) == "WARNING"

    # Same vars, a selection whose every node is up to date: nothing is built, dbt is not
    # started for the run, and the previous run's warn must not be reported again.
    d, ran, r = orc_build(p, "--select", "fct_orders", *WARN_VARS)
    assert d and all(n["decision"] == "reuse" for n in d.values()), d
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert_code(d, UNIT_TEST, "reuse", "test_parents_reused")
    assert p.decisions()["run_command"] is None
    # run_results.json holds orc's reused results only (none is a warn): the earlier warn is
    # not reported again.
    doc = read_json(p.target_dir / "run_results.json")
    assert {r["unique_id"] for r in doc["results"]} == set(d), doc["results"]
    assert {r["status"] for r in doc["results"]} <= {"no-op", "reused"}, doc["results"]
    assert is_warn(p) == "SUCCEEDED"

    # dbt itself accepts the file as previous state.
    r = p.dbt("ls", "--select", "result:success", "--state", "target", "--resource-type",
              "model")
    assert r.returncode == 0, r.describe()


def test_a_warning_test_warns_again_on_the_next_run_as_in_plain_dbt(logic_project: Project):
    p = logic_project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    add_status_test(p, "[placed]", "severity: warn")
    d, ran, _ = orc_build(p)
    [test] = ids_named(d, "accepted_values_fct_orders_status")
    assert ran.get(test) == "warn", ran
    assert is_warn(p) == "WARNING"

    # Nothing changed: plain dbt would run the test again and warn again. A warn is not a
    # success, so orc records no state for it and runs it again; its model stays reused.
    d, ran, _ = orc_build(p)
    assert code(d, test)[0] == "build", d[test]
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert ran.get(test) == "warn", ran
    assert FCT_ORDERS not in ran
    assert is_warn(p) == "WARNING"


# --- nodes dbt did not run ----------------------------------------------------------------

def test_children_skipped_after_a_failure_are_listed_as_not_run(logic_project: Project):
    p = logic_project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    # fct_orders fails while ORC_FAIL_FCT_ORDERS is set (an env var only it reads).
    fail_model_on_env(p, "models/marts/fct_orders.sql", "ORC_FAIL_FCT_ORDERS")
    orc_build(p)
    before_state = p.read_state()["state"]

    d, ran, r = orc_build(p, env={"ORC_FAIL_FCT_ORDERS": "1"}, ok=False)
    assert_code(d, FCT_ORDERS, "build", "env_var_changed", "ORC_FAIL_FCT_ORDERS")
    assert_code(d, ORDERS_BY_STATUS, "build", "parent_built", FCT_ORDERS)
    assert ran.get(FCT_ORDERS) == "error" and ran.get(ORDERS_BY_STATUS) == "skipped", ran
    assert_code(d, STG_ORDERS, "reuse", "no_new_data")

    not_run = p.decisions().get("not_run")
    assert not_run is not None, p.decisions().keys()
    decided_build = {u for u, n in d.items() if n["decision"] == "build"}
    expected = {u for u in decided_build if ran.get(u) in (None, "skipped")}
    assert ORDERS_BY_STATUS in expected and FCT_ORDERS not in expected
    assert set(not_run) == expected, (sorted(not_run), sorted(expected))
    assert "did not run" in r.output and "not_run" in r.output, r.describe()
    # The skipped node's state entry is untouched.
    assert p.read_state()["state"][ORDERS_BY_STATUS] == before_state[ORDERS_BY_STATUS]

    # Failure switched off: fct_orders' recorded build (the first run's) is still what is in
    # the warehouse, so it and its skipped child are rightly reused; what was decided (the
    # snapshot) ran.
    d, ran, _ = orc_build(p)
    assert_code(d, FCT_ORDERS, "reuse", "no_new_data")
    assert_code(d, ORDERS_BY_STATUS, "reuse", "no_new_data")
    assert p.decisions().get("not_run") == []


UNIT_TEST_EXPECTED = '{order_id: 1, net_amount: "10.00"}'
UNIT_TEST_WRONG = '{order_id: 1, net_amount: "11.00"}'


def test_edited_unit_test_of_a_reused_model(logic_project: Project):
    """The tutorial's unit test on fct_orders gets wrong expected rows while fct_orders itself
    is unchanged. Plain `dbt build --select fct_orders` runs the unit test, which fails
    (exit 1). dbt drops a selected unit test whose model is not selected, so orc takes the
    model along (`unit_test_needs_model`): the unit test runs, fails, and orc exits like dbt."""
    p = logic_project
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    select = ["--select", "fct_orders"]
    orc_build(p)
    recorded = p.read_state()["state"][UNIT_TEST]
    edit(p.dir / "models" / "marts" / "marts.yml", '{order_id: 1, net_amount: "10.00"}',
         '{order_id: 1, net_amount: "11.00"}')

    before = p.tree_snapshot()
    r = p.orc("build", *select)
    assert_tree_unchanged(p, before)
    d, ran = decisions_by_id(p), p.run_results()
    # Decided again once the model is taken along: the unit test then follows its model.
    assert code(d, UNIT_TEST) in {("build", "code_changed"), ("build", "parent_built")}, d[UNIT_TEST]
    assert_code(d, FCT_ORDERS, "build", "unit_test_needs_model")
    assert d[FCT_ORDERS]["reason_subject"] == UNIT_TEST
    assert ran.get(UNIT_TEST) == "fail", ran
    assert p.read_state()["state"][UNIT_TEST] == recorded, "a failed unit test was recorded"

    plain = p.dbt("build", *select)
    assert plain.returncode == 1 and p.run_results()[UNIT_TEST] == "fail", plain.describe()
    assert r.returncode == plain.returncode, r.describe()
