"""Where orc must be right and the reference is wrong (issue "correctness"): failed runs,
ephemeral models, interrupted runs, placeholder (--empty) runs."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from helpers import LOGIC_TARGETS, assert_tree_unchanged, dbt_invocations, fail_model_on_env
from test_stateful_core import (FCT_ORDERS, FCT_PAYMENTS, ORDERS_BY_STATUS, P,
                                PAYMENTS_BY_METHOD, STG_ORDERS, assert_ran_exactly,
                                decisions_by_id, run_ok)

SLOW = f"model.{P}.slow_when_requested"


@pytest.mark.parametrize("target", LOGIC_TARGETS)
def test_child_that_failed_is_rebuilt_without_new_data(make_project, target):
    p = make_project(target)
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    # fct_orders fails while ORC_FAIL_FCT_ORDERS is set: an environment variable only it reads,
    # so the failure can be switched off without changing what its parents read.
    fail_model_on_env(p, "models/marts/fct_orders.sql", "ORC_FAIL_FCT_ORDERS")
    before = p.tree_snapshot()
    run_ok(p, "build")
    # New orders arrive; stg_orders succeeds but fct_orders fails.
    p.add_source_rows("orders")
    r = p.orc("build", env={"ORC_FAIL_FCT_ORDERS": "1"})
    assert r.returncode != 0, r.describe()
    results = p.run_results()
    assert results[STG_ORDERS] == "success" and results[FCT_ORDERS] == "error"
    state = p.read_state()["state"]
    stg_version = state[STG_ORDERS]["last_updated"]
    assert state[FCT_ORDERS]["parents"][STG_ORDERS] != stg_version, "fct_orders kept its old entry"

    # No new data, failure removed: the stale child is built (the reference would reuse it).
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[STG_ORDERS]["decision"] == "reuse"
    assert d[FCT_ORDERS]["decision"] == "build"
    assert (d[FCT_ORDERS]["reason_code"], d[FCT_ORDERS]["reason_subject"]) == \
        ("parent_rebuilt", STG_ORDERS), d[FCT_ORDERS]
    assert d[ORDERS_BY_STATUS]["decision"] == "build"
    assert p.run_results()[FCT_ORDERS] == "success"
    assert p.read_state()["state"][FCT_ORDERS]["parents"][STG_ORDERS] == stg_version
    assert_ran_exactly(p, d)

    # And once caught up, it is reused again.
    run_ok(p, "build")
    assert decisions_by_id(p)[FCT_ORDERS]["decision"] == "reuse"
    assert_tree_unchanged(p, before)


def test_ephemeral_children_reused_and_rebuilt_on_ephemeral_edit(make_project):
    p = make_project("duckdb")
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    run_ok(p, "build")
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert f"model.{P}.int_payments" not in d, "ephemerals are folded, never decided"
    assert d[FCT_PAYMENTS]["decision"] == "reuse", d[FCT_PAYMENTS]
    assert f"source.{P}.shop.payments" in d[FCT_PAYMENTS]["inputs"]["sources"]

    eph = p.dir / "models" / "intermediate" / "int_payments.sql"
    eph.write_text(eph.read_text() + "\n{{ '-- edited' }}\n")  # code, not a comment
    before = p.tree_snapshot()
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[FCT_PAYMENTS]["decision"] == "build"
    assert (d[FCT_PAYMENTS]["reason_code"], d[FCT_PAYMENTS]["reason_subject"]) == \
        ("code_changed", FCT_PAYMENTS), d[FCT_PAYMENTS]
    assert d[PAYMENTS_BY_METHOD]["decision"] == "build"
    assert d[STG_ORDERS]["decision"] == "reuse"
    assert_ran_exactly(p, d)
    assert_tree_unchanged(p, before)


def test_empty_run_builds_everything_and_drops_the_emptied_entries(make_project):
    p = make_project("duckdb")
    run_ok(p, "build")
    run_ok(p, "build")  # everything that can be reused now is
    before = p.read_state()["state"]
    assert STG_ORDERS in before
    r = run_ok(p, "build", "--empty")
    assert "placeholder data" in r.stdout
    d = decisions_by_id(p)
    assert {n["decision"] for n in d.values()} == {"build"}, "no reuse under --empty"
    assert {n["reason_code"] for n in d.values()} == {"empty_run"}
    assert p.run_results()[STG_ORDERS] == "success"
    after = p.read_state()["state"]
    assert STG_ORDERS not in after and FCT_ORDERS not in after, "emptied entries dropped"
    # The next real run builds the emptied relations again (nothing claims they hold data).
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[FCT_ORDERS]["decision"] == "build", d[FCT_ORDERS]
    assert d[FCT_ORDERS]["reason_code"] == "no_state_entry", d[FCT_ORDERS]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_records_what_finished_and_leaves_project_intact(make_project, sig):
    p = make_project("duckdb")
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    run_ok(p, "build")
    p.add_source_rows("orders")
    before = p.tree_snapshot()
    state_before = p.read_state()["state"]
    argv = [str(p.orc_bin), "dbt", "build", "--threads", "1",
            "--vars", json.dumps({"orc_slow_rows": 30_000_000_000})]
    # A test runner started in the background inherits SIGINT ignored (orc keeps that, as
    # dbt itself would); this test is about a job scheduler's signal, so start from default.
    proc = subprocess.Popen(argv, cwd=p.dir, env=p.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    deadline = time.time() + 300
    for line in proc.stdout:
        lines.append(line)
        if "START sql table model main.slow_when_requested" in line:
            break
        assert time.time() < deadline, "".join(lines)
    time.sleep(1.0)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    output = "".join(lines) + out
    assert proc.returncode != 0, output

    results = p.run_results()
    assert results.get(SLOW) != "success", output
    state = p.read_state()["state"]
    assert state[SLOW] == state_before[SLOW], "the interrupted node is not recorded"
    if sig == signal.SIGINT:
        # dbt handles SIGINT: it cancels and writes the results of what finished, which orc
        # records.
        assert results.get(STG_ORDERS) == "success", output
        assert state[STG_ORDERS]["last_updated"] != state_before[STG_ORDERS]["last_updated"]
    else:
        # Python dies on SIGTERM without writing results: nothing may be recorded from the
        # previous command's run_results.json.
        assert "dbt wrote no run results for this invocation" in output, output
        assert state == state_before
    assert_tree_unchanged(p, before)

    # The next run picks up the interrupted node.
    run_ok(p, "build")
    d = decisions_by_id(p)
    assert d[SLOW]["decision"] == "build", d[SLOW]


def test_failing_freshness_query_is_isolated_to_its_source(make_project):
    p = make_project("duckdb")
    p.write_config(use_stateful=True, state_file="state.json", seed_state_orchestration=True)
    run_ok(p, "build")
    # A loaded_at_field that does not exist: the combined query fails, orc splits it.
    sources_yml = p.dir / "models" / "staging" / "sources.yml"
    text = sources_yml.read_text()
    marker = "      - name: customers\n        config:\n          loaded_at_field: loaded_at"
    assert marker in text
    sources_yml.write_text(text.replace(
        marker, "      - name: customers\n        config:\n          loaded_at_field: no_such_column"))
    before = p.tree_snapshot()
    r = run_ok(p, "build")
    d = decisions_by_id(p)
    stg_customers = f"model.{P}.stg_customers"
    assert d[stg_customers]["reason_code"] == "source_freshness_unknown", d[stg_customers]
    assert d[stg_customers]["decision"] == "build"
    assert d[STG_ORDERS]["decision"] == "reuse", "the other sources' freshness is still known"
    assert d[FCT_PAYMENTS]["decision"] == "reuse"
    shows = [c for c in dbt_invocations(p.decisions()) if c == "show"]
    assert len(shows) > 1, p.decisions()["dbt_processes"]
    # Isolating the failing query costs invocations inside the one dbt process, not processes.
    assert [pr["mode"] for pr in p.decisions()["dbt_processes"]] == ["driver"], \
        p.decisions()["dbt_processes"]
    assert f"freshness of source.{P}.shop.customers could not be read" in r.stderr
    assert_tree_unchanged(p, before)
