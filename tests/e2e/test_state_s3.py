"""S3 state against a real moto server on loopback (signatures checked: every request orc
sends must be correctly SigV4-signed by a known IAM key): missing object, save, reload,
merge, conditional-write conflicts, 403s and unreachable endpoints, the credential chain's
network links, and a full stateful `orc dbt build` on the tutorial twice."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from helpers import VENV_BIN, Project, base_env, run_orc
from servers.aws_metadata import CredentialEndpoints
from servers.moto import MotoServer
from servers.proxy import RecordingProxy

P = "orc_tutorial"
STG_ORDERS = f"model.{P}.stg_orders"
FCT_ORDERS = f"model.{P}.fct_orders"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(VENV_BIN, tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def bucket(moto) -> str:
    name = f"orc-{uuid.uuid4().hex[:12]}"
    moto.client("s3").create_bucket(Bucket=name)
    return name


def entry(ts: str, checksum: str = "c1", **sources) -> dict:
    return {"checksum": checksum, "last_updated": ts, "sources": dict(sources)}


def put_state(moto, bucket: str, key: str, doc) -> None:
    body = doc if isinstance(doc, str) else json.dumps(doc)
    moto.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())


def get_state(moto, bucket: str, key: str):
    return json.loads(moto.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def save_state(tmp_path: Path, env: dict[str, str], doc: dict, name: str = "updates.json"):
    """`orc dbt orchestra save-state <file>` from an empty directory (no pyproject)."""
    f = tmp_path / name
    f.write_text(json.dumps(doc))
    return run_orc(["dbt", "orchestra", "save-state", f], tmp_path, base_env() | env)


def s3_env(moto, bucket: str, key: str = "orc/state.json", **extra) -> dict[str, str]:
    return moto.env() | {"ORCHESTRA_STATE_FILE": f"s3://{bucket}/{key}"} | extra


def test_missing_object_is_created_then_merged_on_the_next_save(moto, bucket, tmp_path):
    env = s3_env(moto, bucket, ORCHESTRA_DBT_DEBUG="true")
    r = save_state(tmp_path, env, {"state": {"model.a": entry("2024-01-01T00:00:00Z")}})
    assert r.returncode == 0, r.describe()
    assert get_state(moto, bucket, "orc/state.json")["state"] == {
        "model.a": entry("2024-01-01T00:00:00Z")}

    # Reload + merge: the stored entry survives, the new one is added.
    r = save_state(tmp_path, env, {"state": {"model.b": entry("2024-01-02T00:00:00+00:00")}})
    assert r.returncode == 0, r.describe()
    assert set(get_state(moto, bucket, "orc/state.json")["state"]) == {"model.a", "model.b"}
    assert moto.admin.secret_access_key not in r.output


def test_save_keeps_newer_stored_entries_and_unknown_fields(moto, bucket, tmp_path):
    put_state(moto, bucket, "s.json", {
        "state": {"model.a": entry("2024-01-01T00:00:00Z", "old"),
                  "model.b": entry("2024-06-01T12:00:00+02:00", "stored-newer") | {"x": 1}},
        "written_by": "reference"})
    r = save_state(tmp_path, s3_env(moto, bucket, "s.json"), {"state": {
        "model.a": entry("2024-02-01T00:00:00Z", "new"),
        "model.b": entry("2024-06-01T09:00:00Z", "update-older"),
        "model.c": entry("2024-02-01T00:00:00", "naive")}})
    assert r.returncode == 0, r.describe()
    doc = get_state(moto, bucket, "s.json")
    assert doc["written_by"] == "reference"
    s = doc["state"]
    assert s["model.a"]["checksum"] == "new"
    assert s["model.b"]["checksum"] == "stored-newer" and s["model.b"]["x"] == 1
    assert s["model.c"]["checksum"] == "naive"


@pytest.mark.parametrize("existing", [True, False], ids=["if-match", "if-none-match"])
def test_write_conflict_is_reread_merged_and_retried(moto, bucket, tmp_path, existing):
    """Another writer changes the object between orc's read and its write: S3 answers 412 to
    orc's conditional PUT, and orc re-reads, merges and writes again. Nothing is lost."""
    key = "conflict.json"
    if existing:
        put_state(moto, bucket, key, {"state": {"model.first": entry("2024-01-01T00:00:00Z")}})
    with RecordingProxy(moto.endpoint) as proxy:
        intruded = []

        def other_writer(method: str, path: str) -> None:
            if method == "PUT" and path.endswith(key) and not intruded:
                intruded.append(path)
                put_state(moto, bucket, key, {"state": {
                    **({"model.first": entry("2024-01-01T00:00:00Z")} if existing else {}),
                    "model.other_run": entry("2024-03-03T00:00:00Z")}})

        proxy.before_forward = other_writer
        env = s3_env(moto, bucket, key, AWS_ENDPOINT_URL_S3=proxy.url, ORCHESTRA_DBT_DEBUG="true")
        r = save_state(tmp_path, env, {"state": {"model.mine": entry("2024-03-04T00:00:00Z")}})
    assert r.returncode == 0, r.describe()
    puts = [status for method, _, status in proxy.log if method == "PUT"]
    assert puts == [412, 200], proxy.log
    assert "changed since it was read" in r.stdout
    expected = {"model.other_run", "model.mine"} | ({"model.first"} if existing else set())
    assert set(get_state(moto, bucket, key)["state"]) == expected


