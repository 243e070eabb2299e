"""A fork server that makes every dbt invocation of the harness cheap.

Starting dbt costs ~1.5 s of Python imports per process, and a differential step starts
three or four dbt processes (orc's `dbt show`/`dbt ls` and `dbt build`, the shadow build).
The server imports dbt (and dbt-duckdb) once; for every request it forks a child that runs
dbt's own console entry point (`dbt.cli.main.cli`, exactly what the `dbt` script runs) with
the client's argv, working directory, environment and stdin/stdout/stderr. Each invocation
therefore runs in a fresh process image copied from a pristine parent: no dbt state (flags,
adapters, connections, manifests) survives from one invocation to the next, which is why a
fork server is used rather than `dbtRunner` in a long-lived process.

The client (`write_client`) is a tiny stdlib-only script used as `ORC_DBT` for orc and as the
harness's own dbt. It passes its three standard file descriptors over a Unix socket
(SCM_RIGHTS), so dbt writes straight into whatever pipe orc reads, and exits with dbt's exit
code. When the server is not reachable the client execs the real dbt instead.

Run as a program: `python -m tests.differential.dbt_server SOCKET` (the harness does this).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path

_HEADER = struct.Struct("!I")


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("client went away")
        buf += chunk
    return buf


_WARM_FILES = {
    "dbt_project.yml": "name: warm\nversion: '1.0'\nconfig-version: 2\nprofile: warm\n",
    "profiles.yml": ("warm:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                     "      path: warm.duckdb\n      threads: 1\n"),
    "seeds/s.csv": "id,grp\n1,a\n2,b\n",
    "models/m.sql": "select id, grp from {{ ref('s') }}",
    "models/e.sql": "{{ config(materialized='ephemeral') }} select * from {{ ref('m') }}",
    "models/t.sql": "{{ config(materialized='table') }} select * from {{ ref('e') }}",
    "models/i.sql": ("{{ config(materialized='incremental', unique_key='id', "
                     "incremental_strategy='delete+insert') }} select * from {{ ref('t') }}"),
    "models/schema.yml": """version: 2
sources:
  - name: raw
    schema: main
    tables:
      - name: s
        config: {loaded_at_query: "select current_timestamp"}
models:
  - name: t
    columns:
      - name: id
        data_tests: [unique, not_null, {relationships: {arguments: {to: ref('m'), field: id}}}]
unit_tests:
  - name: ut_m
    model: m
    given:
      - input: ref('s')
        rows: [{id: 1, grp: a}]
    expect:
      rows: [{id: 1, grp: a}]
