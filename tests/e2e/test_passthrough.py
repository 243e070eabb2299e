"""Passthrough: orc runs dbt with the arguments unchanged and returns dbt's exit code, for
subcommands other than build/run/test and for everything when use_stateful is false.
Each test runs the same command through orc and through plain dbt and compares them."""

from __future__ import annotations

import json
import re

import pytest

from helpers import Project, assert_tree_unchanged

# A dbt log line starts with a timestamp; strip it (and colour codes) to compare two runs.
_TS = re.compile(r"^(\x1b\[[0-9;]*m)*\d\d:\d\d:\d\d(\.\d+)?\s+")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TIMING = re.compile(r"\b(in|and) \d+(\.\d+)?s\b|\(\d+(\.\d+)?s\)|\d+ hours \d+ minutes and \d+(\.\d+)? seconds")


def normalized(text: str) -> list[str]:
    """Output lines without timestamps, colours and durations, for run-to-run comparison."""
    out = []
    for line in text.splitlines():
        line = _ANSI.sub("", _TS.sub("", line))
        out.append(_TIMING.sub("<t>", line).rstrip())
    return out


def by_name(results: dict[str, str]) -> dict[str, str]:
    """{node name: status}: unique_ids of generic tests end in a hash, names do not."""
    out = {}
    for uid, status in results.items():
        parts = uid.split(".")
        out[parts[2] if parts[0] == "test" else parts[-1]] = status
    return out


def done_line(text: str) -> str:
    """dbt's closing summary line (`Done. PASS=... TOTAL=...`)."""
    lines = [l for l in normalized(text) if l.startswith("Done.")]
    assert lines, "no 'Done.' summary line in:\n" + text[-3000:]
    return lines[-1]


def test_version_matches_dbt(project: Project):
    before = project.tree_snapshot()
    via_orc = project.orc("--version", target=False)
    plain = project.dbt("--version", target=False)
    assert via_orc.returncode == plain.returncode == 0, via_orc.describe()
    installed = [l for l in normalized(plain.stdout) if "installed:" in l]
    assert installed and "1." in installed[0], plain.describe()
    assert [l for l in normalized(via_orc.stdout) if "installed:" in l] == installed
    # Adapter plugin lines (" - duckdb: 1.x ...") come through too.
    plugins = [l.split(":")[0] for l in normalized(plain.stdout) if l.strip().startswith("- ")]
    assert [l.split(":")[0] for l in normalized(via_orc.stdout) if l.strip().startswith("- ")] == plugins
    assert_tree_unchanged(project, before)


def test_seed_matches_dbt(logic_project: Project):
    p = logic_project
    before = p.tree_snapshot()
    via_orc = p.orc("seed")
    assert via_orc.returncode == 0, via_orc.describe()
    orc_results = p.run_results()
    assert orc_results == {"seed.orc_tutorial.countries": "success",
                           "seed.orc_tutorial.payment_methods": "success"}
    # dbt 1.12 adds REUSED=0 before TOTAL; the line must match plain dbt's (below) either way.
    assert done_line(via_orc.stdout).startswith("Done. PASS=2 WARN=0 ERROR=0 SKIP=0 NO-OP=0 ")
    assert done_line(via_orc.stdout).endswith(" TOTAL=2")

    plain = p.dbt("seed")
    assert plain.returncode == 0, plain.describe()
    assert p.run_results() == orc_results
    assert done_line(plain.stdout) == done_line(via_orc.stdout)
    # seed is passed through even in stateful mode: no decision record, state untouched
    assert not (p.target_dir / "orc_decisions.json").exists()
    assert p.read_state() == {"state": {}}
    assert_tree_unchanged(p, before)


