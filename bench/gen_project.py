#!/usr/bin/env python3
"""Seeded, reproducible synthetic dbt project artifacts for the engine benchmark.

Writes, for N manifest entries (nodes + sources + unit tests), into OUT/:
  target/manifest.json     dbt 1.11 shape (schema v12): nodes, sources, unit_tests, macros,
                           parent_map, child_map, metadata, ...
  target/sources.json      dbt source freshness results (schema v3)
  target/run_results.json  the results of a dbt run of the nodes that should be built
  state.json               a state file as orc leaves it after a previous run (the
                           reference's shape {"state": {uid: {checksum, last_updated,
                           sources}}} plus orc's additive `parents` field)
  seeds/**.csv, dbt_packages/<pkg>/seeds/**.csv   the seed files (checksums are their SHA-256)
  pyproject.toml           [tool.orchestra_dbt] for both engines (defaults, local state file)
  expected.json            what the generator intends: the decision of every decidable node
  meta.json                counts, sizes, the `now` to pass to the engines

The DAG is layered per domain (sources -> staging -> two intermediate layers -> marts),
with fan-in from a shared "core" domain, seeds and package models, about 3 edges per
entry. The scenario is a steady state after a previous run with a few percent of change:
changed checksums, nodes new to the state, sources with new data, sources whose
freshness is unknown, build_after windows (inside and outside), plus the always-built
kinds (snapshots, seeds, parentless package models, tests on sources).

The expected decisions follow DESIGN.md section 2 (the rules orc implements). Children
of ephemeral models carry the checksum orc records for them (their own checksum folded
with their ephemeral ancestors', see src/plan/lineage.cc), as a previous orc run left it.

Usage: gen_project.py --nodes N --out DIR [--seed S]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
PREV_RUN = NOW - timedelta(hours=2)        # when the previous run built everything
PROJECT = "bench_project"
PACKAGES = ["pkg_utils", "pkg_ads"]
DBT_VERSION = "1.11.16"

WORDS = (
    "customer order invoice payment account revenue session event product campaign channel "
    "region store shipment refund subscription plan user device visit click impression "
    "budget forecast margin cost inventory supplier warehouse ledger balance currency "
    "partner contract ticket agent queue review rating category brand promotion coupon"
).split()
COL_TYPES = ["integer", "bigint", "varchar", "timestamp", "date", "numeric(18,2)", "boolean"]
MATERIALIZED = {
    "staging": [("view", 80), ("ephemeral", 10), ("table", 10)],
    "int1": [("ephemeral", 10), ("view", 30), ("table", 40), ("incremental", 20)],
    "int2": [("ephemeral", 8), ("view", 25), ("table", 42), ("incremental", 25)],
    "marts": [("table", 40), ("incremental", 40), ("materialized_view", 5), ("view", 15)],
}


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Node:
    """One manifest entry as the generator sees it."""

    __slots__ = ("uid", "kind", "name", "package", "domain", "layer", "materialized",
                 "parents", "children", "checksum", "build_after", "columns", "file",
                 "loaded_at", "source_name", "test_kind", "depth", "order")

    def __init__(self, uid, kind, name, package=PROJECT, domain=0, layer=""):
        self.uid, self.kind, self.name, self.package = uid, kind, name, package
        self.domain, self.layer = domain, layer
        self.materialized = {"seed": "seed", "snapshot": "snapshot", "test": "test"}.get(kind, "")
        self.parents: list[str] = []
        self.children: list[str] = []
        self.checksum = ""
        self.build_after = None      # (count, period, updates_on)
        self.columns: list[str] = []
        self.file = ""
        self.loaded_at = "_loaded_at"  # sources only; None = no loaded_at_field (unknown)
        self.source_name = ""
        self.test_kind = ""
        self.depth = 0
        self.order = 0

    @property
    def ephemeral(self) -> bool:
        return self.kind == "model" and self.materialized == "ephemeral"

    @property
    def decidable(self) -> bool:
        return self.kind in ("seed", "snapshot", "test", "unit_test") or (
            self.kind == "model" and not self.ephemeral)


class Generator:
    def __init__(self, n: int, seed: int, out: str):
        self.n, self.rng, self.out = n, random.Random(seed), os.path.abspath(out)
        self.nodes: dict[str, Node] = {}
        self.seed_bytes: dict[str, bytes] = {}

    # ---------------------------------------------------------------- the DAG
    def add(self, node: Node) -> Node:
        assert node.uid not in self.nodes, node.uid
        node.order = len(self.nodes)
        self.nodes[node.uid] = node
        return node

    def pick(self, seq, k):
        k = min(k, len(seq))
        return self.rng.sample(seq, k) if k else []

    def weighted(self, choices):
        total = sum(w for _, w in choices)
        r = self.rng.uniform(0, total)
        for value, w in choices:
            r -= w
            if r <= 0:
                return value
        return choices[-1][0]

    def columns(self, lo=10, hi=24):
        cols = ["id"] + [f"{self.rng.choice(WORDS)}_{self.rng.choice(WORDS)}_{i}"
                         for i in range(self.rng.randint(lo, hi) - 1)]
        return cols

    def build_dag(self):
        n, rng = self.n, self.rng
        domains = max(1, n // 300)
        counts = {
            "source": int(n * 0.05), "seed": int(n * 0.015), "snapshot": int(n * 0.01),
            "pkg_model": int(n * 0.02), "pkg_seed": max(1, int(n * 0.002)),
            "unit_test": int(n * 0.03), "model": int(n * 0.47),
        }
        per_domain_models = max(4, counts["model"] // domains)
        layer_share = [("staging", 0.25), ("int1", 0.25), ("int2", 0.20), ("marts", 0.30)]

        # Package models: roots without parents, and children of roots / package sources.
        pkg_roots, pkg_children = [], []
        for i in range(counts["pkg_model"]):
            pkg = PACKAGES[i % len(PACKAGES)]
            node = self.add(Node(f"model.{pkg}.{pkg}_m{i}", "model", f"{pkg}_m{i}", pkg, 0, "pkg"))
            node.materialized = rng.choice(["view", "table"])
            node.file = f"models/{pkg}_m{i}.sql"
            if i < counts["pkg_model"] // 4 or not pkg_roots:
                pkg_roots.append(node.uid)
            else:
                node.parents = self.pick([r for r in pkg_roots if r.split(".")[1] == pkg]
                                         or pkg_roots, rng.randint(1, 2))
                pkg_children.append(node.uid)
        for i in range(counts["pkg_seed"]):
            pkg = PACKAGES[i % len(PACKAGES)]
            node = self.add(Node(f"seed.{pkg}.{pkg}_seed{i}", "seed", f"{pkg}_seed{i}", pkg, 0, "seed"))
            node.file = f"seeds/{pkg}_seed{i}.csv"

        # Seeds (lookup tables, joined in marts).
        seeds = []
        for i in range(counts["seed"]):
            d = i % domains
            node = self.add(Node(f"seed.{PROJECT}.seed_{d}_{i}", "seed", f"seed_{d}_{i}", PROJECT, d, "seed"))
            node.file = f"seeds/d{d}/seed_{d}_{i}.csv"
            seeds.append(node.uid)

        # Sources, per domain; a few without loaded_at_field (freshness unknown).
        sources_by_domain: dict[int, list[str]] = {d: [] for d in range(domains)}
        for i in range(counts["source"]):
            d = i % domains
            sname = f"raw_d{d}"
            node = self.add(Node(f"source.{PROJECT}.{sname}.t{i}", "source", f"t{i}", PROJECT, d, "source"))
            node.source_name = sname
            node.file = f"models/d{d}/sources.yml"
            node.columns = self.columns(5, 10)
            sources_by_domain[d].append(node.uid)
        # Snapshots of sources.
        snapshots = []
        for i in range(counts["snapshot"]):
            d = i % domains
            node = self.add(Node(f"snapshot.{PROJECT}.snap_{d}_{i}", "snapshot", f"snap_{d}_{i}", PROJECT, d, "snapshot"))
            node.parents = self.pick(sources_by_domain[d], 1)
            node.file = f"snapshots/d{d}/snap_{d}_{i}.sql"
            snapshots.append(node.uid)

        # Models, layer by layer in each domain.
        layers: dict[tuple[int, str], list[str]] = {}
        for d in range(domains):
            for layer, share in layer_share:
                uids = []
                for j in range(max(1, int(per_domain_models * share))):
                    name = f"{layer}_d{d}_{j}"
                    node = self.add(Node(f"model.{PROJECT}.{name}", "model", name, PROJECT, d, layer))
                    node.materialized = self.weighted(MATERIALIZED[layer])
                    node.file = f"models/d{d}/{layer}/{name}.sql"
                    uids.append(node.uid)
                layers[(d, layer)] = uids
        hubs = [u for u in layers[(0, "int1")] if not self.nodes[u].ephemeral][:8]
        for d in range(domains):
            st, i1, i2, mt = (layers[(d, l)] for l, _ in layer_share)
            src = sources_by_domain[d] or sources_by_domain[0]
            for u in st:
                self.nodes[u].parents = self.pick(src, 1 if rng.random() < 0.85 else 2)
            for u in i1:
                self.nodes[u].parents = self.pick(st, rng.randint(2, 6))
            for u in i2:
                ps = self.pick(st + i1, rng.randint(3, 8))
                if d and rng.random() < 0.15:
                    ps.append(rng.choice(hubs))
                self.nodes[u].parents = ps
            for u in mt:
                ps = self.pick(i1 + i2, rng.randint(4, 12))
                if d and rng.random() < 0.2:
                    ps.append(rng.choice(hubs))
                if seeds and rng.random() < 0.03:
                    ps.append(rng.choice(seeds))
                if pkg_children and rng.random() < 0.02:
                    ps.append(rng.choice(pkg_children))
                if snapshots and rng.random() < 0.01:
                    ps.append(rng.choice(snapshots))
                self.nodes[u].parents = ps
        models = [u for k in layers for u in layers[k]]

        # build_after on some marts and intermediate models.
        for u in models:
            node = self.nodes[u]
            if node.ephemeral or node.layer not in ("int2", "marts") or rng.random() > 0.10:
                continue
            count, period = rng.choice([(1, "day"), (12, "hour"), (1, "hour"), (30, "minute")])
            node.build_after = (count, period, "all" if rng.random() < 0.3 else "any")

        # Unit tests on intermediate/mart models.
        testable = [u for u in models if not self.nodes[u].ephemeral]
        for i, u in enumerate(self.pick([u for u in testable if self.nodes[u].layer != "staging"],
                                        counts["unit_test"])):
            m = self.nodes[u]
            node = self.add(Node(f"unit_test.{PROJECT}.{m.name}.test_{m.name}_{i}", "unit_test",
                                 f"test_{m.name}_{i}", PROJECT, m.domain, "unit_test"))
            node.parents = [u]
            node.file = f"models/d{m.domain}/{m.layer}/schema.yml"

        # Data tests fill the rest: generic tests on models (and some on sources), a few
        # relationships and singular tests.
        remaining = n - len(self.nodes)
        src_all = [u for d in sources_by_domain for u in sources_by_domain[d]]
        pkg_testable = [u for u in pkg_children]
        for i in range(max(0, remaining)):
            r = rng.random()
            if r < 0.06 and src_all:
                target = [rng.choice(src_all)]
                kind = "not_null"
            elif r < 0.16:
                m = rng.choice(testable)
                others = [p for p in self.nodes[m].parents if self.nodes[p].kind == "model"
                          and not self.nodes[p].ephemeral]
                target = [m] + ([rng.choice(others)] if others else [])
                kind = "relationships" if len(target) == 2 else "unique"
            elif r < 0.19:
                target = self.pick(testable, rng.randint(1, 2))
                kind = "singular"
            elif r < 0.20 and pkg_testable:
                target = [rng.choice(pkg_testable)]
                kind = "not_null"
            else:
                target = [rng.choice(testable)]
                kind = rng.choice(["not_null", "unique", "accepted_values"])
            first = self.nodes[target[0]]
            pkg = first.package if first.package != PROJECT and kind != "singular" else PROJECT
            name = f"{kind}_{first.name}_{i}"
            if kind == "singular":
                uid = f"test.{PROJECT}.assert_{first.name}_{i}"
                name = f"assert_{first.name}_{i}"
            else:
                uid = f"test.{pkg}.{name}.{sha(name)[:10]}"
            node = self.add(Node(uid, "test", name, pkg, first.domain, "test"))
            node.parents = target
            node.test_kind = kind
            node.file = (f"tests/{name}.sql" if kind == "singular"
                         else first.file if first.kind == "source"
                         else os.path.dirname(first.file) + "/schema.yml")

        for node in self.nodes.values():
            node.parents = list(dict.fromkeys(node.parents))
            for p in node.parents:
                self.nodes[p].children.append(node.uid)

    # ---------------------------------------------------------------- contents
    def fill_contents(self):
        """Columns, SQL text, checksums and seed files."""
        rng = self.rng
        self.sql: dict[str, str] = {}
        for node in self.nodes.values():
            if node.kind in ("model", "snapshot"):
                node.columns = self.columns()
                self.sql[node.uid] = self.model_sql(node)
                node.checksum = sha(self.sql[node.uid])
            elif node.kind == "seed":
                cols = self.columns(3, 6)
                rows = [",".join(cols)] + [",".join(str(rng.randint(0, 999)) for _ in cols)
                                           for _ in range(rng.randint(3, 20))]
                data = ("\n".join(rows) + "\n").encode()
                self.seed_bytes[node.uid] = data
                node.columns = cols
                node.checksum = hashlib.sha256(data).hexdigest()
            elif node.kind == "test":
                if node.test_kind == "singular":
                    self.sql[node.uid] = (f"select * from {{{{ ref('{self.nodes[node.parents[0]].name}') }}}}"
                                          f" where {rng.choice(WORDS)}_amount < 0")
                    node.checksum = sha(self.sql[node.uid])
                else:
                    self.sql[node.uid] = f"{{{{ test_{node.test_kind}(**_dbt_generic_test_kwargs) }}}}"
                    node.checksum = ""  # dbt: {"name": "none", "checksum": ""}
            elif node.kind == "unit_test":
                node.checksum = sha(node.uid + "given/expect")

    def ref(self, uid: str) -> str:
        p = self.nodes[uid]
        if p.kind == "source":
            return f"{{{{ source('{p.source_name}', '{p.name}') }}}}"
        return f"{{{{ ref('{p.name}') }}}}"

    def model_sql(self, node: Node) -> str:
        rng = self.rng
        cfg = f"{{{{ config(materialized='{node.materialized}'"
        if node.materialized == "incremental":
            cfg += ", unique_key='id'"
        cfg += ") }}\n\n"
        ctes = []
        for i, p in enumerate(node.parents):
            cols = ",\n        ".join(f"{c}" for c in self.pick(node.columns, rng.randint(3, 8)))
            ctes.append(f"p{i} as (\n    select\n        {cols}\n    from {self.ref(p)}\n"
                        f"    where {rng.choice(WORDS)}_status is not null\n)")
        body = "with " + ",\n\n".join(ctes) if ctes else "with base as (select 1 as id)"
        select_cols = ",\n    ".join(
            f"coalesce(p0.{c}, {rng.randint(0, 9)}) as {c}" if i % 3 == 0 else f"p0.{c}"
            for i, c in enumerate(node.columns))
        joins = "\n".join(f"left join p{i} on p{i}.id = p0.id" for i in range(1, len(ctes)))
        where = ""
        if node.materialized == "incremental":
            where = ("\n{% if is_incremental() %}\nwhere p0.updated_at > "
                     "(select max(updated_at) from {{ this }})\n{% endif %}")
        return f"{cfg}{body}\n\nselect\n    {select_cols}\nfrom p0\n{joins}{where}\n"

    # ---------------------------------------------------------------- scenario
    def topo(self) -> list[Node]:
        indeg = {u: len(n.parents) for u, n in self.nodes.items()}
        queue = [u for u, d in indeg.items() if d == 0]
        out = []
        while queue:
            u = queue.pop()
            out.append(self.nodes[u])
            for c in self.nodes[u].children:
                indeg[c] -= 1
                if indeg[c] == 0:
                    queue.append(c)
        assert len(out) == len(self.nodes), "cycle"
        for node in out:
            node.depth = max((self.nodes[p].depth + 1 for p in node.parents), default=0)
        return out

    def effective_inputs(self, node: Node):
        """(sources, non-ephemeral node parents, ephemeral ancestors) through ephemerals, plus
        the upstream of view parents (a view is live; see src/plan/lineage.cc)."""
        srcs, nodes, ephs = [], [], []
        def add(lst, x):
            if x not in lst:
                lst.append(x)
        for p in node.parents:
            pn = self.nodes[p]
            if pn.kind == "source":
                add(srcs, p)
            elif pn.ephemeral:
                s2, n2, e2 = self.ephemeral_expansion(pn)
                for x in s2: add(srcs, x)
                for x in n2: add(nodes, x)
                for x in e2: add(ephs, x)
            else:
                add(nodes, p)
                if pn.kind == "model" and pn.materialized == "view":
                    # Views are live: their upstream is their children's input too.
                    s2, n2 = self.view_upstream(pn)
                    for x in s2: add(srcs, x)
                    for x in n2: add(nodes, x)
        return srcs, nodes, ephs

    def view_upstream(self, node: Node):
        """A view's (sources, node parents) as its children read them, memoised."""
        if not hasattr(self, "_views"):
            self._views = {}
        if node.uid not in self._views:
            s, n, _ = self.effective_inputs(node)
            self._views[node.uid] = (s, n)
        return self._views[node.uid]

    def ephemeral_expansion(self, node: Node):
        if not hasattr(self, "_exp"):
            self._exp = {}
        if node.uid not in self._exp:
            s, n, e = self.effective_inputs(node)
            self._exp[node.uid] = (s, n, [node.uid] + [x for x in e if x != node.uid])
        return self._exp[node.uid]

    def folded_checksum(self, node: Node, ephs: list[str]) -> str:
        if not ephs:
            return node.checksum
        material = node.checksum
        for x in sorted(ephs):
            material += "\n" + x + "=" + self.nodes[x].checksum
        return "ephemeral-folded:" + sha(material)

    def scenario(self):
        """Chooses the changes, writes nothing; fills self.state, self.freshness, expected."""
        rng = self.rng
        order = self.topo()
        self.order = order
        decidable_models = [n for n in order if n.kind == "model" and not n.ephemeral
                            and n.package == PROJECT]
        sources = [n for n in order if n.kind == "source"]
        # Previous run: recorded source timestamps, one build per node ordered by depth.
        recorded_src = {s.uid: iso(PREV_RUN - timedelta(hours=1, minutes=rng.randint(0, 300),
                                                        microseconds=rng.randint(0, 999999)))
                        for s in sources}
        built_at = {n.uid: iso(PREV_RUN + timedelta(seconds=n.depth, milliseconds=n.order % 1000))
                    for n in order}
        # Changes.
        k = max(1, len(decidable_models) // 200)
        candidates = [n for n in decidable_models if n.layer in ("int2", "marts") and n.domain != 0]
        changed = set(x.uid for x in self.pick(candidates or decidable_models, k))
        new_nodes = set(x.uid for x in self.pick(
            [n for n in decidable_models if n.layer == "marts" and n.uid not in changed],
            max(1, len(decidable_models) // 500)))
        new_data = set(x.uid for x in self.pick([s for s in sources if s.domain != 0],
                                                max(1, len(sources) // 100)))
        unknown = set(x.uid for x in self.pick([s for s in sources if s.domain != 0
                                                and s.uid not in new_data],
                                               max(1, len(sources) // 200)))
        for u in unknown:
            self.nodes[u].loaded_at = None
        self.changed, self.new_nodes, self.new_data, self.unknown = changed, new_nodes, new_data, unknown
        self.freshness = {}
        for s in sources:
            if s.uid in unknown:
                continue
            self.freshness[s.uid] = (iso(NOW - timedelta(minutes=30, seconds=rng.randint(0, 600)))
                                     if s.uid in new_data else recorded_src[s.uid])

        # The state a previous orc run left: every decidable node that is not new.
        state = {}
        for n in order:
            if not n.decidable or n.uid in new_nodes:
                continue
            srcs, parents, ephs = self.effective_inputs(n)
            entry = {
                "checksum": ("0" * 64 if n.uid in changed else self.folded_checksum(n, ephs)),
                "last_updated": built_at[n.uid],
                "sources": {s: recorded_src[s] for s in srcs if s not in unknown},
                "parents": {p: built_at[p] for p in parents},
            }
            state[n.uid] = entry
        self.state = state

        # Expected decisions (DESIGN.md section 2).
        windows = {"minute": 1, "hour": 60, "day": 1440}
        eff_ba = {}
        for n in reversed(order):  # children first
            if n.build_after:
                eff_ba[n.uid] = (n.build_after, False)
                continue
            if n.kind in ("test", "unit_test", "source"):
                continue
            kids = [c for c in n.children if self.nodes[c].kind not in ("test", "unit_test")]
            if kids and all(c in eff_ba for c in kids):
                best = min((eff_ba[c][0] for c in kids), key=lambda b: b[0] * windows[b[1]])
                eff_ba[n.uid] = (best, True)
        expected = {}
        for n in order:
            if not n.decidable:
                continue
            entry = state.get(n.uid)
            srcs, parents, ephs = self.effective_inputs(n)
            def src_new(s):
                cur = self.freshness.get(s)
                return cur is None or entry is None or entry["sources"].get(s) != cur
            def parent_new(p):
                return expected[p] == "build" or p not in state or \
                    entry["parents"].get(p) != state[p]["last_updated"]
            if n.kind in ("snapshot", "seed"):
                d = "build"
            elif n.kind == "model" and n.package != PROJECT and not n.parents:
                d = "build"
            elif n.kind in ("test", "unit_test") and (
                    any(self.nodes[p].kind == "source" for p in n.parents)
                    or any(expected[p] == "build" for p in parents)):
                d = "build"
            elif entry is None or entry["checksum"] != self.folded_checksum(n, ephs):
                d = "build"
            else:
                news = [src_new(s) for s in srcs] + [parent_new(p) for p in parents]
                if not any(news):
                    d = "reuse"
                elif n.kind in ("test", "unit_test"):
                    d = "build"
                else:
                    d = "build"
                    if n.uid in eff_ba:
                        (count, period, updates_on), _ = eff_ba[n.uid]
                        if updates_on == "all" and not all(news):
                            d = "reuse"
                        elif (NOW - datetime.fromisoformat(entry["last_updated"].replace("Z", "+00:00"))
                              < timedelta(minutes=count * windows[period])):
                            d = "reuse"
            expected[n.uid] = d
        self.expected = expected

        # run_results: every node to build; a few models fail, their descendants are skipped.
        built = [n for n in order if expected.get(n.uid) == "build"]
        failing = set(x.uid for x in self.pick([n for n in built if n.kind == "model"],
                                               max(1, len(built) // 300)))
        status = {}
        for n in built:
            if n.uid in failing:
                status[n.uid] = "error"
            elif any(status.get(p) in ("error", "skipped") for p in self.effective_inputs(n)[1]):
                status[n.uid] = "skipped"
            else:
                status[n.uid] = "pass" if n.kind in ("test", "unit_test") else "success"
        self.run_status = status

    # ---------------------------------------------------------------- writers
    def column_json(self, name: str, with_desc=True) -> dict:
        return {"name": name,
                "description": (f"The {name.replace('_', ' ')} of the record, as loaded from "
                                f"the {self.rng.choice(WORDS)} system; documented for analysts."
                                if with_desc else ""),
                "meta": {}, "data_type": self.rng.choice(COL_TYPES), "constraints": [],
                "quote": None, "config": {"meta": {}, "tags": []}, "tags": [],
                "granularity": None, "doc_blocks": []}

    def base_config(self, materialized: str) -> dict:
        return {"enabled": True, "alias": None, "schema": None, "database": None, "tags": [],
                "meta": {}, "group": None, "static_analysis": None, "materialized": materialized,
                "incremental_strategy": None, "batch_size": None, "lookback": 1, "begin": None,
                "persist_docs": {}, "post-hook": [], "pre-hook": [], "quoting": {},
                "column_types": {}, "full_refresh": None, "unique_key": None,
                "on_schema_change": "ignore", "on_configuration_change": "apply", "grants": {},
                "packages": [], "docs": {"show": True, "node_color": None},
                "contract": {"enforced": False, "alias_types": True}, "event_time": None,
                "concurrent_batches": None}

    def relation(self, node: Node) -> str:
        return f'"analytics"."{node.package}_d{node.domain}"."{node.name}"'

    def fqn(self, node: Node) -> list[str]:
        parts = [node.package]
        if node.kind in ("model", "test", "unit_test") and node.package == PROJECT:
            parts += [f"d{node.domain}", node.layer] if node.kind == "model" else [f"d{node.domain}"]
        return parts + [node.name]

    def node_json(self, node: Node) -> dict:
        rng = self.rng
        common = {
            "database": "analytics", "schema": f"{node.package}_d{node.domain}",
            "name": node.name, "resource_type": node.kind, "package_name": node.package,
            "path": node.file.split("/", 1)[1] if "/" in node.file else node.file,
            "original_file_path": node.file, "unique_id": node.uid, "fqn": self.fqn(node),
            "alias": node.name,
            "checksum": ({"name": "sha256", "checksum": node.checksum} if node.checksum
                         else {"name": "none", "checksum": ""}),
        }
        if node.kind in ("model", "snapshot", "seed"):
            cfg = self.base_config(node.materialized)
            if node.kind == "model":
                cfg["access"] = "protected"
                cfg["freshness"] = None
                if node.materialized == "incremental":
                    cfg["unique_key"] = "id"
                if node.build_after:
                    c, p, u = node.build_after
                    cfg["freshness"] = {"build_after": {"count": c, "period": p, "updates_on": u}}
            elif node.kind == "snapshot":
                cfg.update({"unique_key": "id", "strategy": "timestamp", "target_schema": None,
                            "target_database": None, "updated_at": "_loaded_at", "check_cols": None,
                            "snapshot_meta_column_names": {"dbt_valid_to": None, "dbt_valid_from": None,
                                                           "dbt_scd_id": None, "dbt_updated_at": None,
                                                           "dbt_is_deleted": None},
                            "dbt_valid_to_current": None})
            else:
                cfg.update({"delimiter": ",", "quote_columns": None})
            d = dict(common)
            d.update({
                "config": cfg, "tags": [], "description": (
                    f"{node.name.replace('_', ' ').capitalize()}: one row per "
                    f"{rng.choice(WORDS)} and {rng.choice(WORDS)}, refreshed from upstream "
                    f"{rng.choice(WORDS)} data. Owned by the {rng.choice(WORDS)} team."),
                "columns": {c: self.column_json(c, rng.random() < 0.8) for c in node.columns},
                "meta": {}, "group": None, "docs": {"show": True, "node_color": None},
                "patch_path": f"{node.package}://{os.path.dirname(node.file)}/schema.yml",
                "build_path": None,
                "unrendered_config": {"materialized": node.materialized},
                "created_at": 1767225600.0 + node.order / 1000.0,
                "relation_name": None if node.ephemeral else self.relation(node),
                "raw_code": self.sql.get(node.uid, ""), "doc_blocks": [],
            })
            if node.kind == "seed":
                d["root_path"] = (self.out if node.package == PROJECT
                                  else os.path.join(self.out, "dbt_packages", node.package))
                d["depends_on"] = {"macros": []}
                return d
            d.update({
                "language": "sql",
                "refs": [{"name": self.nodes[p].name, "package": None, "version": None}
                         for p in node.parents if self.nodes[p].kind != "source"],
                "sources": [[self.nodes[p].source_name, self.nodes[p].name]
                            for p in node.parents if self.nodes[p].kind == "source"],
                "metrics": [], "functions": [],
                "depends_on": {"macros": (["macro.dbt.is_incremental"]
                                          if node.materialized == "incremental" else []),
                               "nodes": list(node.parents)},
                "compiled_path": None,
                "contract": {"enforced": False, "alias_types": True, "checksum": None},
            })
            if node.kind == "model":
                d.update({"access": "protected", "constraints": [], "version": None,
                          "latest_version": None, "deprecation_date": None,
                          "primary_key": ["id"], "time_spine": None})
            return d
        if node.kind == "test":
            target = self.nodes[node.parents[0]]
            cfg = {"enabled": True, "alias": None, "schema": "dbt_test__audit", "database": None,
                   "tags": [], "meta": {}, "group": None, "static_analysis": None,
                   "materialized": "test", "severity": "ERROR", "store_failures": None,
                   "store_failures_as": None, "where": None, "limit": None,
                   "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0"}
            d = dict(common)
            d.update({
                "schema": f"{node.package}_d{node.domain}_dbt_test__audit", "config": cfg,
                "tags": [], "description": "", "columns": {}, "meta": {}, "group": None,
                "docs": {"show": True, "node_color": None}, "patch_path": None,
                "build_path": None, "unrendered_config": {},
                "created_at": 1767225600.0 + node.order / 1000.0, "relation_name": None,
                "raw_code": self.sql[node.uid], "doc_blocks": [], "language": "sql",
                "refs": [{"name": self.nodes[p].name, "package": None, "version": None}
                         for p in node.parents if self.nodes[p].kind != "source"],
                "sources": [[self.nodes[p].source_name, self.nodes[p].name]
                            for p in node.parents if self.nodes[p].kind == "source"],
                "metrics": [], "functions": [],
                "depends_on": {"macros": ([] if node.test_kind == "singular"
                                          else [f"macro.dbt.test_{node.test_kind}"]),
                               "nodes": list(node.parents)},
                "compiled_path": None,
                "contract": {"enforced": False, "alias_types": True, "checksum": None},
            })
            if node.test_kind != "singular":
                col = target.columns[0] if target.columns else "id"
                kwargs = {"column_name": col,
                          "model": f"{{{{ get_where_subquery({self.ref(target.uid)[3:-3]}) }}}}"}
                if node.test_kind == "relationships":
                    kwargs.update({"to": f"ref('{self.nodes[node.parents[1]].name}')", "field": "id"})
                if node.test_kind == "accepted_values":
                    kwargs["values"] = ["a", "b", "c"]
                d.update({"column_name": col, "file_key_name": (
                    f"sources.{target.source_name}" if target.kind == "source"
                    else f"models.{target.name}"),
                    "attached_node": None if target.kind == "source" else target.uid,
                    "test_metadata": {"name": node.test_kind, "kwargs": kwargs,
                                      "namespace": None}})
            return d
        raise ValueError(node.kind)

    def source_json(self, node: Node) -> dict:
        fresh = {"warn_after": {"count": 1, "period": "day"},
                 "error_after": {"count": None, "period": None}, "filter": None}
        if node.loaded_at is None:
            fresh = None
        return {
            "database": "raw", "schema": node.source_name, "name": node.name,
            "resource_type": "source", "package_name": node.package, "path": node.file,
            "original_file_path": node.file, "unique_id": node.uid,
            "fqn": [node.package, f"d{node.domain}", node.source_name, node.name],
            "source_name": node.source_name,
            "source_description": f"Raw data of domain {node.domain}, loaded by the EL tool.",
            "loader": "fivetran", "identifier": node.name,
            "quoting": {"database": None, "schema": None, "identifier": None, "column": None},
            "loaded_at_field": node.loaded_at, "loaded_at_query": None, "freshness": fresh,
            "external": None,
            "description": f"Raw {self.rng.choice(WORDS)} records from the {self.rng.choice(WORDS)} system.",
            "columns": {c: self.column_json(c, self.rng.random() < 0.5) for c in node.columns},
            "meta": {}, "source_meta": {}, "tags": [],
            "config": {"enabled": True, "event_time": None, "freshness": fresh,
                       "loaded_at_field": node.loaded_at, "loaded_at_query": None, "meta": {},
                       "tags": [], "static_analysis": None},
            "patch_path": None,
            "unrendered_config": {"loaded_at_field": node.loaded_at, "freshness": fresh},
            "relation_name": f'"raw"."{node.source_name}"."{node.name}"',
            "created_at": 1767225600.0 + node.order / 1000.0,
            "unrendered_database": None, "unrendered_schema": node.source_name, "doc_blocks": [],
        }

    def unit_test_json(self, node: Node) -> dict:
        model = self.nodes[node.parents[0]]
        rows = [{c: i for c in model.columns[:4]} for i in range(3)]
        given = [{"input": self.ref(p)[3:-3], "rows": rows, "format": "dict", "fixture": None}
                 for p in model.parents if self.nodes[p].kind != "source"][:3]
        return {
            "model": model.name, "given": given,
            "expect": {"rows": rows, "format": "dict", "fixture": None},
            "name": node.name, "resource_type": "unit_test", "package_name": node.package,
            "path": node.file.split("/", 1)[1], "original_file_path": node.file,
            "unique_id": node.uid, "fqn": [PROJECT, f"d{model.domain}", model.name, node.name],
            "description": "", "overrides": None,
            "depends_on": {"macros": [], "nodes": [model.uid]},
            "config": {"tags": [], "meta": {}, "enabled": True, "static_analysis": None},
            "checksum": node.checksum, "schema": f"{PROJECT}_d{model.domain}",
            "created_at": 1767225600.0 + node.order / 1000.0, "versions": None, "version": None,
        }

    def macro_json(self, i: int) -> tuple[str, dict]:
        name = f"macro_{i}"
        uid = f"macro.{PROJECT if i % 3 else 'dbt'}.{name}"
        sql = (f"{{% macro {name}(relation, column) %}}\n"
               + "".join(f"  {{% set v{j} = adapter.dispatch('{name}_{j}')(relation, column) %}}\n"
                         for j in range(12))
               + "{% endmacro %}")
        return uid, {"name": name, "resource_type": "macro", "package_name": uid.split(".")[1],
                     "path": f"macros/{name}.sql", "original_file_path": f"macros/{name}.sql",
                     "unique_id": uid, "macro_sql": sql, "depends_on": {"macros": []},
                     "description": "", "meta": {}, "docs": {"show": True, "node_color": None},
                     "patch_path": None, "arguments": [], "created_at": 1767225600.0,
                     "supported_languages": None}

    def write(self):
        os.makedirs(os.path.join(self.out, "target"), exist_ok=True)
        ordered = list(self.nodes.values())
        manifest_path = os.path.join(self.out, "target", "manifest.json")
        dumps = json.JSONEncoder(separators=(", ", ": ")).encode
        with open(manifest_path + ".tmp", "w") as f:
            meta = {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
                    "dbt_version": DBT_VERSION, "generated_at": iso(NOW - timedelta(minutes=5)),
                    "invocation_id": "00000000-0000-4000-8000-%012d" % self.n,
                    "invocation_started_at": iso(NOW - timedelta(minutes=5)), "env": {},
                    "project_name": PROJECT, "project_id": sha(PROJECT)[:32],
                    "user_id": None, "send_anonymous_usage_stats": False,
                    "adapter_type": "duckdb",
                    "quoting": {"database": True, "schema": True, "identifier": True,
                                "column": None},
                    "run_started_at": iso(NOW - timedelta(minutes=5))}
            f.write('{"metadata": ' + dumps(meta) + ', "nodes": {')
            first = True
            for node in ordered:
                if node.kind in ("source", "unit_test"):
                    continue
                f.write(("" if first else ", ") + dumps(node.uid) + ": " + dumps(self.node_json(node)))
                first = False
            f.write('}, "sources": {')
            f.write(", ".join(dumps(n.uid) + ": " + dumps(self.source_json(n))
                              for n in ordered if n.kind == "source"))
            f.write('}, "macros": {')
            f.write(", ".join(dumps(u) + ": " + dumps(m)
                              for u, m in (self.macro_json(i) for i in range(500))))
            f.write('}, "docs": {}, "exposures": {}, "metrics": {}, "groups": {}, '
                    '"selectors": {}, "disabled": {}, "parent_map": {')
            f.write(", ".join(dumps(n.uid) + ": " + dumps(sorted(n.parents)) for n in ordered))
            f.write('}, "child_map": {')
            f.write(", ".join(dumps(n.uid) + ": " + dumps(sorted(n.children)) for n in ordered))
            f.write('}, "group_map": {}, "saved_queries": {}, "semantic_models": {}, "unit_tests": {')
            f.write(", ".join(dumps(n.uid) + ": " + dumps(self.unit_test_json(n))
                              for n in ordered if n.kind == "unit_test"))
            f.write('}, "functions": {}}\n')
        os.replace(manifest_path + ".tmp", manifest_path)

        # sources.json
        results = []
        for uid, ts in self.freshness.items():
            t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
            age = (NOW - t).total_seconds()
            results.append({
                "unique_id": uid, "max_loaded_at": t.isoformat(),
                "snapshotted_at": NOW.isoformat(), "max_loaded_at_time_ago_in_s": age,
                "status": "pass" if age < 86400 else "warn",
                "criteria": {"warn_after": {"count": 1, "period": "day"},
                             "error_after": {"count": None, "period": None}, "filter": None},
                "adapter_response": {"_message": "OK"},
                "timing": [{"name": "compile", "started_at": iso(NOW), "completed_at": iso(NOW)},
                           {"name": "execute", "started_at": iso(NOW), "completed_at": iso(NOW)}],
                "thread_id": "Thread-1 (worker)", "execution_time": 0.01})
        with open(os.path.join(self.out, "target", "sources.json"), "w") as f:
            json.dump({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json",
                                    "dbt_version": DBT_VERSION, "generated_at": iso(NOW),
                                    "invocation_id": "1", "env": {}},
                       "results": results, "elapsed_time": 1.0}, f)

        # run_results.json
        rr = []
        for i, (uid, status) in enumerate(self.run_status.items()):
            start = NOW + timedelta(seconds=1 + i * 0.01)
            end = start + timedelta(milliseconds=5)
            timing = ([] if status == "skipped" else
                      [{"name": "compile", "started_at": iso(start), "completed_at": iso(start)},
                       {"name": "execute", "started_at": iso(start), "completed_at": iso(end)}])
            rr.append({"status": status, "timing": timing, "thread_id": "Thread-1 (worker)",
                       "execution_time": 0.005, "adapter_response": {"_message": "OK"},
                       "message": None if status != "error" else "Database Error",
                       "failures": 0 if status == "pass" else None, "unique_id": uid,
                       "compiled": status != "skipped", "compiled_code": None,
                       "relation_name": (None if self.nodes[uid].kind in ("test", "unit_test")
                                         else self.relation(self.nodes[uid])),
                       "batch_results": None})
        with open(os.path.join(self.out, "target", "run_results.json"), "w") as f:
            json.dump({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
                                    "dbt_version": DBT_VERSION, "generated_at": iso(NOW),
                                    "invocation_id": "2", "env": {}},
                       "results": rr, "elapsed_time": 10.0, "args": {"which": "build"}}, f)

        with open(os.path.join(self.out, "state.json"), "w") as f:
            json.dump({"state": self.state}, f)
        for uid, data in self.seed_bytes.items():
            node = self.nodes[uid]
            root = self.out if node.package == PROJECT else os.path.join(self.out, "dbt_packages", node.package)
            path = os.path.join(root, node.file)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        with open(os.path.join(self.out, "pyproject.toml"), "w") as f:
            f.write('[tool.orchestra_dbt]\nuse_stateful = true\nstate_file = "state.json"\n')

        by_kind_expected = {}
        for uid, d in self.expected.items():
            k = self.nodes[uid].kind
            by_kind_expected.setdefault(k, {"build": 0, "reuse": 0})[d] += 1
        edges = sum(len(n.parents) for n in self.nodes.values())
        kinds = {}
        for n in self.nodes.values():
            key = "ephemeral" if n.ephemeral else (
                n.kind if n.package == PROJECT or n.kind not in ("model", "seed") else "package_" + n.kind)
            kinds[key] = kinds.get(key, 0) + 1
        meta = {
            "nodes": len(self.nodes), "edges": edges, "kinds": kinds,
            "decidable": len(self.expected),
            "expected_build": sum(1 for d in self.expected.values() if d == "build"),
            "expected_reuse": sum(1 for d in self.expected.values() if d == "reuse"),
            "expected_by_kind": by_kind_expected,
            "changed_checksums": len(self.changed), "new_nodes": len(self.new_nodes),
            "sources_with_new_data": len(self.new_data), "sources_unknown": len(self.unknown),
            "run_results": {s: sum(1 for v in self.run_status.values() if v == s)
                            for s in ("success", "pass", "error", "skipped")},
            "manifest_bytes": os.path.getsize(manifest_path),
            "now": iso(NOW), "generator": GENERATOR_VERSION,
        }
        with open(os.path.join(self.out, "expected.json"), "w") as f:
            json.dump(self.expected, f, indent=0, sort_keys=True)
        with open(os.path.join(self.out, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        return meta


GENERATOR_VERSION = 1


def generate(n: int, out: str, seed: int = 42) -> dict:
    g = Generator(n, seed, out)
    g.build_dag()
    g.fill_contents()
    g.scenario()
    return g.write()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args(argv)
    if a.nodes < 200:
        print("--nodes must be at least 200", file=sys.stderr)
        return 2
    meta = generate(a.nodes, a.out, a.seed)
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
