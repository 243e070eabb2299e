#!/usr/bin/env python3
"""Twin trial: orc against plain dbt on two copies of one real DuckDB project.

Two copies (twins) of a project are made from one prepared base: the *orc twin* runs
`orc dbt <command>` with `use_stateful = true`, the *plain twin* runs `dbt <command>`. Each has
its own DuckDB file (same file name, so the same database name and relation names). Every
step changes both twins identically (file edits, SQL on the warehouse, the twin clock), runs
both, and then compares every relation of the two databases: same relations, same kind,
same columns, same rows as a multiset. A relation whose content differs is **stale**: orc left
it other than plain dbt built it. Per step the report gives orc's built/reused counts (from
`target/orc_decisions.json`), the stale relations with orc's decision and reason code for
their node, and, where the step says nothing relevant changed (`"expect": "no_rebuild"`), the
relations orc built anyway for a reason other than an always-built rule.

Usage (see tests/twin/README.md):
    python tests/twin/twin_trial.py PROJECT_DIR [--steps STEPS.json] [--overlay DIR]
        [--work DIR] [--json OUT.json] [--only-steps a,b,...]

The orc binary is $ORC_BIN (default /work/main/build/orc); dbt is the first on PATH. The
project's profile must read the DuckDB path from env_var('TWIN_DUCKDB_PATH').
Exit status: 1 when a step has a stale relation (or a control step, `"expect": "stale"`, has
none), the setup fails, or the twins' dbt exit codes differ; else 0.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# Reason codes of nodes that orc builds by rule whatever changed: not "unexpected" in a
# step whose files and data changed nothing relevant.
ALWAYS_BUILT = {"seed_always", "package_model_without_parents", "snapshot", "volatile",
                "always_built", "full_refresh", "empty_run"}
RELATION_TYPES = {"model", "seed", "snapshot"}
SKIP_SCHEMAS = {"information_schema", "pg_catalog"}

# Steps used when no --steps file is given: changes any dbt project can take.
BUILTIN_STEPS = {
    "description": "generic steps: first build, nothing changed, a root comment, an unread var",
    "steps": [
        {"name": "first_build"},
        {"name": "nothing_changed", "expect": "no_rebuild"},
        {"name": "root_yml_comment", "expect": "no_rebuild",
         "edits": [{"file": "dbt_project.yml", "append": "\n# twin trial: a comment only\n"}]},
        {"name": "vars_unread_key", "expect": "no_rebuild",
         "args": ["--vars", "{twin_trial_unread_key: 42}"]},
        {"name": "nothing_changed_again", "expect": "no_rebuild"},
    ],
}


@dataclass
class Twin:
    """One copy of the project: its directory, its DuckDB file and how dbt is started in it."""
    name: str
    root: Path
    db: Path
    command: list[str]  # prefix: ["dbt"] or [orc, "dbt"]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["TWIN_DUCKDB_PATH"] = str(self.db)
        env["DBT_PROFILES_DIR"] = str(self.root)
        env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        env.pop("DBT_PROJECT_DIR", None)
        return env


@dataclass
class StepResult:
    """Everything the report says about one step."""
    name: str
    orc_rc: int = 0
    plain_rc: int = 0
    orc_seconds: float = 0.0
    plain_seconds: float = 0.0
    built: dict[str, int] = field(default_factory=dict)     # resource_type -> count
    reused: dict[str, int] = field(default_factory=dict)
    built_codes: dict[str, int] = field(default_factory=dict)   # relation nodes only
    reused_codes: dict[str, int] = field(default_factory=dict)
    not_run: int = 0
    relations_compared: int = 0
    stale: list[dict] = field(default_factory=list)
    unexpected_builds: list[dict] = field(default_factory=list)
    unchanged_builds: dict[str, int] = field(default_factory=dict)  # reason -> count
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Project preparation


def copy_project(src: Path, dst: Path) -> None:
    """Copy a project tree, following symlinks (dbt deps links local packages), without
    target/, logs/ or DuckDB files."""
    def ignore(directory: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in ("target", "logs", ".orchestra")
                or n.endswith((".duckdb", ".duckdb.wal"))}
        if Path(directory).resolve() == src.resolve():
            skip |= {n for n in names if n == "pyproject.toml"}
        return skip
    shutil.copytree(src, dst, symlinks=False, ignore=ignore)


def apply_edit(root: Path, edit: dict) -> None:
    """One file edit: {"file", "append"} | {"file", "replace": [old, new]} (old must occur
    exactly once) | {"file", "write"} (whole content) | {"file", "delete": true}."""
    path = root / edit["file"]
    if "write" in edit:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(edit["write"])
        return
    if edit.get("delete"):
        path.unlink()
        return
    text = path.read_text()
    if "append" in edit:
        text += edit["append"]
    elif "replace" in edit:
        old, new = edit["replace"]
        count = text.count(old)
        if count != 1:
            raise SystemExit(f"edit of {path}: {old!r} occurs {count} times (must be once)")
        text = text.replace(old, new)
    else:
        raise SystemExit(f"edit of {path}: nothing to do ({edit})")
    path.write_text(text)


def run_sql(db: Path, statements: list[str]) -> None:
    """Run statements on a DuckDB file (no dbt process may hold it)."""
    con = duckdb.connect(str(db))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def clock_at(spec: dict, index: int) -> str | None:
    """The twin clock's value at step `index` (0 = setup), or None without a clock."""
    if not spec:
        return None
    start = dt.datetime.fromisoformat(spec["start"])
    return (start + dt.timedelta(minutes=spec.get("step_minutes", 60) * index)).isoformat(sep=" ")


