"""Local stand-ins for the network credential providers (EC2 IMDSv2, the ECS container
endpoint, STS AssumeRoleWithWebIdentity), each handing out one given key pair, and recording
requests so tests can check the protocol (IMDSv2 token, container auth header, STS form)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IMDS_TOKEN = "imds-session-token"
ROLE = "orc-role"


class CredentialEndpoints:
    def __init__(self, access_key: str, secret_key: str, ecs_auth: str = "ecs-auth-token"):
        self.requests: list[dict] = []
        server = self
        creds_json = json.dumps({"AccessKeyId": access_key, "SecretAccessKey": secret_key,
                                 "Token": "", "Expiration": "2099-01-01T00:00:00Z"}).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: bytes = b"", ctype: str = "text/plain"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                server.requests.append({"method": self.command, "path": self.path,
                                        "headers": dict(self.headers.items()), "body": body})
                p, m = self.path, self.command
                if p == "/latest/api/token" and m == "PUT":
                    if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                        return self._reply(400)
                    return self._reply(200, IMDS_TOKEN.encode())
                if p.startswith("/latest/meta-data/iam/security-credentials/"):
                    if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                        return self._reply(401)  # IMDSv2 only: no token, no answer
                    if p.endswith("/security-credentials/"):
                        return self._reply(200, ROLE.encode())
                    if p.endswith("/" + ROLE):
                        return self._reply(200, creds_json, "application/json")
                if p == "/ecs/creds" and m == "GET":
                    if self.headers.get("Authorization") != ecs_auth:
                        return self._reply(403)
                    return self._reply(200, creds_json, "application/json")
                if p == "/" and m == "POST":
                    form = urllib.parse.parse_qs(body)
                    if form.get("Action") != ["AssumeRoleWithWebIdentity"] or \
                            not form.get("WebIdentityToken") or not form.get("RoleArn"):
                        return self._reply(400, b"<Error><Code>InvalidAction</Code></Error>")
                    xml = (f"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                           f"<Credentials><AccessKeyId>{access_key}</AccessKeyId>"
                           f"<SecretAccessKey>{secret_key}</SecretAccessKey>"
                           f"<SessionToken></SessionToken></Credentials>"
                           f"</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
                    return self._reply(200, xml.encode(), "text/xml")
                return self._reply(404)

            do_GET = do_PUT = do_POST = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
