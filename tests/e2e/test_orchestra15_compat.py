"""Compatibility with dbt-orchestra 1.5.0 (issue "Install it like any dbt tool", item 4):

- the state file is shared both ways with the real dbt-orchestra 1.5.0 from PyPI, run from a
  venv of its own (.venv-orchestra15, made by scripts/install_deps.sh with
  requirements-orchestra15.txt): it reads what orc wrote and reuses from it, and orc reads
  what it wrote (entries without orc's fingerprint are rebuilt once, then reused);
- [tool.orchestra_dbt] is found from the dbt project directory (--project-dir,
  DBT_PROJECT_DIR) before the working directory;
- `-f` and DBT_FULL_REFRESH are full refreshes, as `--full-refresh` is.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from helpers import slow, REPO, Project, assert_tree_unchanged, run_process
from test_stateful_core import STG_ORDERS, decisions_by_id

REFERENCE_VENV = Path(os.environ.get("ORC_REFERENCE_VENV") or REPO / ".venv-orchestra15")


def reference(p: Project, *args):
    """The real dbt-orchestra 1.5.0: `orc dbt <args>` with its own venv (and dbt) on PATH."""
    binary = REFERENCE_VENV / "bin" / "orc"
    if not binary.exists():
        if os.environ.get("CI"):
            pytest.fail(f"dbt-orchestra 1.5.0 is not installed at {REFERENCE_VENV}", pytrace=False)
        pytest.skip(f"dbt-orchestra 1.5.0 not installed ({REFERENCE_VENV}): run VENV="
                    ".venv-orchestra15 REQUIREMENTS=requirements-orchestra15.txt "
                    "bash scripts/install_deps.sh")
    env = p._env({"PATH": f"{REFERENCE_VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"})
    return run_process([binary, "dbt", *args], p.dir, env)


def entry_count(p: Project) -> int:
    return len(p.read_state()["state"])


@slow(85)
def test_state_is_shared_both_ways_with_dbt_orchestra_15(project: Project):
    p = project
    p.write_config(use_stateful=True, state_file="state.json")

    # orc writes the state; the reference reads every entry and reuses from it.
    r = p.orc("build")
    assert r.returncode == 0, r.describe()
    written_by_orc = entry_count(p)
    before = p.tree_snapshot()
    r = reference(p, "build")
    assert r.returncode == 0, r.describe()
    assert_tree_unchanged(p, before)
    assert f"Retrieved {written_by_orc} items" in r.output, r.describe()
    # It reused a staging model because the source time orc recorded is still current.
    assert re.search(rf"REUSED {re.escape(STG_ORDERS)} - Source \S+ has no new data", r.output), \
        r.describe()

    # orc reads what the reference wrote back: nothing is missing, and entries without orc's
    # fingerprint are rebuilt once ...
    r = p.orc("build")
    assert r.returncode == 0, r.describe()
    d = decisions_by_id(p)
    codes = {n.get("reason_code") for n in d.values()}
    assert "no_state_entry" not in codes, d
    assert d[STG_ORDERS]["reason_code"] == "fingerprint_unrecorded", d[STG_ORDERS]
    # ... and then reused.
    r = p.orc("build")
    assert r.returncode == 0, r.describe()
    d = decisions_by_id(p)
    assert d[STG_ORDERS]["decision"] == "reuse", d[STG_ORDERS]

    # The reference reads orc's file once more, after orc rewrote it.
    r = reference(p, "build")
    assert r.returncode == 0, r.describe()
    assert f"Retrieved {entry_count(p)} items" in r.output, r.describe()


def test_configuration_is_found_from_the_project_directory(project: Project):
    p = project
    # The job runs from a directory of its own whose pyproject turns state off; the
    # project's (in the workspace above the project) turns it on and names the state file.
    jobs = p.workspace / "jobs"
    jobs.mkdir()
    (jobs / "pyproject.toml").write_text("[tool.orchestra_dbt]\nuse_stateful = false\n")
    p.write_config(use_stateful=True, state_file="state.json")
    for how, args, env in (("--project-dir", ["--project-dir", str(p.dir)], {}),
                           ("DBT_PROJECT_DIR", [], {"DBT_PROJECT_DIR": str(p.dir)})):
        (p.dir / "target" / "orc_decisions.json").unlink(missing_ok=True)
        r = p.orc("build", "--select", "stg_orders", *args, cwd=jobs, env=env)
        assert r.returncode == 0, r.describe()
        assert (p.dir / "target" / "orc_decisions.json").exists(), (how, r.describe())
        assert STG_ORDERS in p.read_state()["state"], how



@pytest.mark.parametrize("how", ["-f", "DBT_FULL_REFRESH"])
def test_short_flag_and_env_var_are_full_refreshes(project: Project, how: str):
    p = project
    p.write_config(use_stateful=True, state_file="state.json")
    r = p.orc("build")
    assert r.returncode == 0, r.describe()
    args, env = (["-f"], {}) if how == "-f" else ([], {"DBT_FULL_REFRESH": "True"})
    r = p.orc("build", *args, env=env)
    assert r.returncode == 0, r.describe()
    d = decisions_by_id(p)
    assert d[STG_ORDERS]["reason_code"] == "full_refresh", d[STG_ORDERS]
    assert all(n["decision"] == "build" for n in d.values()), d