def set_clock(spec: dict, db: Path, now: str | None) -> None:
    if now is not None:
        run_sql(db, [s.replace("{now}", now) for s in spec["sql"]])


def run_dbt(twin: Twin, args: list[str], log: Path) -> tuple[int, float]:
    """Run the twin's command with args in its directory; output to log. (rc, seconds)."""
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(twin.command + args, cwd=twin.root, env=twin.env(),
                              stdout=out, stderr=subprocess.STDOUT)
    return proc.returncode, time.monotonic() - started


# ---------------------------------------------------------------------------------------------
# Comparison


def read_database(db: Path) -> dict[str, tuple]:
    """{"schema.name": (kind, columns, sorted rows)} for every relation of the file, or
    ("ERROR", message) when the relation cannot be read. Values are compared as text."""
    out: dict[str, tuple] = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2").fetchall()
        columns = collections.defaultdict(list)
        for schema, table, column, dtype in con.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns where table_catalog = current_database() "
                "order by table_schema, table_name, ordinal_position").fetchall():
            columns[(schema, table)].append(f"{column}:{dtype}")
        for schema, table, kind in relations:
            if schema in SKIP_SCHEMAS:
                continue
            key = f"{schema}.{table}".lower()
            try:
                rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
                out[key] = (kind, tuple(columns[(schema, table)]),
                            tuple(sorted(tuple(_text(v) for v in r) for r in rows)))
            except duckdb.Error as exc:
                out[key] = ("ERROR", str(exc).splitlines()[0][:300])
    finally:
        con.close()
    return out


def _text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(round(value, 9))
    return str(value)


