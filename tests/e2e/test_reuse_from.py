"""CI and dev targets reuse production's work (issue 34): `orc dbt build --target ci
--reuse-from <prod>` clones what production built where a build here would give the same
relation, builds the rest, and leaves a CI schema in which every relation holds what a
from-scratch `dbt build --target ci` gives.

The tutorial plays both branches in one warehouse: `project/` is production (its default
target, schema main on DuckDB or the test's schema on PostgreSQL) and `ci_project/` a branch
copy built with target `ci` (schema `<prod schema>_ci`). Both read the same raw tables
(ORC_RAW_SCHEMA) and share the state file. After each CI run, plain dbt builds the branch
from scratch into `<prod schema>_truth`, and every relation of the CI schema is compared
with its twin there, row by row (dbt's snapshot columns left out: they hold build times).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import (FULL_ONLY, slow, Project, copy_prepared_project, project_tree_snapshot,
                     run_dbt, run_orc, tree_diff)
from test_fingerprint import warehouse

P = "orc_tutorial"
STG_ORDERS = f"model.{P}.stg_orders"
FCT_ORDERS = f"model.{P}.fct_orders"
DIM_CUSTOMERS = f"model.{P}.dim_customers"
STG_CUSTOMERS = f"model.{P}.stg_customers"
PAYMENTS = f"model.{P}.fct_payments"
SLOW_MODEL = f"model.{P}.slow_when_requested"


class Branches:
    """Production (`p`) and a CI branch copy (`ci_dir`) of the tutorial over one warehouse."""

    def __init__(self, p: Project):
        self.p = p
        self.prod_target = p.target  # the profile's output named like the warehouse
        self.prod_schema = p.schema if p.target == "postgres" else "main"
        self.ci_schema = f"{self.prod_schema}_ci"
        self.truth_schema = f"{self.prod_schema}_truth"
        db = "postgres" if p.target == "postgres" else "duckdb"
        profiles = p.dir / "profiles.yml"
        text = profiles.read_text()
        for name, schema in (("ci", self.ci_schema), ("truth", self.truth_schema)):
            text += self._output(name, db, schema)
        profiles.write_text(text)
        # Both targets read the production raw tables (as CI targets usually do).
        for yml in [p.dir / "models" / "staging" / "sources.yml",
                    *(p.dir / "packages" / "orc_tutorial_extras" / "models").glob("*.yml")]:
            yml.write_text(yml.read_text().replace(
                'schema: "{{ target.schema }}_raw"',
                "schema: \"{{ env_var('ORC_RAW_SCHEMA', target.schema ~ '_raw') }}\""))
        p.env["ORC_RAW_SCHEMA"] = f"{self.prod_schema}_raw"
        self.ci_dir = p.workspace / "ci_project"
        copy_prepared_project(p.dir, self.ci_dir)
        p.env["DBT_PROFILES_DIR"] = str(p.dir)

    @staticmethod
    def _output(name: str, db: str, schema: str) -> str:
        if db == "duckdb":
            return (f"    {name}:\n      type: duckdb\n"
                    "      path: \"{{ env_var('ORC_DUCKDB_PATH') }}\"\n"
                    f"      schema: {schema}\n      threads: 4\n")
        return (f"    {name}:\n      type: postgres\n"
                "      host: \"{{ env_var('PGHOST') }}\"\n"
                "      port: \"{{ env_var('PGPORT') | as_number }}\"\n"
                "      user: \"{{ env_var('PGUSER') }}\"\n"
                "      password: \"{{ env_var('PGPASSWORD', '') }}\"\n"
                "      dbname: \"{{ env_var('PGDATABASE') }}\"\n"
                f"      schema: {schema}\n      threads: 4\n")

    def prod(self) -> dict:
        r = self.p.orc("build")
        assert r.returncode == 0, r.describe()
        return self.decisions(self.p.dir)

    def ci(self, *extra: str) -> dict:
        """A CI run; the branch's project files stay byte-identical. The decisions, and the
        run's savings line under "_savings"."""
        before = project_tree_snapshot(self.ci_dir)
        r = run_orc(["dbt", "build", "--target", "ci", "--reuse-from", self.prod_target, *extra],
                    self.ci_dir, self.p.env, self.p.orc_bin)
        assert r.returncode == 0, r.describe()
        changed = tree_diff(before, project_tree_snapshot(self.ci_dir))
        assert not changed, f"project files changed: {changed}"
        savings = [line for line in (r.stdout + r.stderr).splitlines() if " nodes reused" in line]
        return self.decisions(self.ci_dir) | {"_savings": savings}

    @staticmethod
    def decisions(project_dir) -> dict:
        d = json.loads((project_dir / "target" / "orc_decisions.json").read_text())
        cloned_tests = sum(1 for n in d["nodes"] if n["decision"] == "clone"
                           and n["unique_id"].startswith(("test.", "unit_test.")))
        return {n["unique_id"]: n for n in d["nodes"]} | {
            "_summary": d["summary"], "_clone": d.get("clone_command"),
            "_batch": d.get("clone_batch"), "_cloned_tests": cloned_tests,
            "_processes": d["dbt_processes"]}

    def relations(self, schema: str) -> dict[str, str]:
        rows = warehouse(self.p, "select table_name, table_type from information_schema.tables "
                                 f"where table_schema = '{schema}'")
        return {name: kind for name, kind in rows}

    def rows(self, schema: str, name: str) -> list[tuple]:
        cols = [c for (c,) in warehouse(
            self.p, "select column_name from information_schema.columns where table_schema = "
                    f"'{schema}' and table_name = '{name}' order by ordinal_position")
                if not c.startswith("dbt_")]
        select = ", ".join(f'"{c}"' for c in cols)
        return sorted(warehouse(self.p, f'select {select} from "{schema}"."{name}"'), key=repr)

    def assert_ci_equals_a_fresh_build(self) -> int:
        """Builds the branch from scratch into the truth schema with plain dbt and compares
        every relation. Returns how many were compared."""
        warehouse(self.p, f'drop schema if exists "{self.truth_schema}" cascade', fetch=False)
        r = run_dbt(["build", "--target", "truth", "--target-path", "target_truth"],
                    self.ci_dir, self.p.env, self.p.dbt_bin)
        assert r.returncode == 0, r.describe()
        truth = self.relations(self.truth_schema)
        ci = self.relations(self.ci_schema)
        assert set(truth) <= set(ci), f"missing in CI: {sorted(set(truth) - set(ci))}"
        # A model with build_after waits for more new data by the user's choice: not stale.
        manifest = json.loads((self.ci_dir / "target_truth" / "manifest.json").read_text())
        waiting = {n["alias"] for n in manifest["nodes"].values()
                   if (n.get("config", {}).get("freshness") or {}).get("build_after")}
        stale = [name for name in sorted(set(truth) - waiting)
                 if self.rows(self.ci_schema, name) != self.rows(self.truth_schema, name)]
        assert not stale, f"stale CI relations: {stale}"
        return len(truth)

    def drop_schemas(self) -> None:
        for s in (self.ci_schema, self.truth_schema):
            warehouse(self.p, f'drop schema if exists "{s}" cascade', fetch=False)


