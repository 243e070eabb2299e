"""What is compared after every step, and the one table of allowed deviations.

Per node (models, seeds and snapshots: the nodes the reference decides; ephemeral models are
run by neither tool):

- decisions: the reference's REUSED lines against orc's target/orc_decisions.json. Where
  they differ, orc must name a reason from ALLOWED_DEVIATIONS: where the reference reuses and
  orc builds, orc's reason code; where the reference builds and orc reuses, the reference's
  own cause for building (read from the project: an ephemeral parent, a source it cannot
  measure, a comment-only edit, or a parent it built for such a cause). Anything else is a
  mismatch. Nodes both built must end with the same status in run_results.json.
- state: the keys of both documents, in the shape the configuration gives them (bare
  unique_ids, or `<account>.<relation name>`); every key of the reference's document must be
  in orc's; orc's extra keys must be allowed. In every entry both have, the reference's fields
  (checksum, last_updated, sources) must be in orc's with the reference's types and formats:
  checksum = the reference's formula for the code orc last built, last_updated = that run's
  completed_at as an ISO-8601 UTC timestamp, sources = the same sources at the same instants
  (when both tools last built the node in the same step). orc's own fields (fingerprint,
  parents, orc_*) are allowed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .matrix import ACCOUNT, Combination

# Every allowed difference between the reference and orc, with why it is allowed. Kinds:
# "orc builds" (the reference reuses the node; keyed by orc's reason code), "orc reuses" (the
# reference builds it; keyed by the reference's cause), "state" (documents).
ALLOWED_DEVIATIONS: dict[str, tuple[str, str]] = {
    "fingerprint_unrecorded": (
        "orc builds",
        "the entry was written by the reference and has no fingerprint: orc cannot tell what "
        "the relation was built from, so it builds the node once (cross-read steps)"),
    "ephemeral_parent": (
        "orc reuses",
        "the reference never records ephemeral models, so it builds their children on every "
        "run; orc folds ephemerals into their children"),
    "unmeasured_source": (
        "orc reuses",
        "a source without loaded_at_field / loaded_at_query: the reference gives it the time "
        "of the run on DuckDB (new data every run); orc compares a data-change token"),
    "comment_only_edit": (
        "orc reuses",
        "the reference's checksum is the raw SQL; orc's fingerprint ignores comments and "
        "whitespace"),
    "upstream_of_the_above": (
        "orc reuses",
        "the reference builds a node because it built a parent for one of the causes above"),
    "test_entries": (
        "state",
        "orc records data tests and unit tests too (a failed test runs again); the reference "
        "ignores these keys"),
    "unmeasured_source_as_token": (
        "state",
        "a source without loaded_at_*: the reference records the run's time in `sources`, orc "
        "a data-change token in `orc_source_tokens`"),
    "sources_through_views_and_ephemerals": (
        "state",
        "orc's `sources` also lists the sources a node reads through views and ephemeral "
        "models (their data is read when the node is built); the reference reads only its "
        "direct sources from the map and ignores the others"),
    "ephemeral_folded_checksum": (
        "state",
        "a child of an ephemeral model: orc's checksum covers the ephemeral's code too "
        "(`ephemeral-folded:...`); the reference builds such a node on every run without "
        "comparing its checksum"),
    "seed_checksum_when_seeds_off": (
        "state",
        "seed_state_orchestration off: orc records dbt's checksum of a seed (it hashes seed "
        "files only when seeds can be reused or a source reads them); the reference builds "
        "every seed then, without comparing checksums. With seed_state_orchestration on, both "
        "record the file's SHA-256"),
}

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
REUSED_LINE = re.compile(r"REUSED (\S+) - (.*) \(last updated: [^)]*\)\s*$")
COUNT_LINE = re.compile(r"(\d+)/(\d+) nodes reused\.")
DECIDED_TYPES = ("model", "seed", "snapshot")


@dataclass
class Observation:
    """What one tool did in one step."""

    tool: str  # "reference" | "orc"
    exit_code: int
    output: str
    decisions: dict[str, tuple[str, str]]  # uid -> (build|reuse, reason code or reason)
    results: dict[str, dict]  # uid -> run_results entry
    manifest: dict
    doc: dict | None  # the state document after the run
    selected_count: int | None = None  # the reference's "N/M nodes reused": M


@dataclass
class Built:
    """A tool's last successful build of a node: the step, completed_at, and the reference's
    checksum formula over the code built."""

    step: str
    completed_at: str
    checksum: str


@dataclass
class StepFindings:
    """Mismatches (each a line) and allowed deviations (counted by name) of one step."""

    mismatches: list[str] = field(default_factory=list)
    deviations: Counter = field(default_factory=Counter)

    def bad(self, kind: str, text: str) -> None:
        self.mismatches.append(f"{kind}: {text}")


def parse_reference_output(output: str) -> tuple[dict[str, str], int | None]:
    """({reused uid: reason}, M of "N/M nodes reused") from the reference's log lines."""
    reused, total = {}, None
    for line in ANSI.sub("", output).splitlines():
        if m := REUSED_LINE.search(line):
            reused[m.group(1)] = m.group(2)
        elif m := COUNT_LINE.search(line):
            total = int(m.group(2))
    return reused, total


