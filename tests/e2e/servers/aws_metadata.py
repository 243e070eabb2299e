"""The two AWS credential endpoints a process finds on AWS compute, served on loopback:
the ECS container credentials endpoint (Authorization token checked) and the EC2 instance
metadata service with IMDSv2 session tokens (token PUT required before any GET)."""

from __future__ import annotations

import json
import secrets

from .common import BackgroundServer, QuietHandler


class _Metadata(QuietHandler):
    def do_PUT(self) -> None:
        md: CredentialEndpoints = self.server.owner.endpoints
        md.requests.append(("PUT", self.path))
        if self.path != "/latest/api/token" or not self.headers.get(
                "X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400)
        token = secrets.token_hex(8)
        md.imds_tokens.add(token)
        self.reply(200, token.encode())

    def do_GET(self) -> None:
        md: CredentialEndpoints = self.server.owner.endpoints
        md.requests.append(("GET", self.path))
        creds = json.dumps({"AccessKeyId": md.keys.access_key_id,
                            "SecretAccessKey": md.keys.secret_access_key,
                            "Token": "", "Expiration": "2999-01-01T00:00:00Z"}).encode()
        if self.path == "/ecs/creds":
            if self.headers.get("Authorization") != md.ecs_token:
                return self.reply(401)
            return self.reply(200, creds)
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in md.imds_tokens:
                return self.reply(401)  # IMDSv2: no token, no metadata
            role = self.path.rsplit("/", 1)[1]
            if role == "":
                return self.reply(200, b"orc-instance-role")
            if role == "orc-instance-role":
                return self.reply(200, creds)
        self.reply(404)


class CredentialEndpoints:
    """Serves `keys` at /ecs/creds (ECS, token `ecs_token`) and under /latest/ (IMDSv2)."""

    def __init__(self, keys, ecs_token: str = "ecs-secret-token"):
        self.keys = keys
        self.ecs_token = ecs_token
        self.imds_tokens: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self._server = BackgroundServer(_Metadata)
        self._server.endpoints = self
        self.url = self._server.url

    def __enter__(self):
        self._server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._server.__exit__(*exc)