# PostgreSQL runs in `make test-full` only (about four minutes of CI); `make test` runs the
# DuckDB variant and the two-target differential subset.
@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=FULL_ONLY)])
def branches(request, make_project):
    b = Branches(make_project(request.param))
    yield b
    if b.p.target == "postgres":
        b.drop_schemas()


@slow(230)
def test_ci_clones_production_and_builds_only_what_differs(branches: Branches):
    b = branches
    b.prod()

    # 1. Nothing differs: everything that can be cloned is, in one dbt process.
    d = b.ci()
    for uid in (STG_ORDERS, FCT_ORDERS, DIM_CUSTOMERS, PAYMENTS):
        assert (d[uid]["decision"], d[uid]["reason_code"]) == ("clone", "cloned_from_target"), \
            d[uid]
    assert d[SLOW_MODEL]["reason_code"] == "reads_target", "its code asks target.type"
    assert d["_summary"]["clone"] >= 20, d["_summary"]
    assert f'{d["_summary"]["clone"]} cloned' in d["_savings"][-1], d["_savings"]
    # Every clone in one batch (one `dbt show --inline` of dbt's own macros), no `dbt clone`.
    assert d["_batch"] == {"nodes": d["_summary"]["clone"] - d["_cloned_tests"],
                           "outcome": "cloned"}, d["_batch"]
    assert d["_clone"] is None, d["_clone"]
    [process] = d["_processes"]  # one dbt process: the query, the clones, then the build
    verbs = [i.split()[1] for i in process["invocations"]]
    assert "clone" not in verbs, process
    batch = next(i for i, line in enumerate(process["invocations"]) if "orc clone batch" in line)
    assert verbs[batch] == "show" and batch < verbs.index("build"), process
    ci_relations = b.relations(b.ci_schema)
    assert ci_relations[STG_ORDERS.rsplit(".", 1)[1]] == "VIEW"
    assert ci_relations[DIM_CUSTOMERS.rsplit(".", 1)[1]] == "VIEW", \
        "DuckDB and PostgreSQL cannot clone tables: a clone is a view on production's"
    cloned = [uid.rsplit(".", 1)[1] for uid, n in d.items() if not uid.startswith("_")
              and n["decision"] == "clone" and uid.startswith("model.")]
    assert len(cloned) >= 10, cloned
    for name in cloned:  # each a view holding production's rows
        assert ci_relations[name] == "VIEW", (name, ci_relations)
        assert b.rows(b.ci_schema, name) == b.rows(b.prod_schema, name), name
    entry = b.p.read_state()["state"][DIM_CUSTOMERS]
    assert (entry["orc_target"], entry["orc_cloned_from"]) == ("ci", b.prod_target), entry
    compared = b.assert_ci_equals_a_fresh_build()
    assert compared >= 15

    # 2. Nothing changed since: the clones are still production's current builds.
    d = b.ci()
    assert (d[DIM_CUSTOMERS]["decision"], d[DIM_CUSTOMERS]["reason_code"]) == \
        ("reuse", "clone_still_current"), d[DIM_CUSTOMERS]

    # 3. The branch edits a staging model: it and its descendants build, the rest stays.
    stg = b.ci_dir / "models" / "staging" / "stg_orders.sql"
    stg.write_text(stg.read_text().replace("    status,", "    lower(status) as status,"))
    d = b.ci()
    assert (d[STG_ORDERS]["decision"], d[STG_ORDERS]["reason_code"]) == \
        ("build", "fingerprint_differs_from_target"), d[STG_ORDERS]
    assert d[FCT_ORDERS]["decision"] == "build", d[FCT_ORDERS]
    assert d[STG_CUSTOMERS]["decision"] == "reuse", d[STG_CUSTOMERS]
    b.assert_ci_equals_a_fresh_build()

    # 4. New source data after production's build: what reads it is built in CI.
    b.p.add_source_rows("customers")
    d = b.ci()
    assert d[STG_CUSTOMERS]["decision"] == "build", d[STG_CUSTOMERS]
    assert d[STG_CUSTOMERS]["reason_code"] == "new_data_since_target_build", d[STG_CUSTOMERS]
    b.assert_ci_equals_a_fresh_build()

    # 5. Production catches up (a new build of every node): the CI clones of what it rebuilt
    #    are taken again, and what CI built from them builds again.
    b.prod()
    b.ci()
    b.assert_ci_equals_a_fresh_build()

    # 6. A production relation is dropped: its node is built in CI instead.
    drop = f'drop table "{b.prod_schema}"."fct_payments"'
    if b.p.target == "postgres":
        drop += " cascade"  # CI's view on it goes too
    warehouse(b.p, drop, fetch=False)
    b.p.add_source_rows("payments")
    b.prod()  # rebuilds fct_payments and records it
    warehouse(b.p, drop, fetch=False)
    d = b.ci()
    assert (d[PAYMENTS]["decision"], d[PAYMENTS]["reason_code"]) == \
        ("build", "target_relation_missing"), d[PAYMENTS]
    b.assert_ci_equals_a_fresh_build()


