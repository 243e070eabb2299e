"""Azure Blob state backend against a real local Azure emulator (Azurite on 127.0.0.1, which
checks SharedKey signatures and enforces If-Match / If-None-Match): missing blob, save/reload,
merge with other writers, a conflict forced between orc's read and its conditional PUT
(412/409, then re-read and merge), bounded retries, wrong credentials, missing container,
and a full `orc dbt build` twice with Azure state. Test data is written and read with the
azure-storage-blob SDK, an independent client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import Project, base_env, run_orc
from helpers import state_entry as entry, stateful_workspace as workspace
from servers.azurite import ACCOUNT, ACCOUNT_KEY
from servers.forwarding_proxy import ForwardingProxy

P = "orc_tutorial"


def save_state(tmp_path: Path, env: dict, entries: dict, name: str = "updates.json"):
    updates = tmp_path / name
    updates.write_text(json.dumps({"state": entries}))
    return run_orc(["dbt", "orchestra", "save-state", updates], workspace(tmp_path), env)


def blob(azurite, container: str, path: str):
    return azurite.client().get_blob_client(container, path)


def put_doc(azurite, container: str, path: str, entries: dict, extra: dict | None = None) -> None:
    doc = {"state": entries} | (extra or {})
    blob(azurite, container, path).upload_blob(json.dumps(doc).encode(), overwrite=True)


def stored(azurite, container: str, path: str) -> dict:
    return json.loads(blob(azurite, container, path).download_blob().readall())


def env_for(azurite, container: str, path: str, endpoint: str | None = None) -> dict:
    return base_env() | azurite.env(endpoint) | {
        "ORCHESTRA_STATE_FILE": azurite.uri(container, path), "ORCHESTRA_DBT_DEBUG": "true"}


def test_save_to_missing_blob_creates_it_then_reload_keeps_it(tmp_path, azurite, container):
    env = env_for(azurite, container, "team/state.json")
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 0, r.describe()
    assert "does not exist yet: starting from empty state" in r.stdout
    assert f"saved 1 entries to {azurite.uri(container, 'team/state.json')}" in r.stdout
    assert set(stored(azurite, container, "team/state.json")["state"]) == {"model.p.a"}

    r = save_state(tmp_path, env, {"model.p.b": entry("2024-01-02T00:00:00Z")}, "u2.json")
    assert r.returncode == 0, r.describe()
    assert set(stored(azurite, container, "team/state.json")["state"]) == {"model.p.a", "model.p.b"}
    assert ACCOUNT_KEY not in r.output  # the key is never printed, debug included


def test_save_merges_with_entries_written_by_someone_else(tmp_path, azurite, container):
    put_doc(azurite, container, "state.json",
            {"model.p.other": entry("2024-01-01T00:00:00Z"),
             "model.p.shared": entry("2030-01-01T00:00:00Z", "newer")}, {"written_by": "reference"})
    r = save_state(tmp_path, env_for(azurite, container, "state.json"),
                   {"model.p.mine": entry("2024-01-02T00:00:00Z"),
                    "model.p.shared": entry("2024-01-02T00:00:00Z", "older")})
    assert r.returncode == 0, r.describe()
    doc = stored(azurite, container, "state.json")
    assert set(doc["state"]) == {"model.p.other", "model.p.mine", "model.p.shared"}
    assert doc["state"]["model.p.shared"]["checksum"] == "newer"  # newer last_updated wins
    assert doc["written_by"] == "reference"


@pytest.mark.parametrize("existing", [True, False], ids=["if-match", "if-none-match"])
def test_write_between_read_and_put_is_refused_then_merged(tmp_path, azurite, container, existing):
    path = "conflict/state.json"
    before = {"model.first": entry("2024-01-01T00:00:00Z")} if existing else {}
    if existing:
        put_doc(azurite, container, path, before)
    with ForwardingProxy(azurite.endpoint) as proxy:
        def other_run_writes_first(method: str, _path: str) -> None:
            if method == "PUT" and not proxy.statuses("PUT"):
                put_doc(azurite, container, path,
                        before | {"model.other_run": entry("2024-03-03T00:00:00Z")})

        proxy.before_forward = other_run_writes_first
        r = save_state(tmp_path, env_for(azurite, container, path, f"{proxy.url}/{ACCOUNT}"),
                       {"model.mine": entry("2024-03-04T00:00:00Z")})
    assert r.returncode == 0, r.describe()
    # If-Match on a changed blob: 412; If-None-Match: * on a blob that now exists: 409.
    assert proxy.statuses("PUT") == [412 if existing else 409, 201], proxy.log
    assert proxy.statuses("GET") == [200 if existing else 404, 200], proxy.log
    assert "changed while saving" in r.stdout
    assert set(stored(azurite, container, path)["state"]) == (
        set(before) | {"model.other_run", "model.mine"})


def test_blob_that_never_stops_changing_fails_loudly_after_bounded_attempts(tmp_path, azurite,
                                                                            container):
    path = "busy/state.json"
    put_doc(azurite, container, path, {})
    with ForwardingProxy(azurite.endpoint) as proxy:
        def another_writer_every_time(method: str, _path: str) -> None:
            if method == "PUT":
                n = len(proxy.statuses("PUT"))
                put_doc(azurite, container, path, {f"model.other{n}": entry("2024-01-01T00:00:00Z")})

        proxy.before_forward = another_writer_every_time
        r = save_state(tmp_path, env_for(azurite, container, path, f"{proxy.url}/{ACCOUNT}"),
                       {"model.mine": entry("2024-03-04T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert azurite.uri(container, path) in r.stderr
    puts = proxy.statuses("PUT")
    assert 2 <= len(puts) <= 20 and set(puts) == {412}, puts  # bounded, and never forced
    assert "model.mine" not in stored(azurite, container, path)["state"]


def test_wrong_account_key_is_403_naming_the_uri_and_writes_nothing(tmp_path, azurite, container):
    wrong_key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    env = env_for(azurite, container, "denied.json") | {
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string(key=wrong_key)}
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert azurite.uri(container, "denied.json") in r.stderr
    # Azure says AuthenticationFailed, Azurite AuthorizationFailure: the code is named.
    assert "HTTP 403 AuthorizationFailure" in r.stderr
    assert wrong_key not in r.output and "AccountKey=" not in r.output
    assert not blob(azurite, container, "denied.json").exists()


def test_missing_container_is_an_error_naming_the_uri(tmp_path, azurite):
    r = save_state(tmp_path, env_for(azurite, "orc-no-such-container", "x/state.json"),
                   {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert azurite.uri("orc-no-such-container", "x/state.json") in r.stderr
    assert "ContainerNotFound" in r.stderr


def test_connection_string_for_another_account_is_refused(tmp_path, azurite, container):
    env = env_for(azurite, container, "state.json") | {
        "ORCHESTRA_STATE_FILE": f"abfss://{container}@otheraccount.dfs.core.windows.net/s.json"}
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert "otheraccount" in r.stderr and ACCOUNT in r.stderr


def test_unreachable_endpoint_is_a_network_error_naming_the_uri(tmp_path, azurite, container):
    from servers.moto_s3 import free_port
    env = env_for(azurite, container, "state.json",
                  f"http://127.0.0.1:{free_port()}/{ACCOUNT}")
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert azurite.uri(container, "state.json") in r.stderr and "network error" in r.stderr


def test_build_twice_with_azure_state_reuses(project: Project, azurite, container):
    env = azurite.env() | {"ORCHESTRA_STATE_FILE": azurite.uri(container, "dbt/state.json")}
    first = project.orc("build", env=env)  # the blob does not exist yet: empty state
    assert first.returncode == 0, first.describe()
    first_decisions = {n["unique_id"]: n["decision"] for n in project.decisions()["nodes"]}
    assert first_decisions[f"model.{P}.stg_orders"] == "build"
    saved = stored(azurite, container, "dbt/state.json")["state"]
    assert f"model.{P}.stg_orders" in saved and f"model.{P}.fct_orders" in saved
    assert project.read_state() == {"state": {}}  # the local state_file was not used

    second = project.orc("build", env=env)
    assert second.returncode == 0, second.describe()
    decisions = {n["unique_id"]: n["decision"] for n in project.decisions()["nodes"]}
    reused = {u for u, d in decisions.items() if d == "reuse"}
    assert f"model.{P}.stg_orders" in reused and f"model.{P}.fct_orders" in reused
    assert set(project.run_results()) == {u for u, d in decisions.items() if d == "build"}
