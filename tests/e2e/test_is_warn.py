"""`orc dbt orchestra is_warn`: WARNING when target/run_results.json holds a `warn` result,
SUCCEEDED otherwise, including when the file is missing or unreadable."""

from __future__ import annotations

import json

import pytest

from helpers import Project, assert_tree_unchanged


def is_warn(project: Project) -> str:
    r = project.orc("orchestra", "is_warn", target=False)
    assert r.returncode == 0, r.describe()
    words = r.stdout.split()
    assert ("WARNING" in words) != ("SUCCEEDED" in words), r.describe()
    return "WARNING" if "WARNING" in words else "SUCCEEDED"


def write_run_results(project: Project, text: str) -> None:
    project.target_dir.mkdir(exist_ok=True)
    (project.target_dir / "run_results.json").write_text(text, encoding="utf-8")


def results_doc(*statuses: str) -> str:
    return json.dumps({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"},
        "results": [{"unique_id": f"model.p.m{i}", "status": s} for i, s in enumerate(statuses)],
        "elapsed_time": 1.0,
    })


def test_warn_from_a_real_dbt_run(project: Project):
    before = project.tree_snapshot()
    r = project.dbt("test", "--select", "warn_when_requested", "--vars", "{orc_warn_test: true}")
    assert r.returncode == 0, r.describe()
    assert project.run_results() == {"test.orc_tutorial.warn_when_requested": "warn"}
    assert is_warn(project) == "WARNING"
    # the same through orc's passthrough of `dbt test` with stateful mode off
    project.write_config(use_stateful=False)
    project.clear_target()
    r = project.orc("test", "--select", "warn_when_requested", "--vars", "{orc_warn_test: true}")
    assert r.returncode == 0, r.describe()
    assert is_warn(project) == "WARNING"
    assert_tree_unchanged(project, before)


def test_succeeded_after_a_clean_real_run(project: Project):
    r = project.dbt("seed")
    assert r.returncode == 0, r.describe()
    assert set(project.run_results().values()) == {"success"}
    assert is_warn(project) == "SUCCEEDED"


def test_succeeded_after_a_failed_real_run(project: Project):
    """An error is not a warning."""
    r = project.dbt("build", "--select", "stg_orders+", "--vars", "{orc_fail: [fct_orders]}")
    assert r.returncode == 1
    assert "error" in project.run_results().values()
    assert is_warn(project) == "SUCCEEDED"


def test_succeeded_when_run_results_missing(project: Project):
    assert not (project.target_dir / "run_results.json").exists()
    assert is_warn(project) == "SUCCEEDED"


@pytest.mark.parametrize("content", [
    "",
    "{not json",
    "[]",
    '{"results": "nope"}',
    '{"results": [{"status": 5}]}',
    "\x00\x01\x02",
], ids=["empty", "truncated", "array", "results-not-list", "status-not-string", "binary"])
def test_succeeded_when_run_results_unreadable(project: Project, content: str):
    write_run_results(project, content)
    assert is_warn(project) == "SUCCEEDED"


@pytest.mark.parametrize("statuses, expected", [
    (("success", "pass", "warn"), "WARNING"),
    (("warn",), "WARNING"),
    (("success", "pass", "skipped"), "SUCCEEDED"),
    (("error", "fail"), "SUCCEEDED"),
    ((), "SUCCEEDED"),
])
def test_statuses(project: Project, statuses, expected):
    write_run_results(project, results_doc(*statuses))
    assert is_warn(project) == expected


def test_unknown_orchestra_command_is_an_error(project: Project):
    r = project.orc("orchestra", "no_such_thing", target=False)
    assert r.returncode != 0, r.describe()
    assert "no_such_thing" in r.output
