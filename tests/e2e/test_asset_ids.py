"""Account-scoped state keys (integration_account_id with local_run off): keys are
"{account}.{relation_name}", other accounts' entries are ignored on load and kept on save."""

from __future__ import annotations

from helpers import Project, assert_tree_unchanged
from test_stateful_core import STG_ORDERS, decisions_by_id, run_ok

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
