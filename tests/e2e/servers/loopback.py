"""The part every local test server shares: a child process on a free 127.0.0.1 port with its
output in a log file, started and waited for until it answers HTTP, and stopped again."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """Picks a free loopback port (`port`, `endpoint`) and opens `<log_dir>/<log_name>-<port>.log`;
    `start(argv, ready_url)` launches the server and waits for it. Subclasses that hold more
    (a data directory, a proxy) extend `stop()`, which a failed start also calls."""

    def __init__(self, log_dir: Path, log_name: str):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(log_dir / f"{log_name}-{self.port}.log", "w")

    def start(self, argv: list[str], ready_url: str, name: str, timeout: float = 30,
              env: dict[str, str] | None = None, any_answer_is_ready: bool = False) -> None:
        """Runs argv and polls ready_url until it answers 2xx (or, with any_answer_is_ready,
        any HTTP status); stops and raises naming the log when the process exits or
        `timeout` seconds pass first."""
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=1)
                return
            except urllib.error.HTTPError:
                if any_answer_is_ready:
                    return
                self._wait_or_give_up(deadline, name)
            except Exception:
                self._wait_or_give_up(deadline, name)

    def _wait_or_give_up(self, deadline: float, name: str) -> None:
        if self.proc.poll() is not None or time.time() > deadline:
            self.stop()
            raise RuntimeError(f"{name} did not start (see {self.log.name})")
        time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
