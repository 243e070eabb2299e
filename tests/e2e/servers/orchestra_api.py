"""A small stand-in for the Orchestra state API, for the end-to-end tests.

GET  /api/engine/public/state/DBT_CORE  → 200 with the stored document (404 when none)
PATCH /api/engine/public/state/DBT_CORE → stores the JSON body, 200

Every request is recorded (method, path, headers, body). `fail_next(method, status, n)`
makes the next n requests of that method answer `status` without touching the document."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_PATH = "/api/engine/public/state/DBT_CORE"


class OrchestraApiServer:
    def __init__(self, document: dict | None = None):
        self.document = document  # None = nothing stored (GET answers 404)
        self.requests: list[dict] = []
        self._failures: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                method = self.command
                with server._lock:
                    server.requests.append({"method": method, "path": self.path,
                                            "headers": dict(self.headers.items()),
                                            "body": body.decode("utf-8", "replace")})
                    queue = server._failures.get(method) or []
                    fail = queue.pop(0) if queue else None
                if fail is not None:
                    return self._reply(fail, b'{"error":"injected"}')
                if self.path != STATE_PATH:
                    return self._reply(404, b'{"error":"no such endpoint"}')
                if method == "GET":
                    with server._lock:
                        doc = server.document
                    if doc is None:
                        return self._reply(404, b'{"error":"not found"}')
                    return self._reply(200, json.dumps(doc).encode())
                if method == "PATCH":
                    try:
                        doc = json.loads(body)
                    except ValueError:
                        return self._reply(400, b'{"error":"bad json"}')
                    with server._lock:
                        server.document = doc
                    return self._reply(200, b"{}")
                return self._reply(405)

            do_GET = do_PATCH = do_PUT = do_POST = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, method: str, status: int, count: int = 1) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend([status] * count)

    def methods(self) -> list[str]:
        with self._lock:
            return [r["method"] for r in self.requests]

    def __enter__(self) -> "OrchestraApiServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
