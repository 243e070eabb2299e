"""Orchestra HTTP state backend against a local stand-in of the API (tests/e2e/servers):
bearer auth, the key never printed, retries on 5xx, load failure stops the run, and save
merges with what the server holds instead of overwriting it."""

from __future__ import annotations

import json

from helpers import Project, base_env, save_state
from helpers import state_entry as entry
from servers.orchestra_api import OrchestraApiServer

API_KEY = "orc-test-key-5f1c9e2b7d"  # distinctive, so any leak is found by substring search
P = "orc_tutorial"


def api_env(server: OrchestraApiServer, **extra) -> dict[str, str]:
    return base_env() | {"ORCHESTRA_API_KEY": API_KEY, "ORCHESTRA_API_BASE_URL": server.base_url,
                         **extra}


def test_save_merges_with_server_state_and_sends_bearer(tmp_path):
    stored = {"state": {"model.p.kept": entry("2024-01-01T00:00:00Z")}}
    with OrchestraApiServer(stored) as server:
        r = save_state(tmp_path, api_env(server), {"model.p.new": entry("2024-02-01T00:00:00Z")})
        assert r.returncode == 0, r.describe()
        assert "saved 1 entries" in r.stdout
        assert server.methods() == ["GET", "PATCH"]
        for req in server.requests:
            assert req["path"] == "/api/engine/public/state/DBT_CORE"
            assert req["headers"].get("Authorization") == f"Bearer {API_KEY}"
        assert set(server.document["state"]) == {"model.p.kept", "model.p.new"}
        assert API_KEY not in r.output


def test_missing_document_starts_empty_and_save_creates_it(tmp_path):
    with OrchestraApiServer(None) as server:
        r = save_state(tmp_path, api_env(server), {"model.p.a": entry("2024-02-01T00:00:00Z")})
        assert r.returncode == 0, r.describe()
        assert set(server.document["state"]) == {"model.p.a"}


def test_500_then_200_is_retried(tmp_path):
    stored = {"state": {"model.p.kept": entry("2024-01-01T00:00:00Z")}}
    with OrchestraApiServer(stored) as server:
        server.fail_next("GET", 500)
        server.fail_next("PATCH", 502)
        r = save_state(tmp_path, api_env(server, ORCHESTRA_DBT_DEBUG="true"),
                       {"model.p.new": entry("2024-02-01T00:00:00Z")})
        assert r.returncode == 0, r.describe()
        assert server.methods() == ["GET", "GET", "PATCH", "PATCH"]
        assert set(server.document["state"]) == {"model.p.kept", "model.p.new"}
        assert API_KEY not in r.output


def test_4xx_is_not_retried(tmp_path):
    with OrchestraApiServer({"state": {}}) as server:
        server.fail_next("GET", 401, count=5)
        r = save_state(tmp_path, api_env(server), {"model.p.a": entry("2024-02-01T00:00:00Z")})
        assert r.returncode == 1, r.describe()
        assert server.methods() == ["GET"]
        assert "HTTP 401" in r.output
        assert server.document == {"state": {}}


def test_get_failing_permanently_exits_1_and_leaves_server_state(tmp_path):
    stored = {"state": {"model.p.kept": entry("2024-01-01T00:00:00Z")}}
    with OrchestraApiServer(json.loads(json.dumps(stored))) as server:
        server.fail_next("GET", 503, count=100)
        r = save_state(tmp_path, api_env(server, ORCHESTRA_DBT_DEBUG="true"),
                       {"model.p.new": entry("2024-02-01T00:00:00Z")})
        assert r.returncode == 1, r.describe()
        assert "cannot load state" in r.output and "HTTP 503" in r.output
        assert server.methods() == ["GET"] * 4  # retried, then gave up; never PATCHed
        assert server.document == stored
        assert API_KEY not in r.output


def test_network_error_on_load_exits_1(tmp_path):
    # A port nothing listens on: connection refused, retried, then a clear error.
    with OrchestraApiServer(None) as server:
        dead = server.base_url
    r = save_state(tmp_path, base_env() | {"ORCHESTRA_API_KEY": API_KEY,
                                          "ORCHESTRA_API_BASE_URL": dead},
                   {"model.p.a": entry("2024-02-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert "network error" in r.output
    assert API_KEY not in r.output


def test_build_with_api_state_debug_never_prints_key_and_reuses(project: Project):
    with OrchestraApiServer(None) as server:
        env = {"ORCHESTRA_API_KEY": API_KEY, "ORCHESTRA_API_BASE_URL": server.base_url,
               "ORCHESTRA_DBT_DEBUG": "true"}
        first = project.orc("build", env=env)
        assert first.returncode == 0, first.describe()
        assert API_KEY not in first.output
        assert f"model.{P}.stg_orders" in server.document["state"]
        assert project.read_state() == {"state": {}}  # the file setting is ignored
        second = project.orc("build", env=env)
        assert second.returncode == 0, second.describe()
        assert API_KEY not in second.output
        decisions = {n["unique_id"]: n["decision"] for n in project.decisions()["nodes"]}
        assert decisions[f"model.{P}.stg_orders"] == "reuse"
        for req in server.requests:
            assert req["headers"].get("Authorization") == f"Bearer {API_KEY}"


def test_build_stops_when_api_load_fails(project: Project):
    stored = {"state": {"model.x.kept": entry("2024-01-01T00:00:00Z")}}
    with OrchestraApiServer(json.loads(json.dumps(stored))) as server:
        server.fail_next("GET", 500, count=100)
        env = {"ORCHESTRA_API_KEY": API_KEY, "ORCHESTRA_API_BASE_URL": server.base_url}
        r = project.orc("build", env=env)
        assert r.returncode == 1, r.describe()
        assert "cannot load state" in r.output
        assert not (project.target_dir / "run_results.json").exists()  # dbt never ran
        assert "PATCH" not in server.methods()
        assert server.document == stored
