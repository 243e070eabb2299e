"""A fork server that makes every dbt process of the tests cheap: a warm Python with dbt.

Starting dbt costs 2-3 s of Python imports per process, and a test or a differential step
starts several (orc's dbt driver, the plain-dbt twin, `dbt run-operation` to steer data).
The server imports dbt (and its adapters) once and warms it up; for every request it forks
a child that does what `python ARGS...` would do with the client's argv, working directory,
environment, open file descriptors and ignored signals: run a script (the `dbt` script
below: dbt's own console entry point) or a `-c` program (orc's dbt driver, which orc starts as
`<dbt's python> -c <driver source>` with its pipes on fds 3 and 4). Each process therefore
runs in a fresh process image copied from a pristine parent: no dbt state (flags, adapters,
connections, manifests) survives from one to the next, which is why a fork server is used
rather than `dbtRunner` in a long-lived process.

`write_clients(dir, ...)` writes two files:
- `python-fork`, a tiny stdlib-only client. It passes every file descriptor it has open over
  a Unix socket (SCM_RIGHTS), so the child reads and writes exactly what the real process
  would (orc's pipes included), forwards SIGINT/SIGTERM/SIGHUP to the child, and exits with
  its exit code. When the server is not reachable it execs the real Python instead.
- `dbt`, a dbt console script whose interpreter line names `python-fork`. Used as `ORC_DBT`,
  orc sees a Python dbt and starts its driver through the client (orc's default driver mode,
  as users get it); run directly, it is a plain dbt invocation.

What the fork server does not reproduce: the process tree (the child is the server's
grandchild, not the caller's child: a signal to the caller's process group reaches only the
client, which forwards SIGINT/SIGTERM/SIGHUP) and a cold start (modules dbt imported during
the warm-up are already loaded). The child does end through the interpreter's normal
shutdown, as a real process does (atexit handlers, finalizers, DuckDB's checkpoint on
close). Tests that depend on the process tree run the real executable (tests/e2e: the
`real_dbt` marker).

Run as a program: `python -m tests.dbt_fork_server SOCKET` (`start` does this).
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import struct
import subprocess
import sys
import time
import types
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
    try:  # imported only (its warm-up would need a server): each PostgreSQL run saves ~0.3 s
        import dbt.adapters.postgres  # noqa: F401
    except ImportError:
        pass

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
            _close_dbt_log_files()
            gc.collect()
            _move_resource_tracker_pipe()
            for module, original in zip(patched, originals):
                module.py_extract_from_source = original
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)


def _close_dbt_log_files() -> None:
    """Closes the log files dbt opened during the warm-up (logs/dbt.log): a child puts the
    caller's descriptors at their own numbers (orc's driver pipes at 3 and 4), and a handler
    still holding one of those numbers would close the caller's pipe when dbt replaces it."""
    from dbt_common.events.event_manager_client import cleanup_event_logger, get_event_manager

    for logger in list(getattr(get_event_manager(), "loggers", [])):
        python_logger = getattr(logger, "_python_logger", None)
        for handler in list(getattr(python_logger, "handlers", [])):
            handler.close()
            python_logger.removeHandler(handler)
    cleanup_event_logger()


_LOW_FDS = 64  # descriptors below this number are the callers' (see _take_fds)


def _move_resource_tracker_pipe() -> None:
    """Moves the pipe to multiprocessing's resource tracker (started by dbt's locks during the
    warm-up, fd 5 or so) above _LOW_FDS, where no caller's descriptor lands."""
    import fcntl
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    fd = getattr(tracker, "_fd", None)
    if fd is not None and fd < _LOW_FDS:
        tracker._fd = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _LOW_FDS)
        os.close(fd)


def _open_descriptors() -> list[str]:
    """This process's open descriptors above stderr and below _LOW_FDS, as
    "number -> target"."""
    out = []
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            out.append(f"{name} -> {os.readlink(f'/proc/self/fd/{name}')}")
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return [d for d in out if 2 < int(d.split()[0]) < _LOW_FDS]


_MAX_FDS = 32