def test_ls_matches_dbt(logic_project: Project):
    p = logic_project
    before = p.tree_snapshot()
    args = ["ls", "--quiet", "--resource-type", "model", "--output", "name"]
    via_orc = p.orc(*args)
    plain = p.dbt(*args)
    assert via_orc.returncode == plain.returncode == 0, via_orc.describe()
    assert via_orc.stdout == plain.stdout
    names = via_orc.stdout.split()
    assert {"stg_orders", "int_payments", "fct_payments", "extras_calendar",
            "extras_order_counts"} <= set(names)

    # JSON output with a selection whose value holds several names and odd spacing.
    args = ["ls", "-q", "--select", "stg_orders   fct_payments", "--resource-type", "model",
            "--output", "json", "--output-keys", "unique_id"]
    via_orc, plain = p.orc(*args), p.dbt(*args)
    assert via_orc.returncode == plain.returncode == 0, via_orc.describe()
    ids = sorted(json.loads(l)["unique_id"] for l in via_orc.stdout.splitlines() if l.startswith("{"))
    assert ids == ["model.orc_tutorial.fct_payments", "model.orc_tutorial.stg_orders"]
    assert via_orc.stdout == plain.stdout
    assert_tree_unchanged(p, before)


def _all_success(results: dict[str, str]) -> bool:
    return bool(results) and all(s in ("success", "pass") for s in results.values())


def test_build_passthrough_when_not_stateful(any_project: Project):
    p = any_project
    p.write_config(use_stateful=False, state_file="state.json")
    state_before = p.state_file.read_bytes()
    before = p.tree_snapshot()

    via_orc = p.orc("build")
    assert via_orc.returncode == 0, via_orc.describe()
    orc_results = p.run_results()
    assert _all_success(orc_results), orc_results
    # every kind of node of the tutorial ran (the ephemeral model never appears)
    kinds = {uid.split(".")[0] for uid in orc_results}
    assert kinds == {"seed", "model", "snapshot", "test", "unit_test"}, sorted(orc_results)
    assert "snapshot.orc_tutorial.customers_snapshot" in orc_results
    assert "model.orc_tutorial_extras.extras_order_counts" in orc_results
    assert "model.orc_tutorial.int_payments" not in orc_results
    assert not (p.target_dir / "orc_decisions.json").exists()
    assert p.state_file.read_bytes() == state_before

    plain = p.dbt("build")
    assert plain.returncode == 0, plain.describe()
    assert p.run_results() == orc_results
    assert done_line(plain.stdout) == done_line(via_orc.stdout)
    assert_tree_unchanged(p, before)


def test_env_override_turns_stateful_off(project: Project):
    """pyproject says use_stateful = true; ORCHESTRA_USE_STATEFUL=false wins → passthrough."""
    state_before = project.state_file.read_bytes()
    before = project.tree_snapshot()
    r = project.orc("build", "--select", "stg_orders", env={"ORCHESTRA_USE_STATEFUL": "false"})
    assert r.returncode == 0, r.describe()
    assert by_name(project.run_results()) == {
        "stg_orders": "success",
        "unique_stg_orders_order_id": "pass",
        "not_null_stg_orders_order_id": "pass",
        "accepted_values_stg_orders_status__placed__completed__returned": "pass",
    }
    assert not (project.target_dir / "orc_decisions.json").exists()
    assert project.state_file.read_bytes() == state_before
    assert_tree_unchanged(project, before)


def test_failing_build_returns_dbt_exit_code(logic_project: Project):
    p = logic_project
    p.write_config(use_stateful=False)
    before = p.tree_snapshot()
    args = ["build", "--vars", "{orc_fail: [fct_orders]}"]
    via_orc = p.orc(*args)
    assert via_orc.returncode == 1, via_orc.describe()
    assert "fct_orders fails on request" in via_orc.stdout
    results = p.run_results()
    assert results["model.orc_tutorial.fct_orders"] == "error"
    assert results["model.orc_tutorial.daily_revenue"] == "skipped"
    assert results["model.orc_tutorial.fct_payments"] == "success"

    plain = p.dbt(*args)
    assert plain.returncode == 1
    assert p.run_results() == results
    assert done_line(plain.stdout) == done_line(via_orc.stdout)
    assert_tree_unchanged(p, before)


