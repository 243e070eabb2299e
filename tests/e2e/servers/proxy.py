"""A forwarding HTTP proxy (orc talks to it as its S3 endpoint) that records every request
and can run a hook before forwarding one, e.g. to let another writer change the object
between orc's read and its write. Headers are forwarded unchanged, so SigV4 signatures
(which cover Host) stay valid at the real server."""

from __future__ import annotations

import http.client
import threading
from typing import Callable
from urllib.parse import urlsplit

from .common import BackgroundServer, QuietHandler


class _Forward(QuietHandler):
    def _forward(self) -> None:
        proxy: RecordingProxy = self.server.owner.proxy
        body = self.read_body()
        hook = proxy.before_forward
        if hook is not None:
            hook(self.command, self.path)
        target = urlsplit(proxy.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            conn.putheader(k, v)
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        with proxy.lock:
            proxy.log.append((self.command, self.path, resp.status))
        headers = {k: v for k, v in resp.getheaders()
                   if k.lower() not in ("content-length", "transfer-encoding", "connection")}
        self.reply(resp.status, data, headers)
        conn.close()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward


class RecordingProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream
        self.log: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.before_forward: Callable[[str, str], None] | None = None
        self._server = BackgroundServer(_Forward)
        self._server.proxy = self
        self.url = self._server.url

    def __enter__(self):
        self._server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._server.__exit__(*exc)
