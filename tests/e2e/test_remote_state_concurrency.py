"""No lost updates: 8 orc processes save different entries into one shared state at the same
time (local file, S3 on moto, Azure Blob on Azurite, GCS on fake-gcs-server behind a proxy
that enforces ifGenerationMatch, which the emulator ignores) and every entry survives. The
same file shows that a naive load-modify-save by 8 concurrent writers does lose entries, so
the orc tests can fail."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from pathlib import Path


from helpers import base_env, orc_binary

WRITERS = 8
ENTRIES_PER_WRITER = 5


def updates_for(writer: int) -> dict:
    return {"state": {f"model.p.w{writer}_{i}": {"checksum": f"c{writer}",
                                                 "last_updated": "2024-05-01T00:00:00Z",
                                                 "sources": {}}
                      for i in range(ENTRIES_PER_WRITER)}}


def expected_keys() -> set[str]:
    return {k for w in range(WRITERS) for k in updates_for(w)["state"]}


def run_writers_together(tmp_path: Path, env: dict) -> list[subprocess.CompletedProcess]:
    """Starts 8 `orc dbt orchestra save-state` processes at once; returns their results."""
    (tmp_path / "pyproject.toml").write_text("[tool.orchestra_dbt]\nuse_stateful = true\n")
    files = []
    for w in range(WRITERS):
        f = tmp_path / f"updates-{w}.json"
        f.write_text(json.dumps(updates_for(w)))
        files.append(f)
    procs = [subprocess.Popen([str(orc_binary()), "dbt", "orchestra", "save-state", str(f)],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for f in files]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def assert_all_ok(results) -> None:
    failed = [r for r in results if r.returncode != 0]
    assert not failed, "\n".join(f"exit {r.returncode}: {r.stdout}{r.stderr}" for r in failed)


def test_eight_orc_writers_local_file_lose_nothing(tmp_path):
    state = tmp_path / "shared" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"state": {"model.p.existing": {
        "checksum": "x", "last_updated": "2024-01-01T00:00:00Z", "sources": {}}}}))
    results = run_writers_together(tmp_path, base_env() | {"ORCHESTRA_STATE_FILE": str(state)})
    assert_all_ok(results)
    stored = set(json.loads(state.read_text())["state"])
    assert stored == expected_keys() | {"model.p.existing"}


def test_eight_orc_writers_s3_lose_nothing(tmp_path, moto):
    bucket = f"orc-{uuid.uuid4().hex[:12]}"
    moto.client().create_bucket(Bucket=bucket)
    env = base_env() | moto.env | {"ORCHESTRA_STATE_FILE": f"s3://{bucket}/state.json",
                                   "ORCHESTRA_DBT_DEBUG": "true"}
    results = run_writers_together(tmp_path, env)
    assert_all_ok(results)
    body = moto.client().get_object(Bucket=bucket, Key="state.json")["Body"].read()
    assert set(json.loads(body)["state"]) == expected_keys()
    # Writers raced for the object: some PUTs met a changed object and started over.
    conflicts = sum("changed while saving" in r.stdout for r in results)
    print(f"{conflicts} of {WRITERS} writers retried after a precondition failure")


def test_eight_orc_writers_azure_blob_lose_nothing(tmp_path, azurite, container):
    env = base_env() | azurite.env() | {"ORCHESTRA_STATE_FILE": azurite.uri(container, "state.json"),
                                        "ORCHESTRA_DBT_DEBUG": "true"}
    results = run_writers_together(tmp_path, env)
    assert_all_ok(results)
    body = azurite.client().get_blob_client(container, "state.json").download_blob().readall()
    assert set(json.loads(body)["state"]) == expected_keys()
    conflicts = sum("changed while saving" in r.stdout for r in results)
    print(f"{conflicts} of {WRITERS} writers retried after a precondition failure")


def test_eight_orc_writers_gcs_lose_nothing(tmp_path, fake_gcs, gcs_bucket):
    env = base_env() | fake_gcs.env | {"ORCHESTRA_STATE_FILE": f"gs://{gcs_bucket}/state.json",
                                       "ORCHESTRA_DBT_DEBUG": "true"}
    results = run_writers_together(tmp_path, env)
    assert_all_ok(results)
    assert set(json.loads(fake_gcs.get(gcs_bucket, "state.json"))["state"]) == expected_keys()
    conflicts = sum("changed while saving" in r.stdout for r in results)
    print(f"{conflicts} of {WRITERS} writers retried after a precondition failure")


def naive_writers(load, save) -> None:
    """8 threads doing what the reference does: load, add own entries, sleep a little
    (the dbt build between load and save), save the whole document unconditionally."""
    barrier = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        barrier.wait()
        doc = load()
        doc["state"].update(updates_for(w)["state"])
        time.sleep(0.05)
        save(doc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_naive_load_modify_save_loses_entries_local_file(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"state": {}}))
    naive_writers(lambda: json.loads(state.read_text()),
                  lambda doc: state.write_text(json.dumps(doc)))
    stored = set(json.loads(state.read_text())["state"])
    lost = expected_keys() - stored
    assert lost, "the naive writers lost nothing: this test could not tell a fix from no fix"


def test_naive_load_modify_save_loses_entries_s3(moto):
    bucket = f"orc-{uuid.uuid4().hex[:12]}"
    client = moto.client()
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="state.json", Body=b'{"state": {}}')

    # One client for all threads: botocore clients are thread-safe, creating them is not.
    def load():
        return json.loads(client.get_object(Bucket=bucket, Key="state.json")["Body"].read())

    def save(doc):
        client.put_object(Bucket=bucket, Key="state.json", Body=json.dumps(doc).encode())

    naive_writers(load, save)
    body = client.get_object(Bucket=bucket, Key="state.json")["Body"].read()
    lost = expected_keys() - set(json.loads(body)["state"])
    assert lost, "the naive writers lost nothing: this test could not tell a fix from no fix"


def test_naive_load_modify_save_loses_entries_azure_blob(azurite, container):
    blob = azurite.client().get_blob_client(container, "state.json")
    blob.upload_blob(b'{"state": {}}')
    naive_writers(lambda: json.loads(blob.download_blob().readall()),
                  lambda doc: blob.upload_blob(json.dumps(doc).encode(), overwrite=True))
    lost = expected_keys() - set(json.loads(blob.download_blob().readall())["state"])
    assert lost, "the naive writers lost nothing: this test could not tell a fix from no fix"


def test_naive_load_modify_save_loses_entries_gcs(fake_gcs, gcs_bucket):
    fake_gcs.put(gcs_bucket, "state.json", b'{"state": {}}')
    naive_writers(lambda: json.loads(fake_gcs.get(gcs_bucket, "state.json")),
                  lambda doc: fake_gcs.put(gcs_bucket, "state.json", json.dumps(doc).encode()))
    lost = expected_keys() - set(json.loads(fake_gcs.get(gcs_bucket, "state.json"))["state"])
    assert lost, "the naive writers lost nothing: this test could not tell a fix from no fix"
