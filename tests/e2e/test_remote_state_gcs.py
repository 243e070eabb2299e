"""GCS state backend against a local GCS emulator (fake-gcs-server on 127.0.0.1). The emulator
ignores ifGenerationMatch, so orc reaches it through a small proxy in front of it
(servers/fake_gcs.py) that enforces the precondition as GCS does (412 when the generation
does not match, 0 meaning "must not exist"). Covered: missing object, save/reload, merge,
a conflict forced between orc's read and its upload (412, then re-read and merge), bounded
retries, failing credentials, a missing bucket, and a full `orc dbt build` twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import Project, base_env, run_orc
from helpers import state_entry as entry, stateful_workspace as workspace

P = "orc_tutorial"


def save_state(tmp_path: Path, env: dict, entries: dict, name: str = "updates.json"):
    updates = tmp_path / name
    updates.write_text(json.dumps({"state": entries}))
    return run_orc(["dbt", "orchestra", "save-state", updates], workspace(tmp_path), env)


def env_for(fake_gcs, bucket: str, key: str) -> dict:
    return base_env() | fake_gcs.env | {"ORCHESTRA_STATE_FILE": f"gs://{bucket}/{key}",
                                        "ORCHESTRA_DBT_DEBUG": "true"}


def stored(fake_gcs, bucket: str, key: str) -> dict:
    return json.loads(fake_gcs.get(bucket, key))


def put_doc(fake_gcs, bucket: str, key: str, entries: dict, extra: dict | None = None) -> None:
    fake_gcs.put(bucket, key, json.dumps({"state": entries} | (extra or {})).encode())


def test_save_to_missing_object_creates_it_then_reload_keeps_it(tmp_path, fake_gcs, gcs_bucket):
    env = env_for(fake_gcs, gcs_bucket, "team/state.json")
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 0, r.describe()
    assert "does not exist yet: starting from empty state" in r.stdout
    assert set(stored(fake_gcs, gcs_bucket, "team/state.json")["state"]) == {"model.p.a"}
    r = save_state(tmp_path, env, {"model.p.b": entry("2024-01-02T00:00:00Z")}, "u2.json")
    assert r.returncode == 0, r.describe()
    assert set(stored(fake_gcs, gcs_bucket, "team/state.json")["state"]) == {"model.p.a", "model.p.b"}


def test_save_merges_with_entries_written_by_someone_else(tmp_path, fake_gcs, gcs_bucket):
    put_doc(fake_gcs, gcs_bucket, "state.json",
            {"model.p.other": entry("2024-01-01T00:00:00Z"),
             "model.p.shared": entry("2030-01-01T00:00:00Z", "newer")}, {"written_by": "reference"})
    r = save_state(tmp_path, env_for(fake_gcs, gcs_bucket, "state.json"),
                   {"model.p.mine": entry("2024-01-02T00:00:00Z"),
                    "model.p.shared": entry("2024-01-02T00:00:00Z", "older")})
    assert r.returncode == 0, r.describe()
    doc = stored(fake_gcs, gcs_bucket, "state.json")
    assert set(doc["state"]) == {"model.p.other", "model.p.mine", "model.p.shared"}
    assert doc["state"]["model.p.shared"]["checksum"] == "newer"
    assert doc["written_by"] == "reference"


def uploads(fake_gcs) -> list[int]:
    return fake_gcs.proxy.statuses("POST")


@pytest.mark.parametrize("existing", [True, False], ids=["generation", "generation-0"])
def test_write_between_read_and_upload_gets_412_and_is_merged(tmp_path, fake_gcs, gcs_bucket,
                                                               existing):
    key = "conflict/state.json"
    before = {"model.first": entry("2024-01-01T00:00:00Z")} if existing else {}
    if existing:
        put_doc(fake_gcs, gcs_bucket, key, before)
    proxy = fake_gcs.proxy
    proxy.log.clear()

    def other_run_writes_first(method: str, path: str) -> None:
        if method == "POST" and not uploads(fake_gcs):
            put_doc(fake_gcs, gcs_bucket, key, before | {"model.other_run": entry("2024-03-03T00:00:00Z")})

    proxy.before_forward = other_run_writes_first
    try:
        r = save_state(tmp_path, env_for(fake_gcs, gcs_bucket, key),
                       {"model.mine": entry("2024-03-04T00:00:00Z")})
    finally:
        proxy.before_forward = None
    assert r.returncode == 0, r.describe()
    assert uploads(fake_gcs) == [412, 200], proxy.log
    assert "changed while saving" in r.stdout
    assert set(stored(fake_gcs, gcs_bucket, key)["state"]) == (
        set(before) | {"model.other_run", "model.mine"})


def test_object_that_never_stops_changing_fails_loudly_after_bounded_attempts(tmp_path, fake_gcs,
                                                                              gcs_bucket):
    key = "busy/state.json"
    put_doc(fake_gcs, gcs_bucket, key, {})
    proxy = fake_gcs.proxy
    proxy.log.clear()

    def another_writer_every_time(method: str, path: str) -> None:
        if method == "POST":
            put_doc(fake_gcs, gcs_bucket, key, {f"model.other{len(uploads(fake_gcs))}": entry("2024-01-01T00:00:00Z")})

    proxy.before_forward = another_writer_every_time
    try:
        r = save_state(tmp_path, env_for(fake_gcs, gcs_bucket, key),
                       {"model.mine": entry("2024-03-04T00:00:00Z")})
    finally:
        proxy.before_forward = None
    assert r.returncode == 1, r.describe()
    assert f"gs://{gcs_bucket}/{key}" in r.stderr
    assert 2 <= len(uploads(fake_gcs)) <= 20 and set(uploads(fake_gcs)) == {412}, proxy.log
    assert "model.mine" not in stored(fake_gcs, gcs_bucket, key)["state"]


def test_missing_bucket_is_an_error_naming_bucket_and_key(tmp_path, fake_gcs):
    r = save_state(tmp_path, env_for(fake_gcs, "orc-no-such-bucket", "x/state.json"),
                   {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert "gs://orc-no-such-bucket/x/state.json" in r.stderr and "does not exist" in r.stderr


def test_refused_service_account_is_an_error_naming_the_uri_and_no_secret(tmp_path):
    """A service-account key whose token endpoint refuses the JWT (a local stub answering
    400 invalid_grant): orc stops before touching storage and prints no secret."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    seen = []

    class Refuse(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            seen.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
            body = b'{"error": "invalid_grant"}'
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps({
        "type": "service_account", "client_email": "orc@p.iam.gserviceaccount.com",
        "private_key_id": "kid1", "private_key": pem,
        "token_uri": f"http://127.0.0.1:{httpd.server_address[1]}/token"}))
    try:
        r = save_state(tmp_path, base_env() | {
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file), "ORCHESTRA_DBT_DEBUG": "true",
            "ORCHESTRA_STATE_FILE": "gs://orc-bucket/state.json"},
            {"model.p.a": entry("2024-01-01T00:00:00Z")})
    finally:
        httpd.shutdown()
    assert r.returncode == 1, r.describe()
    assert "gs://orc-bucket/state.json" in r.stderr and "invalid_grant" in r.stderr
    assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in seen[0]
    assert "PRIVATE KEY" not in r.output and seen[0].split("assertion=")[1] not in r.output


def test_build_twice_with_gcs_state_reuses(project: Project, fake_gcs, gcs_bucket):
    env = fake_gcs.env | {"ORCHESTRA_STATE_FILE": f"gs://{gcs_bucket}/dbt/state.json"}
    first = project.orc("build", env=env)
    assert first.returncode == 0, first.describe()
    first_decisions = {n["unique_id"]: n["decision"] for n in project.decisions()["nodes"]}
    assert first_decisions[f"model.{P}.stg_orders"] == "build"
    saved = stored(fake_gcs, gcs_bucket, "dbt/state.json")["state"]
    assert f"model.{P}.stg_orders" in saved and f"model.{P}.fct_orders" in saved
    assert project.read_state() == {"state": {}}

    second = project.orc("build", env=env)
    assert second.returncode == 0, second.describe()
    decisions = {n["unique_id"]: n["decision"] for n in project.decisions()["nodes"]}
    reused = {u for u, d in decisions.items() if d == "reuse"}
    assert f"model.{P}.stg_orders" in reused and f"model.{P}.fct_orders" in reused
    assert set(project.run_results()) == {u for u, d in decisions.items() if d == "build"}