def describe_difference(a: tuple | None, b: tuple | None) -> str:
    """A short account of how the orc twin's relation (a) differs from the plain twin's (b)."""
    if a is None:
        return "missing in the orc twin"
    if b is None:
        return "missing in the plain twin"
    if a[0] != b[0]:
        return f"kind {a[0]} vs {b[0]}" if a[0] != "ERROR" else f"orc twin: {a[1]}"
    if a[0] == "ERROR" or b[0] == "ERROR":
        return f"orc: {a[1]} / plain: {b[1]}"
    if a[1] != b[1]:
        return f"columns differ: {list(a[1])} vs {list(b[1])}"
    ca, cb = collections.Counter(a[2]), collections.Counter(b[2])
    only_orc, only_plain = ca - cb, cb - ca
    text = (f"{len(a[2])} vs {len(b[2])} rows; {sum(only_orc.values())} only in orc's, "
            f"{sum(only_plain.values())} only in plain's")
    if only_orc and only_plain:  # name the columns of the first pair of rows that differ
        ra, rb = sorted(only_orc)[0], sorted(only_plain)[0]
        cols = [f"{c.split(':')[0]} {x!r} vs {y!r}" for c, x, y in zip(a[1], ra, rb) if x != y]
        text += f"; e.g. {'; '.join(cols[:4])}"
    else:
        text += f"; e.g. {str(sorted(only_orc or only_plain)[0])[:200]}"
    return text


def relation_owners(manifest: Path) -> dict[str, str]:
    """{"schema.identifier" (lower case): unique_id} from a manifest's relation names."""
    owners: dict[str, str] = {}
    if not manifest.exists():
        return owners
    doc = json.loads(manifest.read_text())
    for uid, node in list(doc.get("nodes", {}).items()) + list(doc.get("sources", {}).items()):
        name = node.get("relation_name")
        if not name:
            continue
        parts = [p.strip('"').lower() for p in name.split(".")]
        owners[".".join(parts[-2:])] = uid
    return owners


# ---------------------------------------------------------------------------------------------
# The trial


def decisions_of(orc_twin: Twin) -> dict:
    path = orc_twin.root / "target" / "orc_decisions.json"
    return json.loads(path.read_text()) if path.exists() else {}


def explained_builds(by_id: dict[str, dict]) -> set[str]:
    """Nodes built by an always-built rule, or because a parent so built was built
    (parent_built naming it), transitively: the builds a step that changes nothing
    relevant still makes."""
    explained = {uid for uid, n in by_id.items()
                 if n.get("decision") == "build" and n.get("reason_code") in ALWAYS_BUILT}
    grew = True
    while grew:
        grew = False
        for uid, n in by_id.items():
            if (uid not in explained and n.get("decision") == "build"
                    and n.get("reason_code") in ("parent_built", "source_relation_built")
                    and n.get("reason_subject") in explained):
                explained.add(uid)
                grew = True
    return explained


def summarise(result: StepResult, decisions: dict, expect: str | None) -> dict[str, dict]:
    """Fill the counts from orc_decisions.json; {unique_id: node record}."""
    by_id = {n["unique_id"]: n for n in decisions.get("nodes", [])}
    explained = explained_builds(by_id)
    built, reused = collections.Counter(), collections.Counter()
    built_codes, reused_codes = collections.Counter(), collections.Counter()
    for node in by_id.values():
        kind = node.get("resource_type", "?")
        code = node.get("reason_code", "?")
        if node.get("decision") == "build":
            built[kind] += 1
            if kind in RELATION_TYPES:
                built_codes[code] += 1
                if expect == "no_rebuild" and node["unique_id"] not in explained:
                    result.unexpected_builds.append(
                        {"node": node["unique_id"], "reason_code": code,
                         "subject": node.get("reason_subject"),
                         "detail": node.get("reason_detail")})
        else:
            reused[kind] += 1
            if kind in RELATION_TYPES:
                reused_codes[code] += 1
    result.built, result.reused = dict(sorted(built.items())), dict(sorted(reused.items()))
    result.built_codes = dict(sorted(built_codes.items()))
    result.reused_codes = dict(sorted(reused_codes.items()))
    result.not_run = len(decisions.get("not_run", []) or [])
    return by_id


