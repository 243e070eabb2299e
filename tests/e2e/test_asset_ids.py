"""State keys in each configuration (plan/state_keys.h): with integration_account_id and
local_run off, keys are "{account}.{relation_name}" and other accounts' entries are ignored
on load; otherwise keys are bare unique_ids and nothing is filtered. Other accounts' entries
are kept by every run and every prune."""

from __future__ import annotations

import pytest

from helpers import Project, assert_tree_unchanged, read_json
from test_fingerprint import warehouse
from test_stateful_core import (ORDERS_BY_STATUS, STG_ORDERS, assert_ran_exactly,
                                decisions_by_id, reused, run_ok)

# The first part of a dbt unique_id (a bare state key).
RESOURCE_TYPES = {"model", "seed", "snapshot", "test", "unit_test", "function"}

FOREIGN = {"checksum": "x", "last_updated": "2024-01-01T00:00:00Z", "sources": {}}


def test_account_scoped_keys_and_filtering(project: Project):
    p = project
    p.write_config(use_stateful=True, state_file="state.json", integration_account_id="acct42",
                   local_run=False)
    p.write_state({"state": {"other.model.orc_tutorial.stg_orders": FOREIGN,
                             STG_ORDERS: FOREIGN}})
    before = p.tree_snapshot()
    run_ok(p, "build")
    d = decisions_by_id(p)
    # Neither the other account's entry nor an unscoped key counts for this account.
    assert d[STG_ORDERS]["reason_code"] == "no_state_entry"
    state = p.read_state()["state"]
    assert state["other.model.orc_tutorial.stg_orders"] == FOREIGN, "other accounts kept"
    assert state[STG_ORDERS] == FOREIGN
    ours = [k for k in state if k.startswith("acct42.")]
    assert any(k.endswith('"stg_orders"') for k in ours), sorted(state)
    # Tests have no relation: their key falls back to the unique_id.
    assert any(k.startswith("acct42.test.orc_tutorial.") for k in ours), sorted(state)

    run_ok(p, "build")
    assert decisions_by_id(p)[STG_ORDERS]["decision"] == "reuse"
    assert_tree_unchanged(p, before)


# --- one key policy (plan/state_keys.h) -----------------------------------------------------

ACCT = "acct42"
ENV_ACCOUNT = "ORCHESTRA_INTEGRATION_ACCOUNT_ID"
# Entries of another account: of live nodes and of a gone one, in both key shapes.
OTHER_ACCOUNT = {f"7.{STG_ORDERS}": FOREIGN, '7."db"."main"."stg_orders"': FOREIGN,
                 '7."db"."main"."deleted_long_ago"': FOREIGN}


def relation_names(p: Project) -> dict[str, str]:
    """{unique_id: relation_name} of the project's nodes that have one (target/manifest.json)."""
    manifest = read_json(p.target_dir / "manifest.json")
    return {u: n["relation_name"] for u, n in manifest["nodes"].items() if n.get("relation_name")}


def state_cmd(p: Project, *args, env: dict | None = None):
    r = p.orc_raw("state", *args, env=env)
    assert r.returncode == 0, r.describe()
    return r


def would_remove(r) -> list[str]:
    """The keys `orc state prune --dry-run` lists."""
    return [line.removeprefix("would remove ") for line in r.stdout.splitlines()
            if line.startswith("would remove ")]


def build_twice(p: Project, env: dict | None = None) -> tuple[dict, dict]:
    """Two `orc dbt build`s; the decisions of each, dbt having run exactly the built nodes."""
    out = []
    for _ in range(2):
        run_ok(p, "build", env=env)
        d = decisions_by_id(p)
        assert_ran_exactly(p, d)
        out.append(d)
    return out[0], out[1]


@pytest.mark.parametrize("where", ["pyproject", "env"])
def test_account_id_with_local_run_default_keys_by_unique_id_and_reuses(project: Project,
                                                                        where: str):
    """Bug: with integration_account_id set and local_run at its default, orc wrote bare
    unique_id keys but read only "<account>." keys, so every run rebuilt everything."""
    p = project
    env = None
    if where == "pyproject":
        p.write_config(use_stateful=True, state_file="state.json", integration_account_id=ACCT)
    else:
        env = {ENV_ACCOUNT: ACCT}
    p.write_state({"state": dict(OTHER_ACCOUNT)})
    before = p.tree_snapshot()
    first, second = build_twice(p, env)
    assert reused(first) == set()
    assert second[STG_ORDERS]["decision"] == "reuse", second[STG_ORDERS]
    assert second[STG_ORDERS]["reason_code"] == "no_new_data"
    assert second[ORDERS_BY_STATUS]["reason_code"] == "no_new_data"
    state = p.read_state()["state"]
    ours = set(state) - set(OTHER_ACCOUNT)
    assert STG_ORDERS in ours and not any(k.startswith(ACCT) for k in state), sorted(state)
    assert all(k.split(".")[0] in RESOURCE_TYPES for k in ours), sorted(ours)
    assert all(state[k] == v for k, v in OTHER_ACCOUNT.items()), "other accounts kept"
    # The warehouse holds what the first run built; the second left it as it was.
    assert warehouse(p, "select count(*) from orders_by_status")[0][0] > 0

    # The same counts as without the account id (the state keys are the same).
    p.write_config(use_stateful=True, state_file="state.json")
    run_ok(p, "build")
    third = decisions_by_id(p)
    assert {u: d["decision"] for u, d in third.items()} == \
        {u: d["decision"] for u, d in second.items()}
    assert len(reused(second)) == len(reused(third)) > 0

    # Nothing of a live project is stale; other accounts' entries are not this run's.
    assert would_remove(state_cmd(p, "prune", "--dry-run", env=env)) == []
    assert_tree_unchanged(p, before)