class _ProgramExit(BaseException):
    """Raised in a request's process once its program ended, with the program's exit code:
    serve() turns it into a normal interpreter exit (atexit handlers, finalizers, DuckDB's
    checkpoint on close), where a handler process ends with os._exit."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _handle(conn: socket.socket) -> None:
    """In a forked handler: read the request, run it in a grandchild, tell the client the
    grandchild's pid (so it can forward signals), and report its exit code only once that
    process has ended (so every file it held, such as the DuckDB lock, is released before the
    client returns)."""
    size = _HEADER.unpack(_recv_exact(conn, _HEADER.size))[0]
    body, fds, _flags, _addr = socket.recv_fds(conn, size, _MAX_FDS)
    while len(body) < size:
        body += _recv_exact(conn, size - len(body))
    request = json.loads(body)
    pid = os.fork()
    if pid == 0:
        conn.close()
        code = 1
        try:
            code = _become_python(request, fds)
        finally:
            raise _ProgramExit(code)  # unwinds to serve(), which exits like Python does
    for fd in fds:
        os.close(fd)
    try:
        conn.sendall(_HEADER.pack(pid))
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    code = code if code >= 0 else 128 - code
    try:
        conn.sendall(_HEADER.pack(code & 0xFF))
    except OSError:
        pass


def _take_fds(targets: list[int], fds: list[int]) -> None:
    """Puts each received descriptor at the number it had in the client (first out of the
    way, so that a received descriptor never lands on a number still to be filled)."""
    import fcntl

    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, _LOW_FDS + 192) for fd in fds]
    for fd in fds:
        os.close(fd)
    for target, fd in zip(targets, high):
        os.dup2(fd, target)
        os.close(fd)


def _become_python(request: dict, fds: list[int]) -> int:
    """In the grandchild: take over the client's descriptors, cwd and environment and do what
    `python ARGV...` does (a `-c` program, a `-m` module or a script). Returns the exit code."""
    if any(target >= _LOW_FDS for target in request["fds"]):
        stderr = dict(zip(request["fds"], fds)).get(2)
        if stderr is not None:
            os.write(stderr, f"dbt fork server: descriptor numbers {request['fds']} reach "
                             f"{_LOW_FDS}, where the server's own are\n".encode())
        return 70
    _take_fds(request["fds"], fds)
    # The signal dispositions a real process would inherit from the caller, not the server's:
    # a signal the caller ignores stays ignored (as in a shell's background job), any other
    # is handled as Python starts it (SIGINT raises KeyboardInterrupt).
    ignored = set(request.get("ignored_signals", []))
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if int(signum) in ignored:
            signal.signal(signum, signal.SIG_IGN)
        else:
            signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT
                          else signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = list(request["argv"])
    while argv and argv[0].startswith("-") and argv[0] not in ("-c", "-m", "-"):
        argv.pop(0)  # interpreter flags such as -S or -u: nothing to do in a warm process
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    try:
        if argv and argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            sys.path.insert(0, "")
            exec(compile(argv[1], "<string>", "exec"), main.__dict__)
        elif argv and argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = argv
            sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
            runpy.run_path(argv[0], run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException:  # report anything the program let escape, like Python would
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
    if _open_descriptors():  # a child would overwrite them (see _take_fds)
        raise SystemExit(f"dbt fork server: descriptors left open by the warm-up: "
                         f"{_open_descriptors()}")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        os.unlink(socket_path)
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    server.listen(64)
    Path(socket_path + ".ready").write_text(str(os.getpid()))
    # The server ends with the process that started it, even one killed without a chance to
    # stop it (a pytest worker killed by xdist): no orphaned servers.
    parent = os.getppid()
    server.settimeout(2.0)
    while True:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            if os.getppid() != parent:
                return
            continue
        conn.settimeout(None)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 0
            try:
                _handle(conn)
            except _ProgramExit as exc:
                # the request's own process (see _handle): it ends as the real process would,
                # through the interpreter's shutdown, with the program's exit code
                raise SystemExit(exc.code)
            except BaseException:  # noqa: BLE001 - a handler must never return to the loop
                import traceback

                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        conn.close()


_CLIENT = '''#!{python} -S
# Client of the dbt fork server (generated by tests/dbt_fork_server.py): runs `python ARGS`
# in a warm forked process with this process's argv, cwd, environment and descriptors.
import json, os, signal, socket, struct, sys
SOCK = {sock!r}
REAL_PYTHON = {python!r}
def recv_int(s):
    buf = b""
    while len(buf) < 4:
        chunk = s.recv(4 - len(buf))
        if not chunk:
            sys.exit(1)
        buf += chunk
    return struct.unpack("!I", buf)[0]
def main():
    fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
    fds = [fd for fd in fds if _is_open(fd)]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(SOCK)
    except OSError:
        os.execv(REAL_PYTHON, [REAL_PYTHON] + sys.argv[1:])
    ignored = [int(n) for n in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
               if signal.getsignal(n) == signal.SIG_IGN]
    body = json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ),
                       "fds": fds, "ignored_signals": ignored}}).encode()
    s.sendall(struct.pack("!I", len(body)))
    socket.send_fds(s, [body], fds)
    for fd in fds:
        if fd > 2:
            os.close(fd)  # the child holds them now (a pipe's end must not stay open here)
    pid = recv_int(s)
    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except OSError:
            pass
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    sys.exit(recv_int(s))
def _is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
main()
'''

_DBT_SCRIPT = '''#!{client}
# dbt through the fork server (generated by tests/dbt_fork_server.py)
import sys
from dbt.cli.main import cli
sys.exit(cli())
'''


def write_clients(directory: Path, socket_path: str, python: str) -> Path:
    """Writes `python-fork` and `dbt` (both executable) into `directory` for the server at
    socket_path; `python` is the real interpreter to fall back on. Returns the `dbt` path."""
    directory.mkdir(parents=True, exist_ok=True)
    client = directory / "python-fork"
    client.write_text(_CLIENT.format(python=python, sock=socket_path))
    client.chmod(0o755)
    dbt = directory / "dbt"
    dbt.write_text(_DBT_SCRIPT.format(client=client))
    dbt.chmod(0o755)
    return dbt


class ForkServer:
    """A running fork server (started by `start`): `dbt` is the dbt script to run, `bin` the
    directory of the clients (put it first on PATH to make `dbt` this one)."""

    def __init__(self, proc: subprocess.Popen, dbt: Path, log: Path):
        self.proc, self.dbt, self.log = proc, dbt, log
        self.bin = dbt.parent  # `python-fork` and `dbt`

    def stop(self) -> None:
        """Ends the server and every handler it still has (its own process group)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            self.proc.wait()


def start(work: Path, python: str, env: dict[str, str], repo: Path) -> ForkServer:
    """Starts a fork server with `python` (the venv's interpreter, which must have dbt) in
    its own process group; its socket, log and clients go to `work`. Waits until it is
    warm (up to two minutes). `env` is the server's environment (every request brings its
    own)."""
    work.mkdir(parents=True, exist_ok=True)
    sock = str(work / "dbt.sock")
    log = work / "dbt_server.log"
    proc = subprocess.Popen([python, "-m", "tests.dbt_fork_server", sock], cwd=repo, env=env,
                            stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not Path(sock + ".ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"dbt fork server did not start; see {log}")
        time.sleep(0.1)
    return ForkServer(proc, write_clients(work / "bin", sock, python), log)


if __name__ == "__main__":
    serve(sys.argv[1])