def trial(args: argparse.Namespace) -> int:
    spec = json.loads(Path(args.steps).read_text()) if args.steps else BUILTIN_STEPS
    project = Path(args.project).resolve()
    work = Path(args.work).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    # A copy of the binary: a rebuild of ORC_BIN during the trial must not change it.
    orc_source = Path(os.environ.get("ORC_BIN", "/work/main/build/orc"))
    (work / "bin").mkdir()
    orc_bin = str(work / "bin" / "orc")
    shutil.copy2(orc_source, orc_bin)
    orc_sha = hashlib.sha256(Path(orc_bin).read_bytes()).hexdigest()[:16]
    print(f"orc: {orc_source} (sha256 {orc_sha}...), copied to {orc_bin}", flush=True)
    db_name = spec.get("duckdb_file", "twin.duckdb")
    clock = spec.get("clock") or {}

    # The base: project + overlay, setup commands and SQL, then split into the twins.
    base = Twin("base", work / "base", work / "base" / db_name, ["dbt"])
    copy_project(project, base.root)
    if args.overlay:
        shutil.copytree(Path(args.overlay), base.root, dirs_exist_ok=True)
    set_clock(clock, base.db, clock_at(clock, 0))
    for i, action in enumerate(spec.get("setup", [])):
        for edit in action.get("edits", []):
            apply_edit(base.root, edit)
        if action.get("sql"):
            run_sql(base.db, action["sql"])
        if action.get("dbt"):
            rc, _ = run_dbt(base, action["dbt"], work / f"setup_{i}.log")
            if rc != 0:
                print(f"setup step {i} (dbt {' '.join(action['dbt'])}) failed: {work}/setup_{i}.log")
                return 1
    shutil.rmtree(base.root / "target", ignore_errors=True)
    shutil.rmtree(base.root / "logs", ignore_errors=True)

    twins = {}
    for name, command in (("orc", [orc_bin, "dbt"]), ("plain", ["dbt"])):
        root = work / name
        shutil.copytree(base.root, root, symlinks=False)
        twins[name] = Twin(name, root, root / db_name, command)
    orc, plain = twins["orc"], twins["plain"]
    settings = "".join(f"{k} = {json.dumps(v)}\n" for k, v in spec.get("orc_settings", {}).items())
    (orc.root / "pyproject.toml").write_text(
        '[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = ".orchestra/dbt_state.json"\n'
        + settings)
    (orc.root / ".orchestra").mkdir()
    (orc.root / ".orchestra" / "dbt_state.json").write_text('{"state": {}}\n')

    only = set(args.only_steps.split(",")) if args.only_steps else None
    results: list[StepResult] = []
    failed = False
    before: dict[str, tuple] | None = None  # the orc twin's relations after the last step
    for index, step in enumerate(spec["steps"], start=1):
        if only and step["name"] not in only:
            continue
        result = StepResult(step["name"])
        now = step.get("clock", clock_at(clock, index))
        for twin in (orc, plain):
            set_clock(clock, twin.db, now)
            for edit in step.get("edits", []):
                apply_edit(twin.root, edit)
            if step.get("sql"):
                run_sql(twin.db, step["sql"])
        command = [step.get("command", "build")] + step.get("args", [])
        logs = work / "logs"
        logs.mkdir(exist_ok=True)
        stem = f"{index:02d}_{step['name']}"
        result.orc_rc, result.orc_seconds = run_dbt(orc, command, logs / f"{stem}.orc.log")
        shutil.copy(orc.root / "target" / "orc_decisions.json",
                    logs / f"{stem}.orc_decisions.json") \
            if (orc.root / "target" / "orc_decisions.json").exists() else None
        result.plain_rc, result.plain_seconds = run_dbt(plain, command, logs / f"{stem}.plain.log")
        if result.orc_rc != result.plain_rc:
            result.notes.append(f"exit codes differ: orc {result.orc_rc}, plain {result.plain_rc}")
            failed = True

        nodes = summarise(result, decisions_of(orc), step.get("expect"))
        owners = relation_owners(plain.root / "target" / "manifest.json")
        a, b = read_database(orc.db), read_database(plain.db)
        if before is not None:
            unchanged = collections.Counter()
            for key, uid in owners.items():
                node = nodes.get(uid)
                if (node and node.get("decision") == "build"
                        and node.get("resource_type") in ("model", "snapshot")
                        and key in before and before.get(key) == a.get(key)):
                    unchanged[node.get("reason_code", "?")] += 1
            result.unchanged_builds = dict(sorted(unchanged.items()))
        before = a
        result.relations_compared = len(set(a) | set(b))
        for key in sorted(set(a) | set(b)):
            if a.get(key) == b.get(key):
                continue
            uid = owners.get(key.lower())
            node = nodes.get(uid, {}) if uid else {}
            result.stale.append({
                "relation": key, "node": uid, "decision": node.get("decision"),
                "reason_code": node.get("reason_code"), "reason": node.get("reason"),
                "difference": describe_difference(a.get(key), b.get(key))})
        if step.get("expect") == "stale":  # a negative control: the trial must see it
            if not result.stale:
                result.notes.append("expected stale relations (a control step) and found none")
                failed = True
        elif result.stale:
            failed = True
        results.append(result)
        print(format_step(index, result), flush=True)

    print()
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"project": str(project), "steps_file": args.steps, "orc_bin": str(orc_source), "orc_sha256": orc_sha,
             "work": str(work), "results": [r.__dict__ for r in results]}, indent=2) + "\n")
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# Report


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "-"


