"""S3 conditional writes made certain: a forwarding proxy in front of a real moto server lets
another writer change the state object exactly between orc's read and its conditional PUT,
so moto answers 412 and orc must re-read, merge and retry (If-Match on an existing object,
If-None-Match: * on a new one), and must give up loudly after its bounded attempts when the
object never stops changing. The concurrency tests show the same with real parallel runs,
but whether a conflict happens there is up to the scheduler."""

from __future__ import annotations

import json

import pytest

from helpers import base_env, run_orc, state_entry as entry
from servers.forwarding_proxy import ForwardingProxy


def put_doc(moto, bucket: str, key: str, entries: dict) -> None:
    moto.client().put_object(Bucket=bucket, Key=key, Body=json.dumps({"state": entries}).encode())


def stored(moto, bucket: str, key: str) -> dict:
    return json.loads(moto.client().get_object(Bucket=bucket, Key=key)["Body"].read())["state"]


def save_through(proxy: ForwardingProxy, moto, bucket: str, key: str, tmp_path, entries: dict):
    updates = tmp_path / "updates.json"
    updates.write_text(json.dumps({"state": entries}))
    env = base_env() | moto.env | {"AWS_ENDPOINT_URL_S3": proxy.url,
                                   "ORCHESTRA_STATE_FILE": f"s3://{bucket}/{key}",
                                   "ORCHESTRA_DBT_DEBUG": "true"}
    return run_orc(["dbt", "orchestra", "save-state", updates], tmp_path, env)


@pytest.mark.parametrize("existing", [True, False], ids=["if-match", "if-none-match"])
def test_write_between_read_and_put_gets_412_and_is_merged(moto, bucket, tmp_path, existing):
    key = "conflict/state.json"
    before = {"model.first": entry("2024-01-01T00:00:00Z")} if existing else {}
    if existing:
        put_doc(moto, bucket, key, before)
    with ForwardingProxy(moto.endpoint) as proxy:
        def other_run_writes_first(method: str, path: str) -> None:
            if method == "PUT" and not proxy.statuses("PUT"):
                put_doc(moto, bucket, key, before | {"model.other_run": entry("2024-03-03T00:00:00Z")})

        proxy.before_forward = other_run_writes_first
        r = save_through(proxy, moto, bucket, key, tmp_path,
                         {"model.mine": entry("2024-03-04T00:00:00Z")})
    assert r.returncode == 0, r.describe()
    assert proxy.statuses("PUT") == [412, 200], proxy.log
    assert proxy.statuses("GET") == [200 if existing else 404, 200], proxy.log
    assert set(stored(moto, bucket, key)) == set(before) | {"model.other_run", "model.mine"}


def test_object_that_never_stops_changing_fails_loudly_after_bounded_attempts(moto, bucket,
                                                                              tmp_path):
    key = "busy/state.json"
    put_doc(moto, bucket, key, {})
    with ForwardingProxy(moto.endpoint) as proxy:
        def another_writer_every_time(method: str, path: str) -> None:
            if method == "PUT":
                n = len(proxy.statuses("PUT"))
                put_doc(moto, bucket, key, {f"model.other{n}": entry("2024-01-01T00:00:00Z")})

        proxy.before_forward = another_writer_every_time
        r = save_through(proxy, moto, bucket, key, tmp_path,
                         {"model.mine": entry("2024-03-04T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert f"s3://{bucket}/{key}" in r.stderr
    puts = proxy.statuses("PUT")
    assert 2 <= len(puts) <= 20 and set(puts) == {412}, puts  # bounded, and never forced
    assert "model.mine" not in stored(moto, bucket, key)