@pytest.mark.parametrize("args, expected_code, message", [
    (["seed", "--target", "nonexistent"], 2, "does not have a target named 'nonexistent'"),
    (["seed", "--no-such-flag"], 2, "No such option"),
    (["build", "--target", "nonexistent"], 2, "does not have a target named 'nonexistent'"),
])
def test_dbt_errors_return_dbt_exit_code(project: Project, args, expected_code, message):
    project.write_config(use_stateful=False)
    before = project.tree_snapshot()
    via_orc = project.orc(*args, target=False)
    plain = project.dbt(*args, target=False)
    assert plain.returncode == expected_code, plain.describe()
    assert via_orc.returncode == expected_code, via_orc.describe()
    assert message in via_orc.output
    assert_tree_unchanged(project, before)


# Characters a shell would interpret, spaces that word splitting would break, quotes.
TRICKY = 'hello  world "quoted" \'single\' $HOME `echo x` ; | & * \\ tab:\t ünï'


def test_arguments_with_spaces_and_quotes_survive(logic_project: Project):
    p = logic_project
    before = p.tree_snapshot()
    args_json = json.dumps({"msg": TRICKY})
    vars_yaml = "{msg: '" + TRICKY.replace("'", "''") + " (var)'}"
    argv = ["run-operation", "echo", "--args", args_json, "--vars", vars_yaml]
    via_orc = p.orc(*argv)
    plain = p.dbt(*argv)
    assert plain.returncode == 0, plain.describe()
    assert via_orc.returncode == 0, via_orc.describe()
    for r in (plain, via_orc):
        assert f"echo arg: [{TRICKY}]" in r.stdout, r.describe()
        assert f"echo var: [{TRICKY} (var)]" in r.stdout, r.describe()
    assert_tree_unchanged(p, before)


def test_stateful_off_run_and_test_pass_through(project: Project):
    """run and test are the stateful subcommands; with use_stateful = false they pass through."""
    project.write_config(use_stateful=False)
    before = project.tree_snapshot()
    r = project.orc("run", "--select", "stg_customers", "extras_calendar")
    assert r.returncode == 0, r.describe()
    assert project.run_results() == {"model.orc_tutorial.stg_customers": "success",
                                     "model.orc_tutorial_extras.extras_calendar": "success"}
    r = project.orc("test", "--select", "stg_customers")
    assert r.returncode == 0, r.describe()
    assert by_name(project.run_results()) == {
        "unique_stg_customers_customer_id": "pass",
        "not_null_stg_customers_customer_id": "pass",
    }
    assert not (project.target_dir / "orc_decisions.json").exists()
    assert_tree_unchanged(project, before)


def test_source_freshness_passes_through(logic_project: Project):
    p = logic_project
    before = p.tree_snapshot()
    via_orc = p.orc("source", "freshness")
    assert via_orc.returncode == 0, via_orc.describe()
    got = {k: v["status"] for k, v in p.sources_json().items()}
    assert got == {"source.orc_tutorial.shop.orders": "pass",
                   "source.orc_tutorial.shop.payments": "pass",
                   "source.orc_tutorial_extras.extras_shop.orders": "pass"}
    plain = p.dbt("source", "freshness")
    assert plain.returncode == 0
    assert {k: v["status"] for k, v in p.sources_json().items()} == got
    assert_tree_unchanged(p, before)


def test_passthrough_with_project_dir_from_the_workspace(project: Project):
    """cwd is the workspace (where pyproject.toml lives), the project given by --project-dir."""
    project.write_config(use_stateful=False)
    before = project.tree_snapshot()
    r = project.orc("ls", "-q", "--project-dir", str(project.dir), "--select", "stg_orders",
                    "--resource-type", "model", "--output", "name", cwd=project.workspace)
    assert r.returncode == 0, r.describe()
    assert r.stdout.split() == ["stg_orders"], r.describe()
    assert_tree_unchanged(project, before)