def test_reuse_from_names_another_target(project: Project):
    b = Branches(project)
    r = run_orc(["dbt", "build", "--reuse-from", "duckdb"], b.p.dir, b.p.env, b.p.orc_bin)
    assert r.returncode != 0
    assert "--reuse-from duckdb names the target this run builds" in r.output, r.describe()
    assert b.p.read_state() == {"state": {}}, "nothing recorded"


def test_a_failed_clone_batch_falls_back_to_dbt_clone(branches: Branches, tmp_path):
    """Production drops a relation after orc's query saw it and before the clones (a
    production run replacing it, say): the batch's view on it fails, which rolls the whole
    batch back; `dbt clone` then clones every other node, and the node whose relation is gone
    is built in CI instead (`clone_failed`)."""
    b = branches
    b.prod()
    gone = "orders_by_status"
    drop = f'drop table "{b.prod_schema}"."{gone}"'
    if b.p.target == "postgres":
        drop += " cascade"
    # A `dbt` that drops the relation just before the batch, then runs the real dbt. Not a
    # Python console script, so orc runs one dbt process per invocation.
    dropper = tmp_path / "drop_before_batch.py"
    dropper.write_text(
        "import sys\nsys.path.insert(0, %r)\n" % str(Path(__file__).parent)
        + "from test_fingerprint import warehouse\nfrom types import SimpleNamespace\n"
        + "p = SimpleNamespace(target=%r, workspace=__import__('pathlib').Path(%r), env=%r)\n"
        % (b.p.target, str(b.p.workspace), dict(b.p.env))
        + "warehouse(p, %r, fetch=False)\n" % drop)
    wrapper = tmp_path / "dbt"
    wrapper.write_text(
        "#!/bin/bash\n"
        'for a in "$@"; do case "$a" in *"orc clone batch"*) '
        f'"{sys.executable}" "{dropper}" || exit 9;; esac; done\n'
        f'exec "{b.p.dbt_bin}" "$@"\n')
    wrapper.chmod(0o755)
    b.p.env["ORC_DBT"] = str(wrapper)
    try:
        d = b.ci()
    finally:
        del b.p.env["ORC_DBT"]
    assert d["_batch"]["outcome"] == "failed", d["_batch"]
    assert d["_clone"][0] == "clone" and "--full-refresh" in d["_clone"], d["_clone"]
    verbs = [i.split()[1] for p in d["_processes"] for i in p["invocations"]]
    assert verbs.index("clone") < verbs.index("build"), verbs
    uid = f"model.{P}.{gone}"
    assert (d[uid]["decision"], d[uid]["reason_code"]) == ("build", "clone_failed"), d[uid]
    for other in (STG_ORDERS, FCT_ORDERS, DIM_CUSTOMERS, PAYMENTS):
        assert (d[other]["decision"], d[other]["reason_code"]) == \
            ("clone", "cloned_from_target"), d[other]
    entry = b.p.read_state()["state"][DIM_CUSTOMERS]
    assert (entry["orc_target"], entry["orc_cloned_from"]) == ("ci", b.prod_target), entry
    b.assert_ci_equals_a_fresh_build()
