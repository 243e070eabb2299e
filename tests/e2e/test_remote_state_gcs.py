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

from helpers import (Project, RemoteState, assert_build_twice_reuses,
                     assert_save_merges_with_someone_else, assert_saves_add_up, base_env,
                     save_state, save_while_never_stops_changing, save_with_a_write_in_between)
from helpers import state_entry as entry


def env_for(fake_gcs, bucket: str, key: str) -> dict:
    return base_env() | fake_gcs.env | {"ORCHESTRA_STATE_FILE": f"gs://{bucket}/{key}",
                                        "ORCHESTRA_DBT_DEBUG": "true"}


def gcs_state(tmp_path: Path, fake_gcs, bucket: str, key: str) -> RemoteState:
    """gs://bucket/key; orc always goes through the server's enforcing proxy (log cleared
    here, so it holds only what follows), the tests straight to the emulator."""
    fake_gcs.proxy.log.clear()
    return RemoteState(tmp_path, env_for(fake_gcs, bucket, key),
                       lambda data: fake_gcs.put(bucket, key, data),
                       lambda: fake_gcs.get(bucket, key), fake_gcs.proxy, "POST")


def test_save_to_missing_object_creates_it_then_reload_keeps_it(tmp_path, fake_gcs, gcs_bucket):
    first, _ = assert_saves_add_up(gcs_state(tmp_path, fake_gcs, gcs_bucket, "team/state.json"))
    assert "does not exist yet: starting from empty state" in first.stdout


def test_save_merges_with_entries_written_by_someone_else(tmp_path, fake_gcs, gcs_bucket):
    assert_save_merges_with_someone_else(gcs_state(tmp_path, fake_gcs, gcs_bucket, "state.json"))


@pytest.mark.parametrize("existing", [True, False], ids=["generation", "generation-0"])
def test_write_between_read_and_upload_gets_412_and_is_merged(tmp_path, fake_gcs, gcs_bucket,
                                                               existing):
    r = save_with_a_write_in_between(
        gcs_state(tmp_path, fake_gcs, gcs_bucket, "conflict/state.json"), existing)
    assert fake_gcs.proxy.statuses("POST") == [412, 200], fake_gcs.proxy.log
    assert "changed while saving" in r.stdout


def test_object_that_never_stops_changing_fails_loudly_after_bounded_attempts(tmp_path, fake_gcs,
                                                                              gcs_bucket):
    r = save_while_never_stops_changing(gcs_state(tmp_path, fake_gcs, gcs_bucket,
                                                  "busy/state.json"))
    assert f"gs://{gcs_bucket}/busy/state.json" in r.stderr


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
    assert_build_twice_reuses(
        project, env, lambda: json.loads(fake_gcs.get(gcs_bucket, "dbt/state.json"))["state"])
