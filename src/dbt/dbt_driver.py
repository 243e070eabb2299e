# orc's dbt driver: runs inside dbt-core's own Python interpreter, started by orc as
# `python -c <this file> ` with a private request pipe on fd 3 and a reply pipe on fd 4
# (docs/design.md, "One dbt process per run"). It is embedded in the orc binary.
#
# Protocol, one line each way per message:
#   driver -> orc, once at start: "ready <dbt version>" or "unavailable <why>" (then it exits)
#   orc -> driver: a JSON object {"args": [...], "stdout": path|null, "stderr": path|null,
#                                 "manifest_key": [...]}
#   driver -> orc: "exit <code>" once the invocation ended
# dbt runs through its documented programmatic API (dbtRunner). The project is parsed once
# per manifest_key (the arguments that shape parsing: project dir, profiles, target, vars)
# and the parsed manifest is handed to every later invocation with the same key. With a
# capture path, the invocation's stdout/stderr (file descriptors 1 and 2, so dbt's own
# output exactly as a separate process would print it) go to that file; without, to orc's
# terminal. Exit codes are the ones the `dbt` command gives: 0 success, 1 failure with
# results, 2 an error without results.
import json
import multiprocessing.pool
import os
import sys
import weakref

if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]  # like the `dbt` script: the working directory is not an import path

try:
    _requests = os.fdopen(3, "r", encoding="utf-8")
    _replies = os.fdopen(4, "w", encoding="utf-8")
except OSError as e:
    sys.stderr.write("orc dbt driver: started without its pipes (%s)\n" % e)
    sys.exit(2)


def _reply(line):
    _replies.write(line + "\n")
    _replies.flush()


try:
    from dbt.cli.main import dbtRunner
    from dbt.version import __version__ as _dbt_version
except BaseException as e:  # noqa: BLE001 - any failure means "use separate processes"
    _reply("unavailable cannot import dbt-core in %s: %s" % (sys.executable, repr(e)[:300]))
    sys.exit(0)
if not str(_dbt_version).startswith("1."):
    _reply("unavailable dbt-core %s is not 1.x" % _dbt_version)
    sys.exit(0)


class _Redirect:
    """Points file descriptors 1 and 2 at files for the scope (None: leave as they are)."""

    def __init__(self, out_path, err_path):
        self.paths = ((1, out_path), (2, err_path))
        self.saved = []

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, path in self.paths:
            if path is None:
                continue
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self.saved.append((fd, os.dup(fd)))
            os.dup2(target, fd)
            os.close(target)
        return self

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in self.saved:
            os.dup2(saved, fd)
            os.close(saved)
        return False


def _exit_code(result):
    if result.success:
        return 0
    if result.exception is None:
        return 1
    return 130 if isinstance(result.exception, KeyboardInterrupt) else 2


# The thread pools made during the current invocation. dbt leaves its pool running when an
# error ends an invocation by an exception (a failing `show --inline`, a lost connection);
# in a process that outlives the invocation, those pools and their threads would pile up
# and be collected at interpreter exit, where a pool's __del__ wrote to a closed pipe and
# printed "Exception ignored in: <function Pool.__del__ ...> OSError: [Errno 9]".
_invocation_pools = weakref.WeakSet()
_pool_init = multiprocessing.pool.Pool.__init__


def _tracked_pool_init(self, *args, **kwargs):
    _pool_init(self, *args, **kwargs)
    _invocation_pools.add(self)


multiprocessing.pool.Pool.__init__ = _tracked_pool_init


def _end_invocation_pools():
    """Terminates the pools the invocation made: as dbt does when it cancels a run, and what a
    separate dbt process would do by exiting. A pool dbt closed and joined is already done."""
    for pool in list(_invocation_pools):
        _invocation_pools.discard(pool)
        pool.terminate()


_manifest = None
_manifest_key = None


def _manifest_for(key):
    """The parsed manifest for `key`, parsed once, and whether this call parsed it (its
    `dbt parse` wrote target/manifest.json just now); None when parsing failed (the
    invocation then parses by itself and reports the error in its own output)."""
    global _manifest, _manifest_key
    if key is None:
        return None, False
    if key != _manifest_key:
        _manifest_key = key
        with _Redirect(os.devnull, os.devnull):
            parsed = dbtRunner().invoke(["parse"] + list(key))
        _manifest = parsed.result if parsed.success else None
        return _manifest, _manifest is not None
    return _manifest, False


def _without_second_manifest_write(args, just_parsed):
    """`args` of a `dbt show` that asks to write the manifest (orc's warehouse question, which
    also refreshes target/manifest.json) with --no-write-json instead when the parse of this
    very request wrote it: the same manifest, written once (about 2 s at 1,000 models)."""
    if just_parsed and args[:1] == ["show"] and "--write-json" in args:
        args = list(args)
        args[args.index("--write-json")] = "--no-write-json"
    return args


def _invoke(manifest, args):
    """One dbt invocation on the shared manifest, which it leaves with the nodes it had:
    `show --inline`/`compile --inline` add their `inline_query` node and remove it only after
    a successful run, so a failing query would leave it behind and every later inline query
    of this process would fail ("two sql_operations with the name inline_query")."""
    nodes = getattr(manifest, "nodes", None)
    before = set(nodes) if nodes is not None else None
    try:
        return dbtRunner(manifest=manifest).invoke(args)
    finally:
        _end_invocation_pools()
        if before is not None:
            for unique_id in [u for u in nodes if u not in before]:
                nodes.pop(unique_id, None)


def _serve():
    for line in _requests:
        if not line.strip():
            continue
        request = json.loads(line)
        manifest, just_parsed = _manifest_for(request.get("manifest_key"))
        args = _without_second_manifest_write(list(request["args"]), just_parsed)
        with _Redirect(request.get("stdout"), request.get("stderr")):
            result = _invoke(manifest, args)
        code = _exit_code(result)
        _reply("exit %d" % code)
        if code == 130:
            return  # interrupted: no further invocation in this run


try:
    _reply("ready %s" % _dbt_version)
    _serve()
except KeyboardInterrupt:
    sys.exit(130)
except BrokenPipeError:
    sys.exit(0)  # orc went away
finally:
    for _pipe in (_requests, _replies):
        try:
            _pipe.close()
        except OSError:
            pass