""",
    "tests/sing.sql": "select * from {{ ref('t') }} where id < 0",
}


def _preload() -> None:
    """Imports dbt and warms it up with a few invocations on a throw-away project, so that
    forked children start warm (dbt generates much of its (de)serialisation code lazily on
    first use, ~1.5 s per process).

    Every DuckDB connection the warm-up opened is closed afterwards: a forked child must not
    inherit a live DuckDB database (it crashes). The warm-up does not use dbt's static
    parser (dbt_extractor, patched out meanwhile), whose Rust thread pool would not exist in
    a child and would deadlock it; children start it themselves. `serve` refuses to fork from a process that
    still has a second thread. What a child inherits is then the state of a
    dbtRunner process between two invocations, which dbt supports; the harness's
    `--real-dbt` mode runs the same sequences through the real dbt executable to check that
    the fork server changes nothing."""
    import gc
    import tempfile

    import duckdb  # noqa: F401
    from dbt.cli.main import dbtRunner
    import dbt.adapters.duckdb  # noqa: F401

    import dbt.clients.jinja_static
    import dbt.parser.models
    import dbt.parser.unit_tests
    from dbt_extractor import ExtractionError

    def no_extractor(_source):
        raise ExtractionError("disabled during the fork server's warm-up")

    patched = (dbt.parser.models, dbt.parser.unit_tests, dbt.clients.jinja_static)
    originals = [m.py_extract_from_source for m in patched]
    for module in patched:
        module.py_extract_from_source = no_extractor
    cwd = os.getcwd()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="orc-diff-warm-") as tmp:
        for rel, text in _WARM_FILES.items():
            path = Path(tmp) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        os.chdir(tmp)
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        try:
            for args in (["build"], ["build"], ["ls"], ["show", "--inline", "select 1"],
                         ["source", "freshness"], ["test"], ["run", "--full-refresh"]):
                dbtRunner().invoke([*args, "--quiet", "--no-static-parser", "--profiles-dir", tmp])
        finally:
            from dbt.adapters.duckdb.connections import DuckDBConnectionManager
            from dbt.adapters.factory import reset_adapters
            from dbt import deprecations

            if DuckDBConnectionManager._ENV is not None:
                DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager.close_all_connections()
            reset_adapters()
            deprecations.reset_deprecations()
            gc.collect()
            for module, original in zip(patched, originals):
                module.py_extract_from_source = original
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)


def _handle(conn: socket.socket) -> None:
    """In a forked handler: read the request, run dbt in a grandchild, and report its exit
    code only once that process has ended (so every file it held, such as the DuckDB lock,
    is released before the client returns)."""
    size = _HEADER.unpack(_recv_exact(conn, _HEADER.size))[0]
    body, fds, _flags, _addr = socket.recv_fds(conn, size, 3)
    while len(body) < size:
        body += _recv_exact(conn, size - len(body))
    request = json.loads(body)
    pid = os.fork()
    if pid == 0:
        conn.close()
        code = 1
        try:
            code = _become_dbt(request, fds)
        finally:
            sys.exit(code)  # a normal interpreter exit, as in a real dbt process
    for fd in fds:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    code = code if code >= 0 else 128 - code
    try:
        conn.sendall(_HEADER.pack(code & 0xFF))
    except OSError:
        pass


def _become_dbt(request: dict, fds: list[int]) -> int:
    """In the grandchild: take over the client's stdio, cwd and environment and run dbt's
    console entry point. Returns its exit code."""
    for target, fd in zip((0, 1, 2), fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["dbt", *request["argv"]]
    from dbt.cli.main import cli

    try:
        code = cli()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # report anything dbt let escape, like Python would
        import traceback

        traceback.print_exc()
        code = 1
    return int(code or 0) & 0xFF


def serve(socket_path: str) -> None:
    """Accepts requests forever; one forked child per request (children are auto-reaped)."""
    _preload()
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    if threads != 1:
        raise SystemExit(f"dbt fork server: {threads} threads after warm-up; forking is unsafe")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        os.unlink(socket_path)
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(64)
    Path(socket_path + ".ready").write_text(str(os.getpid()))
    while True:
        conn, _ = server.accept()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 0
            try:
                _handle(conn)
            except SystemExit as exc:
                # the dbt grandchild's sys.exit (see _handle) unwinds to here: it must exit
                # with dbt's code, not the handler's 0 (before, every dbt run exited 0)
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None
                                                                   else 1)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code & 0xFF)
        conn.close()


CLIENT_TEMPLATE = '''#!{python} -S
# dbt client of the differential harness's fork server (generated; see dbt_server.py).
import json, os, socket, struct, sys
SOCK = {sock!r}
REAL_DBT = {real!r}
def main():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(SOCK)
    except OSError:
        os.execv(REAL_DBT, [REAL_DBT] + sys.argv[1:])
    body = json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}).encode()
    s.sendall(struct.pack("!I", len(body)))
    socket.send_fds(s, [body], [0, 1, 2])
    buf = b""
    while len(buf) < 4:
        chunk = s.recv(4 - len(buf))
        if not chunk:
            sys.exit(1)
        buf += chunk
    sys.exit(struct.unpack("!I", buf)[0])
main()
'''


def write_client(path: Path, socket_path: str, real_dbt: Path) -> Path:
    """Writes the client script (executable) that talks to the server at socket_path."""
    path.write_text(CLIENT_TEMPLATE.format(python=sys.executable, sock=socket_path,
                                           real=str(real_dbt)))
    path.chmod(0o755)
    return path


if __name__ == "__main__":
    serve(sys.argv[1])