def test_endless_conflicts_fail_loudly_after_bounded_retries(moto, bucket, tmp_path):
    key = "busy.json"
    put_state(moto, bucket, key, {"state": {}})
    with RecordingProxy(moto.endpoint) as proxy:
        counter = []

        def always_another_writer(method: str, path: str) -> None:
            if method == "PUT" and path.endswith(key):
                counter.append(1)
                put_state(moto, bucket, key, {"state": {f"model.o{len(counter)}":
                                                        entry("2024-01-01T00:00:00Z")}})

        proxy.before_forward = always_another_writer
        r = save_state(tmp_path, s3_env(moto, bucket, key, AWS_ENDPOINT_URL_S3=proxy.url),
                       {"state": {"model.mine": entry("2024-03-04T00:00:00Z")}})
    assert r.returncode == 1, r.describe()
    assert f"s3://{bucket}/{key}" in r.stderr and "10 attempts" in r.stderr
    assert [s for m, _, s in proxy.log if m == "PUT"] == [412] * 10
    assert "model.mine" not in get_state(moto, bucket, key)["state"]


@pytest.mark.parametrize("case", ["wrong-secret", "unknown-key", "read-only-user"])
def test_access_denied_names_bucket_and_key_and_changes_nothing(moto, bucket, tmp_path, case):
    key = "guarded/state.json"
    original = {"state": {"model.a": entry("2024-01-01T00:00:00Z")}}
    put_state(moto, bucket, key, original)
    if case == "wrong-secret":
        env = s3_env(moto, bucket, key, AWS_SECRET_ACCESS_KEY="not-the-secret")
        code = "SignatureDoesNotMatch"
    elif case == "unknown-key":
        env = s3_env(moto, bucket, key, AWS_ACCESS_KEY_ID="AKIAUNKNOWN000000000")
        code = "InvalidAccessKeyId"
    else:
        reader = moto.user_with_policy(f"reader-{uuid.uuid4().hex[:6]}", ["s3:GetObject"])
        env = s3_env(moto, bucket, key, AWS_ACCESS_KEY_ID=reader.access_key_id,
                     AWS_SECRET_ACCESS_KEY=reader.secret_access_key)
        code = "AccessDenied"
    r = save_state(tmp_path, env | {"ORCHESTRA_DBT_DEBUG": "true"},
                   {"state": {"model.b": entry("2024-02-01T00:00:00Z")}})
    assert r.returncode == 1, r.describe()
    assert f"s3://{bucket}/{key}" in r.stderr and "403" in r.stderr and code in r.stderr, r.stderr
    assert "the stored state was not changed" in r.stderr
    assert env["AWS_SECRET_ACCESS_KEY"] not in r.output
    assert get_state(moto, bucket, key) == original


def test_unreachable_endpoint_and_missing_bucket_are_errors_not_empty_state(moto, tmp_path):
    from servers.common import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    r = save_state(tmp_path, s3_env(moto, "some-bucket", "k.json", AWS_ENDPOINT_URL_S3=closed),
                   {"state": {}})
    assert r.returncode == 1, r.describe()
    assert "s3://some-bucket/k.json" in r.stderr and "not reachable" in r.stderr

    r = save_state(tmp_path, s3_env(moto, f"missing-{uuid.uuid4().hex[:8]}", "k.json"),
                   {"state": {}})
    assert r.returncode == 1, r.describe()
    assert "NoSuchBucket" in r.stderr and "does not exist" in r.stderr


def test_credentials_from_profile_files(moto, bucket, tmp_path):
    (tmp_path / "creds").write_text(
        f"[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n"
        f"[ci]\naws_access_key_id = {moto.admin.access_key_id}\n"
        f"aws_secret_access_key = {moto.admin.secret_access_key}\n")
    (tmp_path / "config").write_text("[profile ci]\nregion = us-east-1\n")
    env = s3_env(moto, bucket, "p.json", AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "creds"),
                 AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_PROFILE="ci")
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_REGION"]
    r = save_state(tmp_path, env, {"state": {"model.p": entry("2024-01-01T00:00:00Z")}})
    assert r.returncode == 0, r.describe()
    assert "model.p" in get_state(moto, bucket, "p.json")["state"]