def decided_nodes(manifest: dict) -> dict[str, dict]:
    """The manifest's models (not ephemeral), seeds and snapshots."""
    return {u: n for u, n in manifest["nodes"].items()
            if n["resource_type"] in DECIDED_TYPES and not is_ephemeral(n)}


def is_ephemeral(node: dict) -> bool:
    return node["resource_type"] == "model" and node["config"].get("materialized") == "ephemeral"


def reference_checksum(node: dict, project_dir: Path, root_project: str) -> str:
    """The reference's checksum of a node (its checksum.py): models sha256 of the raw code
    stripped, seeds sha256 of the file's bytes, others the manifest's checksum."""
    if node["resource_type"] == "model":
        return hashlib.sha256(node["raw_code"].strip().encode()).hexdigest()
    if node["resource_type"] == "seed":
        root = project_dir
        if node["package_name"] != root_project:
            root = project_dir / "dbt_packages" / node["package_name"]
        return hashlib.sha256((root / node["original_file_path"]).read_bytes()).hexdigest()
    return node["checksum"]["checksum"]


def expected_key(uid: str, node: dict, combo: Combination) -> str:
    """The key the configuration gives a node's entry (the reference's asset_external_id)."""
    if not combo.scoped:
        return uid
    return f"{ACCOUNT}.{node.get('relation_name') or uid}"


def unmeasured_sources(manifest: dict) -> set[str]:
    """Sources with neither loaded_at_field nor loaded_at_query."""
    return {u for u, s in manifest["sources"].items()
            if not (s.get("loaded_at_field") or s["config"].get("loaded_at_field")
                    or s.get("loaded_at_query") or s["config"].get("loaded_at_query"))}


