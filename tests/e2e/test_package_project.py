"""A project in the shape of Fivetran's packages (tests/e2e/projects/shape_pkg): the package's own
dbt_project.yml vars, a dispatched macro overridden by the root project, seeds that are the
source's tables. orc runs it step by step beside a plain-`dbt build` twin on DuckDB, and after
every step every relation of the two warehouses must hold the same rows (issue #31).

What each step asserts besides that:
- a package upgrade that changes only the package's own var default rebuilds exactly the model
  that reads it (var_changed, naming the package) — it was reused, and stale, before;
- a comment or an unrelated key in the root dbt_project.yml, and an --vars key no node reads,
  rebuild no model;
- a seed that is a source's table: editing it builds the source's readers in the same run;
- --empty builds every selected node with no rows and the next run builds them again.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import FULL_ONLY, slow, REPO, base_env, read_json, run_dbt, run_orc

SOURCE = REPO / "tests" / "e2e" / "projects" / "shape_pkg"
PKG = "shape_pkg"
INT = "model.shape_pkg.int_shape__field_latest"
STG_ISSUE = "model.shape_pkg.stg_shape__issue"
STG_HISTORY = "model.shape_pkg.stg_shape__field_history"
ENHANCED = "model.shape_pkg.shape__issue_enhanced"
TEAMS = "model.shape_pkg.shape__team_counts"
MODELS = {INT, STG_ISSUE, STG_HISTORY, ENHANCED, TEAMS}


class Twin:
    """One copy of the package with its integration tests, a DuckDB file and (for orc) a
    pyproject.toml with stateful mode on."""

    def __init__(self, root: Path, dbt_bin: Path, orc_bin: Path, stateful: bool):
        self.root = root
        self.pkg = root / PKG
        shutil.copytree(SOURCE, self.pkg)
        self.dir = self.pkg / "integration_tests"
        self.env = base_env() | {"DBT_PROFILES_DIR": str(self.dir),
                                 "ORC_DUCKDB_PATH": str(root / "warehouse.duckdb")}
        self.dbt_bin, self.orc_bin = dbt_bin, orc_bin
        if stateful:
            (root / "pyproject.toml").write_text(
                '[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = "state.json"\n')
            (root / "state.json").write_text('{"state": {}}')
        # As Fivetran's integration tests do: the seeds first (dbt would create the staging
        # views over the not yet loaded source tables otherwise).
        for args in (["deps"], ["seed"]):
            r = run_dbt(args, self.dir, self.env, dbt_bin)
            assert r.returncode == 0, r.describe()

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.pkg / relative
        text = path.read_text()
        assert text.count(old) == 1, (relative, old)
        path.write_text(text.replace(old, new))

    def relations(self) -> dict[str, list[tuple]]:
        import duckdb

        con = duckdb.connect(str(self.root / "warehouse.duckdb"), read_only=True)
        try:
            names = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()]
            return {n: sorted(map(repr, con.execute(f'select * from main."{n}"').fetchall()))
                    for n in sorted(names)}
        finally:
            con.close()


@pytest.fixture
def twins(tmp_path, dbt_bin, orc_bin):
    return (Twin(tmp_path / "orc", dbt_bin, orc_bin, stateful=True),
            Twin(tmp_path / "plain", dbt_bin, orc_bin, stateful=False))


def step(twins, *args: str) -> dict[str, dict]:
    """`orc dbt build <args>` on one twin, `dbt build <args>` on the other; both succeed and
    every relation holds the same rows. Returns orc's decisions by unique_id."""
    orc, plain = twins
    r = run_orc(["dbt", "build", *args], orc.dir, orc.env, orc.orc_bin)
    assert r.returncode == 0, r.describe()
    p = run_dbt(["build", *args], plain.dir, plain.env, plain.dbt_bin)
    assert p.returncode == 0, p.describe()
    assert orc.relations() == plain.relations(), f"orc and plain dbt differ after build {args}"
    data = read_json(orc.dir / "target" / "orc_decisions.json")
    return {n["unique_id"]: n for n in data["nodes"]}


def codes(decisions: dict[str, dict], uids) -> dict[str, tuple[str, str]]:
    return {u: (decisions[u]["decision"], decisions[u].get("reason_code")) for u in uids}


def built_models(decisions: dict[str, dict]) -> set[str]:
    return {u for u in MODELS if decisions[u]["decision"] == "build"}