@pytest.fixture(scope="module")
def open_moto(tmp_path_factory):
    """moto without signature checks: it wrongly demands a signed AssumeRoleWithWebIdentity."""
    server = MotoServer(VENV_BIN, tmp_path_factory.mktemp("moto-open") / "moto.log",
                        enforce_auth=False)
    yield server
    server.stop()


def test_credentials_from_web_identity_via_sts(open_moto, tmp_path):
    moto = open_moto
    bucket = f"orc-{uuid.uuid4().hex[:12]}"
    moto.client("s3").create_bucket(Bucket=bucket)
    iam = moto.client("iam")
    role = f"ci-{uuid.uuid4().hex[:6]}"
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action":
         "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": "token.example"}}]}))[
        "Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    (tmp_path / "token").write_text("header.payload.signature\n")
    env = s3_env(moto, bucket, "w.json", AWS_WEB_IDENTITY_TOKEN_FILE=str(tmp_path / "token"),
                 AWS_ROLE_ARN=arn, AWS_ENDPOINT_URL_STS=moto.endpoint,
                 ORCHESTRA_DBT_DEBUG="true")
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    r = save_state(tmp_path, env, {"state": {"model.w": entry("2024-01-01T00:00:00Z")}})
    assert r.returncode == 0, r.describe()
    assert "credentials from web identity" in r.stdout
    assert "header.payload.signature" not in r.output
    assert "model.w" in get_state(moto, bucket, "w.json")["state"]


@pytest.mark.parametrize("link", ["ecs", "imds"])
def test_credentials_from_container_and_instance_metadata(moto, bucket, tmp_path, link):
    with CredentialEndpoints(moto.admin) as md:
        env = s3_env(moto, bucket, f"{link}.json", ORCHESTRA_DBT_DEBUG="true")
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        if link == "ecs":
            env |= {"AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{md.url}/ecs/creds",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": md.ecs_token}
        else:
            env |= {"AWS_EC2_METADATA_SERVICE_ENDPOINT": md.url}
            del env["AWS_EC2_METADATA_DISABLED"]
        r = save_state(tmp_path, env, {"state": {"model.m": entry("2024-01-01T00:00:00Z")}})
    assert r.returncode == 0, r.describe()
    assert "model.m" in get_state(moto, bucket, f"{link}.json")["state"]
    if link == "ecs":
        assert md.requests == [("GET", "/ecs/creds")]
        assert md.ecs_token not in r.output
    else:
        assert md.requests[0] == ("PUT", "/latest/api/token")
        assert md.requests[1:] == [("GET", "/latest/meta-data/iam/security-credentials/"),
                                   ("GET", "/latest/meta-data/iam/security-credentials/"
                                           "orc-instance-role")]


def test_stateful_build_twice_with_s3_state_reuses(moto, bucket, project: Project):
    """The tutorial with its state in S3 (object absent at first): the first build builds
    everything and creates the object; the second reuses from it."""
    key = "tutorial/state.json"
    env = s3_env(moto, bucket, key)
    r = project.orc("build", env=env)
    assert r.returncode == 0, r.describe()
    first = {n["unique_id"]: n for n in project.decisions()["nodes"]}
    assert first and all(n["decision"] == "build" for n in first.values())
    stored = get_state(moto, bucket, key)["state"]
    assert STG_ORDERS in stored and FCT_ORDERS in stored
    assert project.read_state() == {"state": {}}, "the local state file must not be used"

    r = project.orc("build", env=env)
    assert r.returncode == 0, r.describe()
    second = {n["unique_id"]: n for n in project.decisions()["nodes"]}
    for uid in (STG_ORDERS, FCT_ORDERS):
        assert second[uid]["decision"] == "reuse", second[uid]
    n_reused = sum(n["decision"] == "reuse" for n in second.values())
    assert f"{n_reused}/{len(second)} nodes reused" in r.stdout


def test_stateful_build_stops_before_dbt_when_s3_denies_access(moto, bucket, project: Project):
    key = "tutorial/state.json"
    put_state(moto, bucket, key, {"state": {}})
    r = project.orc("build", env=s3_env(moto, bucket, key, AWS_SECRET_ACCESS_KEY="wrong"))
    assert r.returncode == 1, r.describe()
    assert f"s3://{bucket}/{key}" in r.stderr
    assert not (project.target_dir / "run_results.json").exists()
    assert get_state(moto, bucket, key) == {"state": {}}
