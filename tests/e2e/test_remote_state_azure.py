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

from helpers import (Project, RemoteState, assert_build_twice_reuses,
                     assert_save_merges_with_someone_else, assert_saves_add_up, base_env,
                     save_state, save_while_never_stops_changing, save_with_a_write_in_between)
from helpers import state_entry as entry
from servers.azurite import ACCOUNT, ACCOUNT_KEY
from servers.forwarding_proxy import ForwardingProxy


def blob(azurite, container: str, path: str):
    return azurite.client().get_blob_client(container, path)


def stored(azurite, container: str, path: str) -> dict:
    return json.loads(blob(azurite, container, path).download_blob().readall())


def env_for(azurite, container: str, path: str, endpoint: str | None = None) -> dict:
    return base_env() | azurite.env(endpoint) | {
        "ORCHESTRA_STATE_FILE": azurite.uri(container, path), "ORCHESTRA_DBT_DEBUG": "true"}


def azure_state(tmp_path: Path, azurite, container: str, path: str,
                proxy: ForwardingProxy | None = None) -> RemoteState:
    """The blob, which orc reaches directly or through `proxy` in front of Azurite."""
    client = blob(azurite, container, path)
    return RemoteState(tmp_path, env_for(azurite, container, path,
                                         proxy and f"{proxy.url}/{ACCOUNT}"),
                       lambda data: client.upload_blob(data, overwrite=True),
                       lambda: client.download_blob().readall(), proxy)


def test_save_to_missing_blob_creates_it_then_reload_keeps_it(tmp_path, azurite, container):
    first, second = assert_saves_add_up(azure_state(tmp_path, azurite, container,
                                                    "team/state.json"))
    assert "does not exist yet: starting from empty state" in first.stdout
    assert f"saved 1 entries to {azurite.uri(container, 'team/state.json')}" in first.stdout
    assert ACCOUNT_KEY not in first.output + second.output  # never printed, debug included


def test_save_merges_with_entries_written_by_someone_else(tmp_path, azurite, container):
    assert_save_merges_with_someone_else(azure_state(tmp_path, azurite, container, "state.json"))


@pytest.mark.parametrize("existing", [True, False], ids=["if-match", "if-none-match"])
def test_write_between_read_and_put_is_refused_then_merged(tmp_path, azurite, container, existing):
    with ForwardingProxy(azurite.endpoint) as proxy:
        r = save_with_a_write_in_between(
            azure_state(tmp_path, azurite, container, "conflict/state.json", proxy), existing)
    # If-Match on a changed blob: 412; If-None-Match: * on a blob that now exists: 409.
    assert proxy.statuses("PUT") == [412 if existing else 409, 201], proxy.log
    assert proxy.statuses("GET") == [200 if existing else 404, 200], proxy.log
    assert "changed while saving" in r.stdout


def test_blob_that_never_stops_changing_fails_loudly_after_bounded_attempts(tmp_path, azurite,
                                                                            container):
    with ForwardingProxy(azurite.endpoint) as proxy:
        r = save_while_never_stops_changing(
            azure_state(tmp_path, azurite, container, "busy/state.json", proxy))
    assert azurite.uri(container, "busy/state.json") in r.stderr


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
    from servers.loopback import free_port
    env = env_for(azurite, container, "state.json",
                  f"http://127.0.0.1:{free_port()}/{ACCOUNT}")
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert azurite.uri(container, "state.json") in r.stderr and "network error" in r.stderr


def test_build_twice_with_azure_state_reuses(project: Project, azurite, container):
    env = azurite.env() | {"ORCHESTRA_STATE_FILE": azurite.uri(container, "dbt/state.json")}
    assert_build_twice_reuses(project, env,
                              lambda: stored(azurite, container, "dbt/state.json")["state"])
