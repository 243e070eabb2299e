"""A real local S3 server (moto in server mode) on 127.0.0.1 for the end-to-end tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from servers.loopback import LoopbackServer

# moto comes from the venv running pytest (which imports boto3 for `client()`), not from
# ORC_TEST_VENV: that one only needs dbt (the dbt 1.10 venv, the wheel test's venv).
MOTO_SERVER = Path(sys.executable).parent / "moto_server"

ACCESS_KEY = "testing"
SECRET_KEY = "testing-secret"
REGION = "us-east-1"


class MotoServer(LoopbackServer):
    """Starts `moto_server` on a free loopback port; `env` are the AWS_* variables orc needs.
    `extra_env` is passed to moto (e.g. INITIAL_NO_AUTH_ACTION_COUNT=0 turns on IAM checks)."""

    def __init__(self, log_dir: Path, extra_env: dict[str, str] | None = None):
        super().__init__(log_dir, "moto")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env |= {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": REGION, **(extra_env or {})}
        self.start([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                   f"{self.endpoint}/moto-api/", "moto_server", env=env)

    @property
    def env(self) -> dict[str, str]:
        """What orc needs to reach this server with valid credentials."""
        return {"AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true"}

    def client(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY):
        import boto3  # installed with moto
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=access_key, aws_secret_access_key=secret_key)
