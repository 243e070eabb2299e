"""A forwarding HTTP proxy on 127.0.0.1 that orc uses as its S3 endpoint: it records every
request with the upstream's status and can run a hook before forwarding one (e.g. to let
another writer change the object between orc's read and its write). Headers are forwarded
unchanged, so SigV4 signatures (which cover Host) stay valid at the real server behind it."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit


class ForwardingProxy:
    """Context manager. `log` holds (method, path, upstream status) per request;
    `before_forward(method, path)` runs before a request goes upstream; `guard(method, path)`,
    when set, may answer a write itself with a status (nothing forwarded): the guard and the
    forwarding of writes then run under one lock, so a check and the write it allows are
    atomic."""

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.log: list[tuple[str, str, int]] = []
        self.before_forward: Callable[[str, str], None] | None = None
        self.guard: Callable[[str, str], int | None] | None = None
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.before_forward:
                    proxy.before_forward(self.command, self.path)
                if proxy.guard and self.command != "GET":
                    with proxy._write_lock:
                        status = proxy.guard(self.command, self.path)
                        if status is not None:
                            with proxy._lock:
                                proxy.log.append((self.command, self.path, status))
                            data = b'{"error": {"code": %d, "errors": [{"reason": "conditionNotMet"}]}}' % status
                            self.send_response(status)
                            self.send_header("Content-Type", "application/json")
                            self.send_header("Content-Length", str(len(data)))
                            self.end_headers()
                            self.wfile.write(data)
                            return
                        self._send_upstream(body)
                    return
                self._send_upstream(body)

            def _send_upstream(self, body) -> None:
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port,
                                                  timeout=30)
                conn.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)
                for k, v in self.headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                with proxy._lock:
                    proxy.log.append((self.command, self.path, resp.status))
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def statuses(self, method: str) -> list[int]:
        return [s for m, _, s in self.log if m == method]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
