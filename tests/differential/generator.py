"""Seeded generator of small, runnable dbt projects on DuckDB, plus the raw data they read.

A `World` is everything one differential sequence varies: the project (models, seeds, tests,
macros, a local package, vars), the raw source rows the harness owns, the environment
variable some models read and the simulated clock. `generate(seed)` builds one; the change
steps (steps.py) mutate it; `World.render()` turns it into the project's files and
`raw_tables()` into the raw tables' rows.

Shapes. Every model returns one of two shapes, so any model can feed any other of the same
shape:
  R  (id integer unique, grp varchar, val integer)   -- row sets
  A  (grp varchar, n bigint, total hugeint)           -- aggregates
Incremental models use logic whose result equals a full build (delete+insert on the unique
id of only the rows that changed, plus a post-hook deleting ids no longer upstream).

Sources, one of each freshness kind (schema `raw`, tables owned by the harness):
  field       loaded_at_field + warn_after; deletes are soft (is_deleted + new loaded_at)
  field_null  loaded_at_field with `freshness: null`; soft deletes
  query       loaded_at_query over raw.load_log (every change appends to the log); hard deletes
  none        no loaded_at at all (freshness unknown); hard deletes
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from dataclasses import dataclass, field

GROUPS = ("a", "b", "c")
PROJECT = "diffproj"
PACKAGE = "diffpkg"
RAW_SCHEMA = "raw"

# Which templates return which shape, and what they take as parents.
R_TEMPLATES = ("filter", "scale", "join", "union", "seed_join", "inc")
A_TEMPLATES = ("agg", "agg_label")
ID_PRESERVING = ("filter", "scale", "join", "seed_join", "inc")  # ids are a subset of parent 0's


@dataclass
class Source:
    name: str
    kind: str                      # field | field_null | query | none
    ts_type: str = "timestamp"     # timestamp | timestamptz (loaded_at column type)

    @property
    def soft_deletes(self) -> bool:
        return self.kind in ("field", "field_null")

    @property
    def has_loaded_at_column(self) -> bool:
        return self.kind in ("field", "field_null")


@dataclass
class Model:
    """One model. `parents` are node names (models, seeds) or `source:<table>`."""

    name: str
    template: str
    parents: list[str]
    materialized: str              # view | table | incremental | ephemeral
    config_in: str = "sql"         # where materialized/alias live: sql | yml | project
    folder: str = "marts"
    package: bool = False
    c: int = 0                     # semantic knob (sql_edit changes it)
    k: int = 3                     # filter modulus
    m: int = 1                     # scale multiplier
    comment: int = 0               # comment-only edits so far
    alias: str | None = None
    uses_macro: bool = False
    uses_var: bool = False
    uses_env: bool = False
    broken: bool = False
    tags: list[str] = field(default_factory=list)
    build_after: tuple[int, str] | None = None   # (hours, updates_on)

    @property
    def refs(self) -> list[str]:
        """Everything the model reads: its parents plus seeds its template joins."""
        return self.parents + (["seed_groups"] if self.template in ("seed_join", "agg_label")
                               else [])

    @property
    def shape(self) -> str:
        return "A" if self.template in A_TEMPLATES else "R"

    @property
    def relation(self) -> str:
        return self.alias or self.name

    @property
    def unique_id(self) -> str:
        return f"model.{PACKAGE if self.package else PROJECT}.{self.name}"


@dataclass
class SingularTest:
    name: str
    models: list[str]              # one model (sanity) or two (child ids within parent)
    broken: bool = False

    @property
    def unique_id(self) -> str:
        return f"test.{PROJECT}.{self.name}"


@dataclass
class World:
    """Everything a sequence varies. Deep-copied per run so sequences replay exactly."""

    seed: int
    sources: list[Source]
    models: list[Model]
    seed_groups: list[tuple[str, str, int]]            # (grp, label, weight)
    seed_items: list[tuple[int, str, int]]             # (id, grp, val)
    generic_tests: list[dict]                          # {"model", "kind", "to"?}
    singular_tests: list[SingularTest]
    unit_test_model: str | None
    source_test: str | None                            # source table with a not_null test
    macro_c: int = 1
    pkg_macro_c: int = 2
    macro_comment: int = 0
    min_val: int = 3                                   # project var `min_val`
    env_factor: str | None = None                      # DIFF_FACTOR (None = unset)
    seed_state_orchestration: bool = False
    snapshot: bool = False                             # a snapshot of seed_items (never compared)
    # raw data: table -> {id: [grp, val, is_deleted, loaded_at (iso or None)]}
    rows: dict[str, dict[int, list]] = field(default_factory=dict)
    load_log: list[tuple[str, str]] = field(default_factory=list)  # (table, loaded_at iso)
    clock_offset_s: int = 0                            # simulated clock = real clock + offset
    data_version: dict[str, int] = field(default_factory=dict)      # source -> changes so far

    # ---- lookups -------------------------------------------------------------------------

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def copy(self) -> "World":
        return copy.deepcopy(self)

    @property
    def seeds(self) -> list[str]:
        return ["seed_groups", "seed_items"]

    def node_id(self, name: str) -> str:
        """unique_id of a model or seed name."""
        if name in self.seeds:
            return f"seed.{PROJECT}.{name}"
        return self.model(name).unique_id

    def children(self, name: str) -> list[str]:
        return [m.name for m in self.models if name in m.refs]

    def descendants(self, name: str) -> set[str]:
        out: set[str] = set()
        todo = [name]
        while todo:
            for c in self.children(todo.pop()):
                if c not in out:
                    out.add(c)
                    todo.append(c)
        return out

    def ancestors(self, name: str) -> set[str]:
        out: set[str] = set()
        todo = [name]
        while todo:
            n = todo.pop()
            if n.startswith("source:") or n in self.seeds:
                continue
            for p in self.model(n).refs:
                if p not in out:
                    out.add(p)
                    todo.append(p)
        return out

    def pinned(self, name: str) -> bool:
        """Models that must keep a relation (never become ephemeral): tested ones, unit-test
        inputs, parents referenced by incremental post-hooks or relationships tests."""
        if any(t["model"] == name or t.get("to") == name for t in self.generic_tests):
            return True
        if any(name in t.models for t in self.singular_tests):
            return True
        if self.unit_test_model and (name == self.unit_test_model
                                     or name in self.model(self.unit_test_model).parents):
            return True
        if any(m.template == "inc" and m.parents[0] == name for m in self.models):
            return True
        return any(m.package and name in m.parents for m in self.models)

    def effective_build_after(self, name: str) -> tuple[int, str] | None:
        """build_after as orc derives it: the node's own, else the smallest of its
        children's when every child has one (of equal windows, one with updates_on any)."""
        m = self.model(name)
        if m.build_after:
            return m.build_after
        kids = self.children(name)
        if not kids:
            return None
        windows = [self.effective_build_after(k) for k in kids]
        if any(w is None for w in windows):
            return None
        # Of equal windows, updates_on `any` (as orc picks: the less stale choice).
        return min(windows, key=lambda w: (w[0], w[1] == "all"))

    # ---- rendering -----------------------------------------------------------------------

    def render(self) -> dict[str, str]:
        """{relative path: text} of the whole project (root + local package)."""
        files: dict[str, str] = {}
        files["dbt_project.yml"] = self._dbt_project()
        files["packages.yml"] = f"packages:\n  - local: packages/{PACKAGE}\n"
        files["macros/diff_macros.sql"] = (
            f"{{#- shared arithmetic used by some models (edits: {self.macro_comment}) -#}}\n"
            f"{{% macro diff_bump(x) %}}({{{{ x }}}} + {self.macro_c}){{% endmacro %}}\n")
        files["models/staging/sources.yml"] = self._sources_yml()
        files["models/schema.yml"] = self._schema_yml()
        files["seeds/seed_groups.csv"] = "grp,label,weight\n" + "".join(
            f"{g},{label},{w}\n" for g, label, w in self.seed_groups)
        files["seeds/seed_items.csv"] = "id,grp,val\n" + "".join(
            f"{i},{g},{v}\n" for i, g, v in self.seed_items)
        for t in self.singular_tests:
            files[f"tests/{t.name}.sql"] = self._singular_sql(t)
        if self.snapshot:
            files["snapshots/snapshots.yml"] = (
                "snapshots:\n  - name: snap_items\n    relation: ref('seed_items')\n"
                "    config:\n      unique_key: id\n      strategy: check\n"
                "      check_cols: all\n")
        pkg = f"packages/{PACKAGE}"
        files[f"{pkg}/dbt_project.yml"] = (
            f"name: {PACKAGE}\nversion: '1.0'\nconfig-version: 2\n"
            f"models:\n  {PACKAGE}:\n    +materialized: table\n")
        files[f"{pkg}/macros/pkg_macros.sql"] = (
            f"{{% macro pkg_offset(x) %}}({{{{ x }}}} + {self.pkg_macro_c}){{% endmacro %}}\n")
        for m in self.models:
            if m.package:
                files[f"{pkg}/models/{m.name}.sql"] = self._model_sql(m)
            else:
                files[f"models/{m.folder}/{m.name}.sql"] = self._model_sql(m)
        return files

    def _dbt_project(self) -> str:
        lines = [f"name: {PROJECT}", "version: '1.0'", "config-version: 2", "profile: diff",
                 "model-paths: [models]", "seed-paths: [seeds]", "test-paths: [tests]",
                 "snapshot-paths: [snapshots]",
                 "macro-paths: [macros]", "flags:", "  send_anonymous_usage_stats: false",
                 "vars:", f"  min_val: {self.min_val}", "seeds:", f"  {PROJECT}:",
                 "    +quote_columns: false",
                 "    seed_groups:", "      +column_types: {weight: integer}",
                 "    seed_items:", "      +column_types: {id: integer, val: integer}",
                 "models:", f"  {PROJECT}:"]
        for folder, default in (("staging", "view"), ("marts", "table")):
            lines += [f"    {folder}:", f"      +materialized: {default}"]
            for m in self.models:
                if not m.package and m.folder == folder and m.config_in == "project":
                    lines.append(f"      {m.name}:")
                    lines.append(f"        +materialized: {m.materialized}")
                    if m.alias:
                        lines.append(f"        +alias: {m.alias}")
        return "\n".join(lines) + "\n"

    def _sources_yml(self) -> str:
        out = ["version: 2", "sources:", "  - name: raw", f"    schema: {RAW_SCHEMA}",
               "    tables:"]
        for s in self.sources:
            out.append(f"      - name: {s.name}")
            if s.kind == "field":
                out += ["        config:", "          loaded_at_field: loaded_at",
                        "          freshness:",
                        "            warn_after: {count: 24, period: hour}"]
            elif s.kind == "field_null":
                out += ["        config:", "          loaded_at_field: loaded_at",
                        "          freshness: null"]
            elif s.kind == "query":
                out += ["        config:",
                        f"          loaded_at_query: \"select max(loaded_at) from "
                        f"{RAW_SCHEMA}.load_log where tbl = '{s.name}'\""]
            if s.name == self.source_test:
                out += ["        columns:", "          - name: id",
                        "            data_tests: [not_null]"]
        return "\n".join(out) + "\n"

    def _schema_yml(self) -> str:
        out = ["version: 2", "models:"]
        for m in self.models:
            if m.package:
                continue
            tests = [t for t in self.generic_tests if t["model"] == m.name]
            if not tests and m.config_in != "yml":
                continue
            out.append(f"  - name: {m.name}")
            if m.config_in == "yml":
                out.append("    config:")
                out.append(f"      materialized: {m.materialized}")
                if m.alias:
                    out.append(f"      alias: {m.alias}")
            if tests:
                out += ["    columns:"]
                by_col: dict[str, list[str]] = {}
                for t in tests:
                    col = t.get("column", "id")
                    if t["kind"] == "relationships":
                        spec = (f"{{relationships: {{arguments: {{to: \"ref('{t['to']}')\", "
                                f"field: id}}}}}}")
                    elif t["kind"] == "accepted_values":
                        spec = ("{accepted_values: {arguments: {values: "
                                + json.dumps(list(GROUPS)) + "}}}")
                    else:
                        spec = t["kind"]
                    by_col.setdefault(col, []).append(spec)
                for col, specs in by_col.items():
                    out += [f"      - name: {col}", f"        data_tests: [{', '.join(specs)}]"]
        if self.unit_test_model:
            out += self._unit_test_yml()
        return "\n".join(out) + "\n"

    def _unit_test_yml(self) -> list[str]:
        m = self.model(self.unit_test_model)
        rows = [(1, "a", 1), (2, "b", 2), (3, "c", 3), (4, "a", 4), (5, "b", 5), (6, "c", 6)]
        expect = [r for r in rows if (r[2] + m.c) % m.k != 0]
        fmt = lambda r: f"{{id: {r[0]}, grp: {r[1]}, val: {r[2]}}}"  # noqa: E731
        return ["unit_tests:", f"  - name: ut_{m.name}", f"    model: {m.name}", "    given:",
                f"      - input: ref('{m.parents[0]}')",
                "        rows: [" + ", ".join(map(fmt, rows)) + "]",
                "    expect:", "      rows: [" + ", ".join(map(fmt, expect)) + "]"]

    def _singular_sql(self, t: SingularTest) -> str:
        if len(t.models) == 1:
            sql = f"select id from {{{{ ref('{t.models[0]}') }}}} where val < -1000000000"
        else:
            child, parent = t.models
            sql = (f"select id from {{{{ ref('{child}') }}}}\n"
                   f"where id not in (select id from {{{{ ref('{parent}') }}}})")
        if t.broken:
            sql += "\nunion all\nselect -1 as id"
        return sql + "\n"

    def _config_call(self, m: Model) -> str:
        args: list[str] = []
        if m.config_in == "sql" or m.package:
            args.append(f"materialized='{m.materialized}'")
            if m.alias:
                args.append(f"alias='{m.alias}'")
        if m.tags:
            args.append(f"tags={m.tags!r}")
        if m.build_after:
            hours, on = m.build_after
            args.append("freshness={'build_after': {'count': %d, 'period': 'hour', "
                        "'updates_on': '%s'}}" % (hours, on))
        if m.template == "inc" and m.materialized == "incremental":
            parent = m.parents[0]
            args += ["unique_key='id'", "incremental_strategy='delete+insert'",
                     "post_hook=\"delete from {{ this }} where id not in "
                     f"(select id from {{{{ ref('{parent}') }}}})\""]
        return "{{ config(" + ", ".join(args) + ") }}\n" if args else ""

    def _ref(self, name: str) -> str:
        if name.startswith("source:"):
            return f"{{{{ source('raw', '{name[7:]}') }}}}"
        return f"{{{{ ref('{name}') }}}}"

    def _model_sql(self, m: Model, comments: bool = True) -> str:
        head = self._config_call(m)
        if m.comment and comments:
            head += "".join(f"-- reviewed ({i + 1})\n" for i in range(m.comment))
        body = self._model_body(m)
        if m.broken:
            body = f"select * from (\n{body}\n) as broken where no_such_column is not null"
        return head + body + "\n"

    def _val_expr(self, m: Model, base: str) -> str:
        expr = base
        if m.uses_macro:
            expr = f"{{{{ diff_bump('{expr}') }}}}"
        if m.uses_env:
            expr = f"{expr} * {{{{ env_var('DIFF_FACTOR', '1') }}}}"
        return expr

    def _model_body(self, m: Model) -> str:
        p = [self._ref(x) for x in m.parents]
        c = m.c
        t = m.template
        if t == "stage":
            src = self.source(m.parents[0][7:])
            where = "\nwhere not is_deleted" if src.soft_deletes else ""
            return f"select id, grp, {self._val_expr(m, 'val')} + {c} as val\nfrom {p[0]}{where}"
        if t == "calendar":
            return (f"select range::integer as id, '{GROUPS[0]}' as grp, "
                    f"range::integer * {c + 1} as val\nfrom range(1, 6)")
        if t == "pkg_enrich":
            return f"select id, grp, {{{{ pkg_offset('val') }}}} + {c} as val\nfrom {p[0]}"
        if t == "filter":
            sql = f"select id, grp, val\nfrom {p[0]}\nwhere (val + {c}) % {m.k} <> 0"
            if m.uses_var:
                sql += "\n  and val >= {{ var('min_val') }}"
            return sql
        if t == "scale":
            return f"select id, grp, {self._val_expr(m, 'val')} * {m.m} + {c} as val\nfrom {p[0]}"
        if t == "join":
            return (f"select a.id, a.grp, a.val + coalesce(b.val, 0) + {c} as val\n"
                    f"from {p[0]} as a\nleft join {p[1]} as b on a.id = b.id")
        if t == "union":
            return (f"select id * 2 as id, grp, val from {p[0]}\nunion all\n"
                    f"select id * 2 + 1 as id, grp, val + {c} as val from {p[1]}")
        if t == "seed_join":
            return (f"select p.id, p.grp, p.val * g.weight + {c} as val\nfrom {p[0]} as p\n"
                    f"join {{{{ ref('seed_groups') }}}} as g on p.grp = g.grp")
        if t == "inc":
            return (f"with src as (\n  select id, grp, {self._val_expr(m, 'val')} + {c} as val "
                    f"from {p[0]}\n)\nselect * from src\n{{% if is_incremental() %}}\n"
                    "where not exists (\n  select 1 from {{ this }} as t\n"
                    "  where t.id = src.id and t.grp = src.grp and t.val = src.val)\n"
                    "{% endif %}")
        if t == "agg":
            return (f"select grp, count(*) as n, sum(val) + {c} as total\nfrom {p[0]}\n"
                    "group by grp")
        if t == "agg_label":
            return (f"select g.label as grp, a.n, a.total + {c} as total\nfrom {p[0]} as a\n"
                    "join {{ ref('seed_groups') }} as g on a.grp = g.grp")
        raise ValueError(t)

    # ---- raw data ------------------------------------------------------------------------

    def raw_table_sql(self, table: str) -> list[str]:
        """Statements that recreate raw table `table` with the World's rows."""
        s = self.source(table)
        cols = "id integer, grp varchar, val integer"
        if s.has_loaded_at_column:
            cols += f", is_deleted boolean, loaded_at {s.ts_type}"
        stmts = [f"create or replace table {RAW_SCHEMA}.{table} ({cols})"]
        values = []
        for rid, (grp, val, deleted, loaded_at) in sorted(self.rows[table].items()):
            if s.has_loaded_at_column:
                lit = (f"timestamptz '{loaded_at}+00'" if s.ts_type == "timestamptz"
                       else f"timestamp '{loaded_at}'")
                values.append(f"({rid}, '{grp}', {val}, {str(deleted).lower()}, {lit})")
            else:
                values.append(f"({rid}, '{grp}', {val})")
        if values:
            stmts.append(f"insert into {RAW_SCHEMA}.{table} values " + ", ".join(values))
        return stmts

    def load_log_sql(self) -> list[str]:
        stmts = [f"create or replace table {RAW_SCHEMA}.load_log (tbl varchar, loaded_at timestamp)"]
        if self.load_log:
            stmts.append(f"insert into {RAW_SCHEMA}.load_log values " + ", ".join(
                f"('{t}', timestamp '{ts}')" for t, ts in self.load_log))
        return stmts


