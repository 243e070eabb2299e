"""S3 state backend against a real local S3 server (moto in server mode on 127.0.0.1):
missing object, save/reload, merge with other writers, SigV4 accepted by a server that checks
signatures, 403 paths, profile credentials, and a full `orc dbt build` twice with S3 state."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from helpers import (Project, RemoteState, assert_build_twice_reuses,
                     assert_save_merges_with_someone_else, assert_saves_add_up, base_env,
                     save_state)
from helpers import state_entry as entry
from servers.moto_s3 import MotoServer


def read_object(moto: MotoServer, bucket: str, key: str) -> dict:
    return json.loads(moto.client().get_object(Bucket=bucket, Key=key)["Body"].read())


def s3_state(tmp_path: Path, moto: MotoServer, bucket: str, key: str) -> RemoteState:
    env = base_env() | moto.env | {"ORCHESTRA_STATE_FILE": f"s3://{bucket}/{key}"}
    return RemoteState(tmp_path, env,
                       lambda data: moto.client().put_object(Bucket=bucket, Key=key, Body=data),
                       lambda: moto.client().get_object(Bucket=bucket, Key=key)["Body"].read())


def test_save_to_missing_object_creates_it_then_reload_merges(tmp_path, moto, bucket):
    first, _ = assert_saves_add_up(s3_state(tmp_path, moto, bucket, "team/state.json"))
    assert f"saved 1 entries to s3://{bucket}/team/state.json" in first.stdout


def test_save_merges_with_entries_written_by_someone_else(tmp_path, moto, bucket):
    assert_save_merges_with_someone_else(s3_state(tmp_path, moto, bucket, "state.json"))


def test_missing_bucket_is_an_error_naming_bucket_and_key(tmp_path, moto):
    env = base_env() | moto.env | {"ORCHESTRA_STATE_FILE": "s3://orc-no-such-bucket/x/state.json"}
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert "s3://orc-no-such-bucket/x/state.json" in r.stderr
    assert "NoSuchBucket" in r.stderr


def test_corrupt_object_is_an_error_and_not_overwritten(tmp_path, moto, bucket):
    moto.client().put_object(Bucket=bucket, Key="state.json", Body=b"{not json")
    env = base_env() | moto.env | {"ORCHESTRA_STATE_FILE": f"s3://{bucket}/state.json"}
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 1, r.describe()
    assert f"s3://{bucket}/state.json" in r.stderr
    body = moto.client().get_object(Bucket=bucket, Key="state.json")["Body"].read()
    assert body == b"{not json"


def test_profile_credentials_from_shared_files(tmp_path, moto, bucket):
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n\n"
                     f"[ci]\naws_access_key_id = {moto.env['AWS_ACCESS_KEY_ID']}\n"
                     f"aws_secret_access_key = {moto.env['AWS_SECRET_ACCESS_KEY']}\n")
    config = tmp_path / "config"
    config.write_text("[profile ci]\nregion = us-east-1\n")
    env = base_env() | {"AWS_ENDPOINT_URL_S3": moto.endpoint, "AWS_PROFILE": "ci",
                        "AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": str(config),
                        "AWS_EC2_METADATA_DISABLED": "true", "ORCHESTRA_DBT_DEBUG": "true",
                        "ORCHESTRA_STATE_FILE": f"s3://{bucket}/state.json"}
    r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
    assert r.returncode == 0, r.describe()
    assert f"profile ci in {creds}" in r.stdout
    assert set(read_object(moto, bucket, "state.json")["state"]) == {"model.p.a"}


@pytest.fixture(scope="module")
def authed(tmp_path_factory):
    import boto3

    # The first 4 actions are unauthenticated: bucket, user, policy, access key.
    server = MotoServer(tmp_path_factory.mktemp("moto-auth"),
                        {"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    try:
        server.client().create_bucket(Bucket="orc-authed")
        iam = boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")
        iam.create_user(UserName="orc")
        iam.put_user_policy(UserName="orc", PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="orc")["AccessKey"]
        yield server, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        server.stop()


class TestWithSignatureChecks:
    """moto with IAM auth on (INITIAL_NO_AUTH_ACTION_COUNT): it verifies SigV4 signatures and
    access keys, so these prove orc's signing is right and its 403 path is clean."""

    def env(self, server, key_id, secret, key="state.json"):
        return base_env() | server.env | {"AWS_ACCESS_KEY_ID": key_id,
                                          "AWS_SECRET_ACCESS_KEY": secret,
                                          "ORCHESTRA_STATE_FILE": f"s3://orc-authed/{key}"}

    def test_valid_signature_is_accepted(self, tmp_path, authed):
        server, key_id, secret = authed
        env = self.env(server, key_id, secret)
        for i in range(2):  # create (If-None-Match: *), then update (If-Match)
            r = save_state(tmp_path, env, {f"model.p.{i}": entry("2024-01-01T00:00:00Z")},
                           f"u{i}.json")
            assert r.returncode == 0, r.describe()
        doc = json.loads(server.client(key_id, secret).get_object(
            Bucket="orc-authed", Key="state.json")["Body"].read())
        assert set(doc["state"]) == {"model.p.0", "model.p.1"}

    @pytest.mark.parametrize("bad", ["wrong-secret", "unknown-key"])
    def test_bad_credentials_exit_1_naming_bucket_and_key(self, tmp_path, authed, bad):
        server, key_id, secret = authed
        if bad == "wrong-secret":
            env, code = self.env(server, key_id, "not-the-secret", "denied.json"), "SignatureDoesNotMatch"
        else:
            env, code = self.env(server, "AKIAUNKNOWNUNKNOWN00", secret, "denied.json"), "InvalidAccessKeyId"
        r = save_state(tmp_path, env | {"ORCHESTRA_DBT_DEBUG": "true"},
                       {"model.p.a": entry("2024-01-01T00:00:00Z")})
        assert r.returncode == 1, r.describe()
        assert "s3://orc-authed/denied.json" in r.stderr
        assert "403" in r.stderr and code in r.stderr
        assert "not-the-secret" not in r.output and secret not in r.output
        listing = server.client(key_id, secret).list_objects_v2(Bucket="orc-authed")
        assert "denied.json" not in [o["Key"] for o in listing.get("Contents", [])]