def parse_time(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


# orc's reasons for reusing a node although new data reached it.
WINDOW_CODES = ("build_after_window", "build_after_waiting_for_all")


def compare_decisions(ref: Observation, orc: Observation, comment_only: set[str],
                      new_rows: set[str], findings: StepFindings) -> None:
    """Per decided node: the reference's decision against orc's (module docstring). A node
    orc reuses while the reference builds it must not read (at any distance) a raw table that
    got rows in this step, unless orc holds it in a build_after window: an improvement never
    excuses missing new data."""
    manifest = orc.manifest
    nodes = manifest["nodes"]
    selected = {u for u in orc.decisions if u in nodes and nodes[u]["resource_type"]
                in DECIDED_TYPES and not is_ephemeral(nodes[u])}
    ephemerals = {u for u in manifest["nodes"] if is_ephemeral(nodes[u])}
    if ref.selected_count is not None:
        # The reference counts the ephemeral models of its selection too.
        selected_ephemerals = {e for e in ephemerals
                               if any(c in selected for c in manifest["child_map"].get(e, []))}
        if ref.selected_count != len(selected) + len(selected_ephemerals):
            findings.bad("selection", f"the reference decided {ref.selected_count} nodes, orc "
                         f"{len(selected)} (+{len(selected_ephemerals)} ephemeral)")
    unmeasured = unmeasured_sources(manifest)
    explained: dict[str, str] = {}  # uid -> the reference's cause for building it
    for uid in _topological(manifest, selected):
        r = ref.decisions.get(uid, ("build", ""))[0]
        o, code = orc.decisions[uid]
        if r == o:
            if r == "build" and uid in ref.results and uid in orc.results:
                rs, os_ = ref.results[uid]["status"], orc.results[uid]["status"]
                if rs != os_:
                    findings.bad("outcome", f"{uid}: reference {rs}, orc {os_}")
            continue
        if r == "reuse":  # orc builds
            if code in ALLOWED_DEVIATIONS and ALLOWED_DEVIATIONS[code][0] == "orc builds":
                findings.deviations[code] += 1
            else:
                findings.bad("decision", f"{uid}: the reference reuses it "
                             f"({ref.decisions[uid][1]}), orc builds it ({code})")
            continue
        cause = _reference_cause(uid, manifest, ephemerals, unmeasured, comment_only, explained,
                                 ref, orc)
        fed = _ancestor_sources(uid, manifest) & tables_to_sources(manifest, new_rows)
        if fed and code not in WINDOW_CODES:
            findings.bad("decision", f"{uid}: the reference builds it, orc reuses it ({code}) "
                         f"although {sorted(fed)[0]} got rows")
        elif cause:
            explained[uid] = cause
            findings.deviations[cause] += 1
        else:
            findings.bad("decision", f"{uid}: the reference builds it, orc reuses it ({code})")


def _reference_cause(uid, manifest, ephemerals, unmeasured, comment_only, explained, ref,
                     orc) -> str | None:
    """Why the reference built a node orc reused, when it is one of orc's improvements."""
    parents = manifest["parent_map"].get(uid, [])
    if any(p in ephemerals for p in parents):
        return "ephemeral_parent"
    if any(p in unmeasured for p in parents):
        return "unmeasured_source"
    if uid in comment_only:
        return "comment_only_edit"
    built_by_ref_only = [p for p in parents if p in orc.decisions
                         and orc.decisions[p][0] == "reuse"
                         and ref.decisions.get(p, ("build", ""))[0] == "build"]
    if built_by_ref_only and all(p in explained for p in built_by_ref_only):
        return "upstream_of_the_above"
    return None


def tables_to_sources(manifest: dict, tables: set[str]) -> set[str]:
    """The sources (of any package) over the raw tables named."""
    return {u for u, s in manifest["sources"].items()
            if (s.get("identifier") or s["name"]) in tables}


def _ancestor_sources(uid: str, manifest: dict) -> set[str]:
    """Every source a node reads, at any distance."""
    out, seen, stack = set(), set(), [uid]
    while stack:
        for p in manifest["parent_map"].get(stack.pop(), []):
            if p.startswith("source."):
                out.add(p)
            elif p not in seen:
                seen.add(p)
                stack.append(p)
    return out


def _topological(manifest: dict, selected: set[str]) -> list[str]:
    """`selected` with parents before children."""
    order, seen = [], set()

    def visit(u: str) -> None:
        if u in seen:
            return
        seen.add(u)
        for p in manifest["parent_map"].get(u, []):
            visit(p)
        if u in selected:
            order.append(u)

    for u in sorted(selected):
        visit(u)
    return order


def compare_states(ref: Observation, orc: Observation, combo: Combination,
                   last_built: dict[str, dict[str, Built]], findings: StepFindings) -> None:
    """The two state documents (module docstring). `last_built[tool][uid]` is the tool's last
    successful build of each node."""
    manifest = orc.manifest
    if ref.doc is None or orc.doc is None:
        findings.bad("state", f"no state document (reference: {ref.doc is not None}, "
                     f"orc: {orc.doc is not None})")
        return
    everything = manifest["nodes"] | manifest.get("unit_tests", {})
    keys = {expected_key(u, n, combo): u for u, n in everything.items()}
    ref_state, orc_state = ref.doc.get("state", {}), orc.doc.get("state", {})
    for tool, state in (("reference", ref_state), ("orc", orc_state)):
        for k in state:
            uid = keys.get(k)
            if uid is None:
                findings.bad("keys", f"{tool}: key {k!r} is no node's key in this configuration")
            elif everything[uid]["resource_type"] not in DECIDED_TYPES:
                if tool == "orc":
                    findings.deviations["test_entries"] += 1
            elif is_ephemeral(everything[uid]):
                findings.bad("keys", f"{tool}: an entry for the ephemeral {uid}")
    for k in sorted(set(ref_state) - set(orc_state)):
        findings.bad("keys", f"orc lacks the reference's entry {k!r}")
    for k in sorted(set(orc_state) - set(ref_state)):
        uid = keys.get(k)
        if uid and everything[uid]["resource_type"] in DECIDED_TYPES:
            findings.bad("keys", f"orc has an entry the reference lacks: {k!r}")
    unmeasured = unmeasured_sources(manifest)
    ephemerals = {u for u, n in manifest["nodes"].items() if is_ephemeral(n)}
    for k in sorted(set(ref_state) & set(orc_state)):
        uid = keys.get(k)
        if uid is None or everything[uid]["resource_type"] not in DECIDED_TYPES:
            continue
        _compare_entry(k, uid, ref_state[k], orc_state[k], manifest, unmeasured, ephemerals,
                       last_built, combo, findings)


def _compare_entry(key, uid, r: dict, o: dict, manifest, unmeasured, ephemerals, last_built,
                   combo: Combination, findings: StepFindings) -> None:
    for f in ("checksum", "last_updated", "sources"):
        if f not in o:
            findings.bad("entry", f"{key}: orc's entry has no {f!r}")
        elif type(o[f]) is not type(r.get(f)):
            findings.bad("entry", f"{key}: {f!r} is a {type(o[f]).__name__} in orc's entry, a "
                         f"{type(r.get(f)).__name__} in the reference's")
    if not isinstance(o.get("last_updated"), str) or not isinstance(o.get("sources"), dict):
        return
    for tool, entry in (("orc", o), ("reference", r)):
        built = last_built[tool].get(uid)
        if not ISO_UTC.match(entry["last_updated"]):
            findings.bad("entry", f"{key}: {tool}'s last_updated {entry['last_updated']!r} is "
                         "not an ISO-8601 time with its offset")
        elif built and parse_time(entry["last_updated"]) != parse_time(built.completed_at):
            findings.bad("entry", f"{key}: {tool}'s last_updated {entry['last_updated']} is not "
                         f"its last build's completed_at {built.completed_at} ({built.step})")
        if built and entry.get("checksum") != built.checksum:
            allowed = _allowed_checksum(uid, entry.get("checksum", ""), manifest, ephemerals,
                                        combo)
            if allowed:
                findings.deviations[allowed] += 1
            else:
                findings.bad("entry", f"{key}: {tool}'s checksum is not the reference's "
                             f"formula for the code it built in {built.step}")
    through = _indirect_sources(uid, manifest)
    for s, value in o["sources"].items():
        if not (isinstance(value, str) and ISO_UTC.match(value)):
            findings.bad("entry", f"{key}: orc's sources[{s}] = {value!r} is not an ISO time")
    for s in r.get("sources", {}):
        if s not in o["sources"]:
            if s in unmeasured and s in o.get("orc_source_tokens", {}):
                findings.deviations["unmeasured_source_as_token"] += 1
            elif s in unmeasured:
                findings.bad("entry", f"{key}: orc records neither a time nor a token for {s}")
            else:
                findings.bad("entry", f"{key}: orc's sources lack {s}")
    for s in o["sources"].keys() - r.get("sources", {}).keys():
        if s in through:
            findings.deviations["sources_through_views_and_ephemerals"] += 1
        else:
            findings.bad("entry", f"{key}: orc's sources have {s}, the reference's do not")
    rb, ob = last_built["reference"].get(uid), last_built["orc"].get(uid)
    if rb and ob and rb.step == ob.step:
        for s in r.get("sources", {}).keys() & o["sources"].keys():
            if parse_time(r["sources"][s]) != parse_time(o["sources"][s]):
                findings.bad("entry", f"{key}: sources[{s}] is {o['sources'][s]} in orc's "
                             f"entry, {r['sources'][s]} in the reference's (both built in "
                             f"{rb.step})")


def _allowed_checksum(uid: str, checksum: str, manifest: dict, ephemerals: set[str],
                      combo: Combination) -> str | None:
    """The allowed deviation that explains orc's checksum of `uid`, if any."""
    node = manifest["nodes"][uid]
    if checksum.startswith("ephemeral-folded:") and any(
            p in ephemerals for p in manifest["parent_map"].get(uid, [])):
        return "ephemeral_folded_checksum"
    if node["resource_type"] == "seed" and not combo.seeds and \
            checksum == node["checksum"]["checksum"]:
        return "seed_checksum_when_seeds_off"
    return None


def _indirect_sources(uid: str, manifest: dict) -> set[str]:
    """Sources a node reads through views and ephemeral models."""
    nodes = manifest["nodes"]

    def passes(u: str) -> bool:
        n = nodes.get(u)
        return bool(n) and n["resource_type"] == "model" and \
            n["config"].get("materialized") in ("view", "ephemeral")

    out, stack = set(), [p for p in manifest["parent_map"].get(uid, []) if passes(p)]
    seen = set(stack)
    while stack:
        for p in manifest["parent_map"].get(stack.pop(), []):
            if p.startswith("source."):
                out.add(p)
            elif passes(p) and p not in seen:
                seen.add(p)
                stack.append(p)
    return out


def record_builds(tool: str, step: str, obs: Observation, project_dir: Path,
                  last_built: dict[str, dict[str, Built]]) -> None:
    """Notes every decided node the tool built successfully in this step."""
    nodes = obs.manifest["nodes"]
    for uid, res in obs.results.items():
        if res["status"] == "success" and uid in nodes and \
                nodes[uid]["resource_type"] in DECIDED_TYPES:
            completed = next((t["completed_at"] for t in reversed(res.get("timing", []))
                              if t.get("completed_at")), None)
            root = obs.manifest["metadata"]["project_name"]
            last_built[tool][uid] = Built(step, completed,
                                          reference_checksum(nodes[uid], project_dir, root))
