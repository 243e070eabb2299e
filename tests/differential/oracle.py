"""The oracle's building blocks: reading relations out of a DuckDB file, orc's reason codes,
and the classification of one node after one step.

What "the same" means: the same relation kind (information_schema.tables.table_type: BASE
TABLE or VIEW) and the same rows as a multiset (every value cast to text, rows sorted).
Audit-timestamp columns (`_loaded_at`, `_orc_audit_ts`: `current_timestamp` at build or
read time) are left out: they differ between any two builds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .generator import AUDIT_COLUMNS

Content = tuple  # ("BASE TABLE" | "VIEW", rows) ; ("ERROR", message) ; or None when missing


def read_relations(db_path: Path, relations: dict[str, str],
                   schema: str = "main") -> dict[str, Content | None]:
    """{key: content} for each {key: relation name in `schema`} (None when missing).
    Opens the file read-only; call only when no dbt process is using it."""
    out: dict[str, Content | None] = {}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        kinds = dict(con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = ?", [schema]).fetchall())
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
                "select table_name, column_name from information_schema.columns "
                "where table_schema = ? order by table_name, ordinal_position",
                [schema]).fetchall():
            if column not in AUDIT_COLUMNS:
                columns.setdefault(table, []).append(f'"{column}"')
        for key, rel in relations.items():
            kind = kinds.get(rel)
            if kind is None:
                out[key] = None
                continue
            try:
                cols = ", ".join(columns.get(rel, [])) or "*"
                rows = con.execute(f'select {cols} from "{schema}"."{rel}"').fetchall()
                out[key] = (kind, tuple(sorted(tuple(_text(v) for v in r) for r in rows)))
            except duckdb.Error as exc:
                out[key] = ("ERROR", str(exc).splitlines()[0][:200])
    finally:
        con.close()
    return out


def _text(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return repr(round(v, 9))
    return str(v)


def describe(content: Content | None, limit: int = 6) -> str:
    """Short human form of a relation's content."""
    if content is None:
        return "missing"
    kind, rows = content
    if kind == "ERROR":
        return f"unreadable ({rows})"
    shown = ", ".join("(" + ",".join(r) + ")" for r in rows[:limit])
    more = f", ... {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{kind} {len(rows)} rows: {shown}{more}"


# ---- orc's decision record ---------------------------------------------------------------

_REASON_PATTERNS = [
    # (regex on the reason text, code) for binaries that predate reason_code
    (r"^--full-refresh", "full_refresh"),
    (r"^snapshot", "snapshot_always"),
    (r"^seed: always built", "seed_always"),
    (r"^seed file unchanged", "seed_unchanged"),
    (r"^model of package .* without parents", "package_root"),
    (r"^tests source", "tests_source"),
    (r"^no state entry", "no_state_entry"),
    (r"^checksum changed", "code_changed"),
    (r"^freshness of .* is unknown", "source_freshness_unknown"),
    (r"^no max_loaded_at recorded", "source_no_recorded_freshness"),
    (r"^new data in", "source_new_data"),
    (r"^parent .* is built in this run", "parent_built"),
    (r"^parent .* (has no state entry|was not an input|was rebuilt)", "parent_rebuilt"),
    (r"^build_after updates_on all", "build_after_waiting_for_all"),
    (r"^build_after", "build_after_window"),
    (r"^all parents reused", "test_parents_reused"),
    (r"^no new upstream data", "no_new_data"),
]


def reason_code(decision: dict) -> str:
    """orc's reason_code, or one derived from the reason text for older binaries."""
    code = decision.get("reason_code")
    if code:
        return code
    reason = decision.get("reason", "")
    for pattern, code in _REASON_PATTERNS:
        if re.search(pattern, reason):
            return code
    return "other"


BUILD_AFTER_CODES = ("build_after_window", "build_after_waiting_for_all")


def read_decisions(target_dir: Path) -> dict[str, dict] | None:
    """{unique_id: decision} from target/orc_decisions.json (None when absent)."""
    path = target_dir / "orc_decisions.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return {n["unique_id"]: n for n in data.get("nodes", [])}


def read_run_results(target_dir: Path) -> dict[str, str]:
    """{unique_id: status} from target/run_results.json ({} when absent)."""
    path = target_dir / "run_results.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}
    return {r["unique_id"]: r["status"] for r in data.get("results", [])}


def _results(target_dir: Path) -> list[dict]:
    path = target_dir / "run_results.json"
    if not path.exists():
        return []
    try:
        return json.loads(path.read_text()).get("results", [])
    except json.JSONDecodeError:
        return []


def read_timing(target_dir: Path) -> dict[str, tuple[str, str]]:
    """{unique_id: (started_at, completed_at)} of each result's execute phase (ISO-8601 UTC
    strings, comparable as text) from target/run_results.json."""
    out = {}
    for r in _results(target_dir):
        for t in r.get("timing") or []:
            if t.get("name") == "execute" and t.get("started_at") and t.get("completed_at"):
                out[r["unique_id"]] = (t["started_at"], t["completed_at"])
    return out


def read_compiled(target_dir: Path) -> dict[str, str]:
    """{unique_id: compiled SQL} of the models dbt ran successfully."""
    return {r["unique_id"]: r["compiled_code"] for r in _results(target_dir)
            if r.get("status") == "success" and r["unique_id"].startswith("model.")
            and r.get("compiled_code")}


# ---- findings ------------------------------------------------------------------------------

@dataclass
class Finding:
    """One stale node (or another discrepancy) after one step."""

    seed: int
    step_index: int          # 0 = the initial build
    step: str
    node: str
    kind: str                # content | kind | missing | hidden_error | orc_failed | build_after_claim
    reason_code: str
    reason: str
    detail: str
    via_view: str = ""       # a view orc did not rebuild through which new data arrives
    via_stale: str = ""      # an upstream node that is itself stale in the same step

    @property
    def category(self) -> str:
        """How findings are grouped and shrunk: kind, orc's reason code, and whether the
        node reads an un-rebuilt view or a node that is itself stale."""
        return f"{self.kind}, orc {self.reason_code}" + (
            ", reads a view orc did not rebuild" if self.via_view else
            ", downstream of a stale node" if self.via_stale else "")

    def line(self) -> str:
        via = (f" [via view {self.via_view}]" if self.via_view else
               f" [downstream of stale {self.via_stale}]" if self.via_stale else "")
        return (f"seed {self.seed} step {self.step_index} [{self.step}] {self.node}: "
                f"{self.kind}{via} (orc: {self.reason_code}: {self.reason}) {self.detail}")


FAILED = ("error", "fail", "skipped", "runtime error")