def format_step(index: int, r: StepResult) -> str:
    lines = [f"[{index:02d}] {r.name}: orc rc {r.orc_rc} ({r.orc_seconds:.1f}s), plain rc "
             f"{r.plain_rc} ({r.plain_seconds:.1f}s); built {_counts(r.built)}; reused "
             f"{_counts(r.reused)}; {r.relations_compared} relations compared, "
             f"{len(r.stale)} stale"]
    lines.append(f"     relation nodes built by reason: {_counts(r.built_codes)}")
    lines.append(f"     relation nodes reused by reason: {_counts(r.reused_codes)}")
    if r.unchanged_builds:
        lines.append(f"     built, content unchanged (models): {_counts(r.unchanged_builds)}")
    for s in r.stale:
        lines.append(f"     STALE {s['relation']} (node {s['node']}, orc {s['decision']} "
                     f"{s['reason_code']}): {s['difference']}")
    for u in r.unexpected_builds:
        lines.append(f"     UNEXPECTED BUILD {u['node']}: {u['reason_code']} "
                     f"{u['subject'] or ''} {u['detail'] or ''}".rstrip())
    for n in r.notes:
        lines.append(f"     NOTE {n}")
    return "\n".join(lines)


def format_table(results: list[StepResult]) -> str:
    """The figures table (Markdown)."""
    rows = ["| # | step | relations compared | stale | relation nodes built / reused | "
            "built by reason | built, content unchanged | unexpected builds |",
            "|---:|---|---:|---:|---|---|---|---:|"]
    for i, r in enumerate(results, start=1):
        b = sum(r.built_codes.values())
        u = sum(r.reused_codes.values())
        rows.append(f"| {i} | {r.name} | {r.relations_compared} | {len(r.stale)} | {b} / {u} | "
                    f"{_counts(r.built_codes)} | {_counts(r.unchanged_builds)} | "
                    f"{len(r.unexpected_builds)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", help="the dbt project directory (dbt_project.yml)")
    parser.add_argument("--steps", help="steps file (JSON); default: a built-in generic list")
    parser.add_argument("--overlay", help="directory copied over the base before setup")
    parser.add_argument("--work", default="/tmp/orc_twin_trial",
                        help="where the base and the twins are made (emptied first)")
    parser.add_argument("--json", help="write every result to this file")
    parser.add_argument("--only-steps", help="comma-separated step names to run (debugging)")
    return trial(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