def test_build_twice_with_s3_state_reuses(project: Project, moto, bucket):
    env = moto.env | {"ORCHESTRA_STATE_FILE": f"s3://{bucket}/dbt/state.json"}
    assert_build_twice_reuses(project, env,
                              lambda: read_object(moto, bucket, "dbt/state.json")["state"])


class TestNetworkCredentialProviders:
    """IMDSv2, the ECS container endpoint and STS web identity, served locally and handing out
    the IAM key that the signature-checking moto accepts: the save only succeeds if orc got
    the key through the provider's protocol."""

    def env(self, server, extra):
        env = base_env() | {"AWS_ENDPOINT_URL_S3": server.endpoint, "AWS_REGION": "us-east-1",
                            "HOME": "/nonexistent", "ORCHESTRA_DBT_DEBUG": "true",
                            "ORCHESTRA_STATE_FILE": f"s3://orc-authed/{uuid.uuid4().hex}.json"}
        return env | extra

    def check(self, tmp_path, server, env, source):
        r = save_state(tmp_path, env, {"model.p.a": entry("2024-01-01T00:00:00Z")})
        assert r.returncode == 0, r.describe()
        assert f"AWS credentials for s3://orc-authed/" in r.stdout and source in r.stdout

    def test_imdsv2(self, tmp_path, authed):
        from servers.aws_credentials_endpoints import CredentialEndpoints
        server, key_id, secret = authed
        with CredentialEndpoints(key_id, secret) as ep:
            self.check(tmp_path, server,
                       self.env(server, {"AWS_EC2_METADATA_SERVICE_ENDPOINT": ep.url}),
                       "EC2 instance metadata (role orc-role)")
            assert ep.requests[0]["method"] == "PUT"  # token first (IMDSv2)

    def test_ecs_container_endpoint(self, tmp_path, authed):
        from servers.aws_credentials_endpoints import CredentialEndpoints
        server, key_id, secret = authed
        with CredentialEndpoints(key_id, secret, ecs_auth="secret-ecs-auth") as ep:
            self.check(tmp_path, server, self.env(server, {
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"{ep.url}/ecs/creds",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "secret-ecs-auth",
                "AWS_EC2_METADATA_DISABLED": "true"}), "ECS container endpoint")

    def test_web_identity_via_sts(self, tmp_path, authed):
        from servers.aws_credentials_endpoints import CredentialEndpoints
        server, key_id, secret = authed
        token = tmp_path / "token"
        token.write_text("header.payload.signature\n")
        with CredentialEndpoints(key_id, secret) as ep:
            self.check(tmp_path, server, self.env(server, {
                "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
                "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/orc",
                "AWS_ENDPOINT_URL_STS": ep.url, "AWS_EC2_METADATA_DISABLED": "true"}),
                "web identity")
            assert "WebIdentityToken=header.payload.signature" in ep.requests[0]["body"]