def sim_now(world: World) -> dt.datetime:
    """The simulated clock (UTC, naive): real time plus the World's offset."""
    return (dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            + dt.timedelta(seconds=world.clock_offset_s))


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f")


# ---- generation --------------------------------------------------------------------------

def generate(seed: int) -> World:
    """A random project + data from `seed` (deterministic)."""
    rng = random.Random(seed)
    now = iso(dt.datetime(2020, 1, 1))  # initial loads are old; every change is "now"
    kinds = ["field", "field_null", "query", "none"]
    if rng.random() < 0.4:
        kinds.append(rng.choice(["field", "query", "none"]))
    sources = [Source(f"src_{chr(ord('a') + i)}", k,
                      rng.choice(["timestamp", "timestamptz"])) for i, k in enumerate(kinds)]
    world = World(seed=seed, sources=sources, models=[], seed_groups=[], seed_items=[],
                  generic_tests=[], singular_tests=[], unit_test_model=None, source_test=None)
    world.seed_groups = [(g, f"group_{g}", rng.randint(1, 4)) for g in GROUPS]
    world.seed_items = [(i, rng.choice(GROUPS), rng.randint(1, 30)) for i in range(1, 6)]
    world.macro_c = rng.randint(1, 5)
    world.pkg_macro_c = rng.randint(1, 5)
    world.min_val = rng.randint(0, 8)
    world.env_factor = rng.choice([None, None, "2"])
    world.seed_state_orchestration = rng.random() < 0.5
    for s in sources:
        n = rng.randint(3, 7)
        world.rows[s.name] = {i: [rng.choice(GROUPS), rng.randint(1, 30), False, now]
                              for i in range(1, n + 1)}
        world.data_version[s.name] = 0
        if s.kind == "query":
            world.load_log.append((s.name, now))

    def mat(choices: list[str], weights: list[int]) -> str:
        return rng.choices(choices, weights)[0]

    # staging: one per source
    r_nodes: list[str] = ["seed_items"]
    for s in sources:
        m = Model(f"stg_{s.name[4:]}", "stage", [f"source:{s.name}"],
                  mat(["view", "table", "ephemeral"], [5, 3, 2]), folder="staging",
                  config_in=rng.choice(["sql", "yml", "project"]), c=rng.randint(0, 3))
        m.uses_macro = rng.random() < 0.2
        world.models.append(m)
        r_nodes.append(m.name)
    # the local package: a model without parents and one reading a root staging model
    world.models.append(Model("pkg_calendar", "calendar", [], "table", package=True,
                              c=rng.randint(0, 3)))
    r_nodes.append("pkg_calendar")
    # marts
    a_nodes: list[str] = []
    n_marts = rng.randint(6, 14)
    for i in range(n_marts):
        roll = rng.random()
        if a_nodes and roll < 0.12:
            template = "agg_label"
        elif roll < 0.3:
            template = "agg"
        else:
            template = rng.choices(R_TEMPLATES, [4, 3, 2, 2, 2, 2])[0]
        name = f"m{i + 1:02d}_{template}"
        if template == "agg_label":
            parents = [rng.choice(a_nodes)]
        elif template in ("join", "union"):
            parents = rng.sample(r_nodes, 2)
        else:
            # prefer recent nodes, for depth
            parents = [rng.choice(r_nodes[-6:] if rng.random() < 0.6 else r_nodes)]
        if template == "inc":
            materialized = "incremental"
        elif template in A_TEMPLATES:
            materialized = mat(["table", "view"], [3, 1])
        else:
            materialized = mat(["view", "table", "ephemeral"], [3, 4, 1])
        m = Model(name, template, parents, materialized,
                  config_in=rng.choice(["sql", "sql", "yml", "project"]),
                  c=rng.randint(0, 3), k=rng.randint(3, 5), m=rng.randint(1, 3))
        m.uses_macro = template in ("scale", "inc") and rng.random() < 0.5
        m.uses_env = template in ("scale", "inc") and rng.random() < 0.35
        m.uses_var = template == "filter" and rng.random() < 0.5
        m.tags = rng.choice([[], [], ["t1"], ["t2"]])
        world.models.append(m)
        (a_nodes if m.shape == "A" else r_nodes).append(name)
    # package model reading a root model (after marts exist so it can be anywhere)
    stg = [m.name for m in world.models if m.template == "stage"]
    world.models.append(Model("pkg_enriched", "pkg_enrich", [rng.choice(stg)], "table",
                              package=True, c=rng.randint(0, 3)))
    # incremental parents must have a relation (post-hook refs them)
    for m in world.models:
        if m.template == "inc":
            p = m.parents[0]
            if p not in world.seeds and world.model(p).materialized == "ephemeral":
                world.model(p).materialized = "view"
    for m in world.models:
        if m.package and m.parents:
            p = world.model(m.parents[0])
            if p.materialized == "ephemeral":
                p.materialized = "view"
    # build_after on some leaves/marts (some with every child windowed, so parents inherit)
    marts = [m for m in world.models if m.folder == "marts" and not m.package]
    for m in marts:
        if rng.random() < 0.3 and m.materialized != "ephemeral":
            m.build_after = (rng.choice([1, 2]), rng.choice(["any", "all"]))
    # tests
    relational = [m for m in world.models if m.shape == "R" and not m.package]
    for m in relational:
        if m.materialized == "ephemeral":
            continue
        r = rng.random()
        if r < 0.35:
            world.generic_tests += [{"model": m.name, "kind": "unique"},
                                    {"model": m.name, "kind": "not_null"}]
        elif r < 0.5:
            world.generic_tests.append({"model": m.name, "kind": "accepted_values",
                                        "column": "grp"})
        if (m.template in ID_PRESERVING and m.template not in ("inc",) and rng.random() < 0.35):
            parent = m.parents[0]
            if parent not in world.seeds and world.model(parent).materialized != "ephemeral":
                world.generic_tests.append({"model": m.name, "kind": "relationships",
                                            "to": parent})
    candidates = [m for m in relational if m.materialized != "ephemeral"]
    if candidates:
        world.singular_tests.append(SingularTest("assert_sane_" + (t := rng.choice(candidates)).name,
                                                 [t.name]))
    spanning = [m for m in relational if m.template in ID_PRESERVING
                and m.parents[0] not in world.seeds and m.materialized != "ephemeral"
                and world.model(m.parents[0]).materialized != "ephemeral"]
    if spanning:
        m = rng.choice(spanning)
        world.singular_tests.append(SingularTest(f"assert_{m.name}_within_parent",
                                                 [m.name, m.parents[0]]))
    world.source_test = rng.choice([s.name for s in sources])
    # unit test: a filter model without var whose parent has a relation
    ut = [m for m in world.models if m.template == "filter" and not m.uses_var
          and m.materialized != "ephemeral"
          and (m.parents[0] in world.seeds or world.model(m.parents[0]).materialized != "ephemeral")]
    if ut:
        world.unit_test_model = rng.choice(ut).name
    world.snapshot = rng.random() < 0.5   # drawn last: earlier draws stay as they were
    return world
