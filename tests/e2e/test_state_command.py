"""`orc state show | export | import | forget | prune` on local and S3 (moto) state: every
subcommand, forget → the next build rebuilds exactly those nodes, import merging with a
concurrent write without loss, --dry-run writing nothing, and bad input stopping with a
one-line error that names the file, key or value, with nothing overwritten."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from helpers import Project, base_env, state_entry
from test_stateful_core import FCT_ORDERS, P, STG_CUSTOMERS, STG_ORDERS, decisions_by_id


def state_cmd(p: Project, *args, env: dict | None = None):
    return p.orc_raw("state", *args, env=env)


def ok(r):
    assert r.returncode == 0, r.describe()
    return r


def build(p: Project, env: dict | None = None) -> dict[str, dict]:
    ok(p.orc("build", env=env))
    return decisions_by_id(p)


def assert_forget_rebuilds_exactly(p: Project, forgotten: set[str], env: dict | None = None):
    """The next build decides no_state_entry for exactly the forgotten nodes and runs them."""
    d = build(p, env)
    no_entry = {u for u, n in d.items() if n["reason_code"] == "no_state_entry"}
    assert no_entry == forgotten, no_entry
    ran = p.run_results()
    for u in forgotten:
        assert ran.get(u) == "success", (u, ran.get(u))
    # Everything else that was built has a reason that is not about its own state entry.
    for u, n in d.items():
        if n["decision"] == "build" and u not in forgotten:
            assert n["reason_code"] in {"parent_built", "seed_always", "snapshot",
                                        "package_model_without_parents", "tests_source"}, n


# --- local state ----------------------------------------------------------------------------

def test_show_export_forget_on_local_state(project: Project, tmp_path: Path):
    p = project
    build(p)
    shown = json.loads(ok(state_cmd(p, "show", "--output", "json")).stdout)
    assert set(shown["state"]) == set(p.read_state()["state"])
    only = json.loads(ok(state_cmd(p, "show", "stg_orders", "--output=json")).stdout)
    assert set(only["state"]) == {STG_ORDERS}
    table = ok(state_cmd(p, "show", "stg_*"))
    assert STG_ORDERS in table.stdout and STG_CUSTOMERS in table.stdout
    assert FCT_ORDERS not in table.stdout

    exported = tmp_path / "exported.json"
    ok(state_cmd(p, "export", exported))
    assert json.loads(exported.read_text()) == p.read_state()

    r = ok(state_cmd(p, "forget", "stg_orders"))
    assert STG_ORDERS in r.stdout
    assert STG_ORDERS not in p.read_state()["state"]
    assert STG_CUSTOMERS in p.read_state()["state"]
    assert_forget_rebuilds_exactly(p, {STG_ORDERS})


def test_dry_run_writes_nothing(project: Project, tmp_path: Path):
    p = project
    build(p)
    before = hashlib.sha256(p.state_file.read_bytes()).hexdigest()
    incoming = tmp_path / "incoming.json"
    incoming.write_text(json.dumps({"state": {"model.x.new": state_entry("2030-01-01T00:00:00Z")}}))
    gone = f"model.{P}.deleted_long_ago"
    state = p.read_state()
    state["state"][gone] = state_entry("2024-01-01T00:00:00Z")
    p.write_state(state)
    before = hashlib.sha256(p.state_file.read_bytes()).hexdigest()

    r = ok(state_cmd(p, "import", incoming, "--dry-run"))
    assert "model.x.new" in r.stdout
    r = ok(state_cmd(p, "forget", "fct_*", "--dry-run"))
    assert FCT_ORDERS in r.stdout
    r = ok(state_cmd(p, "prune", "--dry-run"))
    assert gone in r.stdout and STG_ORDERS not in r.stdout
    assert hashlib.sha256(p.state_file.read_bytes()).hexdigest() == before

    ok(state_cmd(p, "prune"))
    after = p.read_state()["state"]
    assert gone not in after and STG_ORDERS in after and FCT_ORDERS in after


def test_import_merges_with_a_concurrent_write(project: Project, tmp_path: Path):
    p = project
    build(p)
    exported = tmp_path / "exported.json"
    ok(state_cmd(p, "export", exported))
    doc = json.loads(exported.read_text())
    stored_stg = doc["state"][STG_ORDERS]
    # The import carries an older stg_orders (the stored one must win) and many new entries.
    doc["state"][STG_ORDERS] = dict(stored_stg, last_updated="2000-01-01T00:00:00Z",
                                    checksum="old")
    for i in range(50):
        doc["state"][f"model.x.imported_{i}"] = state_entry("2024-01-01T00:00:00Z")
    exported.write_text(json.dumps(doc))

    # A concurrent run's save (same guarded path) while the import runs: neither may be lost.
    concurrent = tmp_path / "concurrent.json"
    concurrent.write_text(json.dumps({"state": {f"model.x.concurrent_{i}":
                                                state_entry("2024-01-01T00:00:00Z")
                                                for i in range(50)}}))
    procs = [subprocess.Popen([str(p.orc_bin), *argv], cwd=p.dir, env=p.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv in (["state", "import", str(exported)],
                          ["dbt", "orchestra", "save-state", str(concurrent)])]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
    state = p.read_state()["state"]
    assert {f"model.x.imported_{i}" for i in range(50)} <= set(state)
    assert {f"model.x.concurrent_{i}" for i in range(50)} <= set(state)
    assert state[STG_ORDERS]["checksum"] == stored_stg["checksum"]  # newer last_updated wins


def test_bad_input_is_a_one_line_error_and_nothing_is_written(project: Project, tmp_path: Path):
    p = project
    p.write_state({"state": {STG_ORDERS: state_entry("2024-01-01T00:00:00Z")}})
    before = p.state_file.read_bytes()

    r = state_cmd(p, "import", tmp_path / "missing.json")
    assert r.returncode == 1 and "missing.json" in r.stderr, r.describe()
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"state": {"m": "not an object"}}')
    r = state_cmd(p, "import", corrupt)
    assert r.returncode == 1 and "corrupt.json" in r.stderr and '"m"' in r.stderr, r.describe()
    r = state_cmd(p, "forget", "no_such_model")
    assert r.returncode == 1 and "no_such_model" in r.stderr, r.describe()
    r = state_cmd(p, "show", "--output", "xml")
    assert r.returncode == 2 and "xml" in r.stderr, r.describe()
    r = state_cmd(p, "forget", "--bogus")
    assert r.returncode == 2 and "--bogus" in r.stderr, r.describe()
    r = state_cmd(p, "prune", "--manifest", tmp_path / "nope.json")
    assert r.returncode == 1 and "nope.json" in r.stderr, r.describe()
    r = state_cmd(p, "frobnicate")
    assert r.returncode == 2 and "frobnicate" in r.stderr, r.describe()
    assert p.state_file.read_bytes() == before

    p.write_state("{broken")
    r = state_cmd(p, "forget", "stg_orders")
    assert r.returncode == 1 and "state.json" in r.stderr, r.describe()
    assert p.state_file.read_bytes() == b"{broken"


# --- S3 (moto) ------------------------------------------------------------------------------

def s3_env(moto, bucket: str) -> dict:
    return moto.env | {"ORCHESTRA_STATE_FILE": f"s3://{bucket}/team/state.json"}


def read_object(moto, bucket: str) -> bytes:
    return moto.client().get_object(Bucket=bucket, Key="team/state.json")["Body"].read()


def test_every_state_subcommand_on_s3(project: Project, tmp_path: Path, moto, bucket):
    p = project
    env = s3_env(moto, bucket)
    build(p, env)
    stored = json.loads(read_object(moto, bucket))["state"]
    assert STG_ORDERS in stored

    shown = json.loads(ok(state_cmd(p, "show", "--output", "json", env=env)).stdout)
    assert set(shown["state"]) == set(stored)
    exported = tmp_path / "exported.json"
    ok(state_cmd(p, "export", exported, env=env))
    assert json.loads(exported.read_text())["state"] == stored

    # Dry runs leave the object byte for byte.
    before = read_object(moto, bucket)
    ok(state_cmd(p, "forget", "stg_orders", "--dry-run", env=env))
    ok(state_cmd(p, "prune", "--dry-run", env=env))
    incoming = tmp_path / "incoming.json"
    incoming.write_text(json.dumps({"state": {f"model.{P}.gone": state_entry("2024-01-01T00:00:00Z"),
                                              "model.x.new": state_entry("2024-01-01T00:00:00Z")}}))
    ok(state_cmd(p, "import", incoming, "--dry-run", env=env))
    assert read_object(moto, bucket) == before

    # import (through the conditional PUT), then prune removes what the manifest lacks.
    ok(state_cmd(p, "import", incoming, env=env))
    assert {f"model.{P}.gone", "model.x.new"} <= set(json.loads(read_object(moto, bucket))["state"])
    r = ok(state_cmd(p, "prune", env=env))
    after = json.loads(read_object(moto, bucket))["state"]
    assert f"model.{P}.gone" not in after and "model.x.new" not in after
    assert set(after) == set(stored), r.stdout

    ok(state_cmd(p, "forget", "stg_orders", "fct_orders", env=env))
    after = json.loads(read_object(moto, bucket))["state"]
    assert STG_ORDERS not in after and FCT_ORDERS not in after
    assert_forget_rebuilds_exactly(p, {STG_ORDERS, FCT_ORDERS}, env)
    assert p.read_state() == {"state": {}}  # the local state_file was never used


def test_s3_import_merges_with_a_write_in_between(project: Project, tmp_path: Path, moto, bucket):
    """Another writer stores an entry exactly while the import runs (between orc's read and
    its conditional write is what If-Match guards): afterwards both are stored."""
    p = project
    env = s3_env(moto, bucket)
    moto.client().put_object(Bucket=bucket, Key="team/state.json",
                             Body=json.dumps({"state": {"model.x.first":
                                                        state_entry("2024-01-01T00:00:00Z")}}))
    incoming = tmp_path / "incoming.json"
    incoming.write_text(json.dumps({"state": {f"model.x.imported_{i}":
                                              state_entry("2024-01-01T00:00:00Z")
                                              for i in range(20)}}))
    others = []
    for i in range(3):
        f = tmp_path / f"other{i}.json"
        f.write_text(json.dumps({"state": {f"model.x.other_{i}": state_entry("2024-01-01T00:00:00Z")}}))
        others.append(f)
    procs = [subprocess.Popen([str(p.orc_bin), "state", "import", str(incoming)], cwd=p.dir,
                              env=p.env | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)]
    procs += [subprocess.Popen([str(p.orc_bin), "dbt", "orchestra", "save-state", str(f)],
                               cwd=p.dir, env=p.env | env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for f in others]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
    stored = set(json.loads(read_object(moto, bucket))["state"])
    assert {"model.x.first", *(f"model.x.imported_{i}" for i in range(20)),
            *(f"model.x.other_{i}" for i in range(3))} <= stored