def test_scoped_keys_reuse_and_prune_only_what_is_gone(project: Project):
    """Bug: with account-scoped keys (local_run false), `orc state prune` listed every
    "<account>.<relation name>" entry as removable, and other accounts' entries too."""
    p = project
    p.write_config(use_stateful=True, state_file="state.json", integration_account_id=ACCT,
                   local_run=False)
    p.write_state({"state": dict(OTHER_ACCOUNT)})
    first, second = build_twice(p)
    assert reused(first) == set()
    assert second[STG_ORDERS]["reason_code"] == "no_new_data"
    assert second[ORDERS_BY_STATUS]["reason_code"] == "no_new_data"
    relations = relation_names(p)
    state = p.read_state()["state"]
    assert f"{ACCT}.{relations[STG_ORDERS]}" in state
    assert f"{ACCT}.{relations[ORDERS_BY_STATUS]}" in state
    assert not any(k.startswith("model.") for k in state), sorted(state)
    assert all(state[k] == v for k, v in OTHER_ACCOUNT.items()), "other accounts kept"

    # Every node is still in the project: nothing to prune.
    r = state_cmd(p, "prune", "--dry-run")
    assert would_remove(r) == [], r.stdout
    assert "would prune 0 entries" in r.stdout

    # orders_by_status leaves the project: exactly its entry goes, other accounts' stay.
    gone_key = f"{ACCT}.{relations[ORDERS_BY_STATUS]}"
    (p.dir / "models" / "marts" / "orders_by_status.sql").unlink()
    r = p.dbt("parse")
    assert r.returncode == 0, r.describe()
    assert would_remove(state_cmd(p, "prune", "--dry-run")) == [gone_key]
    state_cmd(p, "prune")
    after = p.read_state()["state"]
    assert set(after) == set(state) - {gone_key}
    assert all(after[k] == v for k, v in OTHER_ACCOUNT.items())

    # The next run still reuses what it recorded (the pruned model no longer exists).
    run_ok(p, "build")
    third = decisions_by_id(p)
    assert ORDERS_BY_STATUS not in third
    assert third[STG_ORDERS]["reason_code"] == "no_new_data"
    assert_ran_exactly(p, third)
    assert warehouse(p, "select count(*) from fct_orders")[0][0] > 0

    # `forget` by name: this account's relation-keyed entry only (before the fix the name
    # matched no scoped key, and did match another account's `7.model...stg_orders`).
    r = state_cmd(p, "forget", "stg_orders")
    assert f"remove {ACCT}.{relations[STG_ORDERS]}" in r.stdout, r.stdout
    after = p.read_state()["state"]
    assert f"{ACCT}.{relations[STG_ORDERS]}" not in after
    assert all(after[k] == v for k, v in OTHER_ACCOUNT.items()), "other accounts kept"
    run_ok(p, "build")
    assert decisions_by_id(p)[STG_ORDERS]["reason_code"] == "no_state_entry"

def test_environment_values_as_ci_templates_leave_them(project: Project):
    """Bug (found by the compatibility matrix, tests/compat): dbt-orchestra 1.5 reads a set but
    empty boolean variable as false and strips string variables, so ORCHESTRA_LOCAL_RUN="" with
    ORCHESTRA_INTEGRATION_ACCOUNT_ID="  acct42 " means account-scoped keys "acct42.<relation>".
    orc read the empty variable as unset (local_run true: bare unique_id keys) and kept the
    blanks in the account id, so a state shared with the reference was keyed differently."""
    p = project
    env = {"ORCHESTRA_LOCAL_RUN": "", ENV_ACCOUNT: f"  {ACCT} \n"}
    p.write_state({"state": dict(OTHER_ACCOUNT)})
    first, second = build_twice(p, env)
    assert reused(first) == set()
    assert second[STG_ORDERS]["reason_code"] == "no_new_data", second[STG_ORDERS]
    relations = relation_names(p)
    state = p.read_state()["state"]
    assert f"{ACCT}.{relations[STG_ORDERS]}" in state, sorted(state)
    assert not any(k.startswith(("model.", " ")) for k in state), sorted(state)
    assert all(state[k] == v for k, v in OTHER_ACCOUNT.items()), "other accounts kept"
    assert warehouse(p, "select count(*) from orders_by_status")[0][0] > 0

    # An empty ORCHESTRA_USE_STATEFUL turns stateful mode off (pyproject.toml says on): dbt
    # runs as given, and orc neither decides nor writes state.
    p.clear_target()
    r = run_ok(p, "build", "--select", "stg_orders", env={"ORCHESTRA_USE_STATEFUL": ""})
    assert not (p.target_dir / "orc_decisions.json").exists(), r.describe()
    assert set(p.run_results()) >= {STG_ORDERS}
    assert p.read_state()["state"] == state
