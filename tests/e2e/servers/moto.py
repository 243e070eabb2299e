"""A real moto server (S3, IAM, STS emulator) on a free loopback port, by default with
signature checking switched on after the IAM bootstrap, so every request orc sends must carry
a valid AWS SigV4 signature from a known access key. (moto then also demands a signature on
STS AssumeRoleWithWebIdentity, which real STS does not: web identity tests use a server
with enforce_auth=False.)"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .common import free_port

ADMIN_POLICY = json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@dataclass
class Keys:
    access_key_id: str
    secret_access_key: str


class MotoServer:
    """`moto_server` as a subprocess. `admin` holds keys allowed to do everything."""

    def __init__(self, venv_bin: Path, log_path: Path, enforce_auth: bool = True):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if enforce_auth:
            # IAM bootstrap below = 3 unauthenticated actions; everything after is checked.
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen([str(venv_bin / "moto_server"), "-H", "127.0.0.1", "-p",
                                      str(self.port)], env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).read()
                break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start; see {log_path}")
                time.sleep(0.2)
        iam = self.client("iam", Keys("bootstrap", "bootstrap"))
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=ADMIN_POLICY)
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        self.admin = Keys(key["AccessKeyId"], key["SecretAccessKey"])

    def client(self, service: str, keys: Keys | None = None):
        import boto3

        keys = keys or self.admin
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=keys.access_key_id,
                            aws_secret_access_key=keys.secret_access_key)

    def user_with_policy(self, name: str, actions: list[str]) -> Keys:
        """A new IAM user allowed only `actions` (on every resource)."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Keys(key["AccessKeyId"], key["SecretAccessKey"])

    def env(self, keys: Keys | None = None) -> dict[str, str]:
        """Environment for orc: these keys, this endpoint (path-style), no instance metadata."""
        keys = keys or self.admin
        return {"AWS_ACCESS_KEY_ID": keys.access_key_id,
                "AWS_SECRET_ACCESS_KEY": keys.secret_access_key,
                "AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