def settle(twins) -> None:
    """The first builds: the first one cannot know what the seeds held before it reloaded
    them, so the source readers' entries record the sources from the second one."""
    step(twins)
    step(twins)


# `make test-full` only (about 3.5 minutes of CI): `make test` covers package vars, upgrades
# and the seed a source reads with the real-world differential subset.
@FULL_ONLY
@slow(200)
def test_package_project_step_by_step_matches_plain_dbt(twins):
    orc, plain = twins
    settle(twins)
    d = step(twins)
    assert built_models(d) == set(), codes(d, MODELS)

    # A package upgrade that changes only a var default in the package's own dbt_project.yml.
    for t in twins:
        t.edit("dbt_project.yml", "shape_field_grain: field_name", "shape_field_grain: issue_id")
    d = step(twins)
    assert codes(d, [INT]) == {INT: ("build", "var_changed")}
    assert d[INT]["reason_subject"] == "shape_field_grain"
    assert PKG in d[INT].get("reason_detail", ""), d[INT]
    assert built_models(d) == {INT, ENHANCED}, codes(d, MODELS)

    # Project files edited without changing a value anyone reads, and an --vars key no node
    # reads: nothing to build.
    for t in twins:
        t.edit("integration_tests/dbt_project.yml", "flags:",
               "# a comment\nquery-comment: orc-test\nflags:")
    d = step(twins, "--vars", "{unread_var: 1}")
    assert built_models(d) == set(), codes(d, MODELS)

    # The value a package model reads, set by --vars to what the package already says, and
    # then no longer: the same value, so nothing to build (the binary before this change
    # hashed --vars as dbt rendered them and built INT with var_changed twice).
    d = step(twins, "--vars", "{shape_field_grain: issue_id}")
    assert built_models(d) == set(), codes(d, MODELS)
    d = step(twins)
    assert built_models(d) == set(), codes(d, MODELS)

    # A seed that is a source's table: its readers are built in the run that reloads it.
    for t in twins:
        with open(t.dir / "seeds" / "issue.csv", "a") as f:
            f.write("4,Open,team-c,2020-11-30 09:00:00\n")
    d = step(twins)
    assert codes(d, [STG_ISSUE]) == {STG_ISSUE: ("build", "source_relation_built")}
    assert {ENHANCED, TEAMS} <= built_models(d)
    assert STG_HISTORY not in built_models(d), "its source's seed did not change"
    step(twins)  # the source is measured again after the seed's build (its readers built once more)

    # --empty: every selected node built with no rows, and the next run builds them again.
    d = step(twins, "--empty")
    assert all(n["decision"] == "build" and n["reason_code"] == "empty_run"
               for n in d.values()), d
    assert orc.relations()["shape__team_counts"] == []
    d = step(twins)
    assert built_models(d) == MODELS, codes(d, MODELS)
    assert orc.relations()["shape__team_counts"] != []


@slow(60)
def test_root_override_of_a_dispatched_package_macro_rebuilds_its_readers(twins):
    """dbt's depends_on names only the package's own implementations of a dispatched macro;
    the root project's `duckdb__clean_status` is what dbt runs. Editing, removing and adding
    it again rebuild the model that calls `clean_status` (the binary before reused it, stale:
    found by the real-world differential campaign, seed 8001)."""
    settle(twins)
    override = "integration_tests/macros/duckdb__clean_status.sql"
    for t in twins:
        t.edit(override, "lower(trim({{ column }}))", "lower(trim({{ column }})) || '!'")
    d = step(twins)
    assert codes(d, [STG_ISSUE]) == {STG_ISSUE: ("build", "macro_changed")}
    assert d[STG_ISSUE]["reason_subject"] == "macro.shape_integration_tests.duckdb__clean_status"
    assert built_models(d) == {STG_ISSUE, ENHANCED, TEAMS}, codes(d, MODELS)
    saved = (twins[0].pkg / override).read_text()
    for t in twins:  # removed: the package's default__clean_status runs again
        (t.pkg / override).unlink()
    d = step(twins)
    assert codes(d, [STG_ISSUE]) == {STG_ISSUE: ("build", "macro_changed")}
    for t in twins:  # added back
        (t.pkg / override).write_text(saved)
    d = step(twins)
    assert codes(d, [STG_ISSUE]) == {STG_ISSUE: ("build", "macro_changed")}
    d = step(twins)
    assert built_models(d) == set(), codes(d, MODELS)
