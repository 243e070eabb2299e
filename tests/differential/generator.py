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

The real world (`generate(seed, real=True)`, `--world real`) grows the project towards what
real projects hold, drawn after everything above so the base project stays as it was:
packages with their own dbt_project.yml (`Package`: vars global and scoped to the package,
`models: <pkg>: +materialized`, models reading vars in SQL and through a dispatched macro
that the root project may override), a second package sometimes, root vars overriding
package vars (global and scoped), sources whose table is a seed's or the snapshot's
relation (`Source.relation_of`), audit-timestamp columns in staging models, and a staging
model that selects every column of its source (`select *`, template `stage_star`), so a
column added to a source changes what it holds (`World.extra_cols`, step `source_add_column`).
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
AUX_PACKAGE = "auxpkg"
RAW_SCHEMA = "raw"
REL_SOURCE = "rel"             # the source (schema main) whose tables are node relations
AUDIT_COLUMNS = ("_loaded_at", "_orc_audit_ts")   # never compared (oracle.read_relations)
SNAPSHOT_ID = f"snapshot.{PROJECT}.snap_items"

# Which templates return which shape, and what they take as parents.
R_TEMPLATES = ("filter", "scale", "join", "union", "seed_join", "inc")
A_TEMPLATES = ("agg", "agg_label")
ID_PRESERVING = ("filter", "scale", "join", "seed_join", "inc")  # ids are a subset of parent 0's


@dataclass
class Source:
    name: str
    kind: str                      # field | field_null | query | none
    ts_type: str = "timestamp"     # timestamp | timestamptz (loaded_at column type)
    relation_of: str | None = None  # a relation source: the seed or snapshot whose relation
    identifier: str | None = None   # it reads (source `rel`, schema main, this identifier)
    loaded_at: str = "loaded_at"    # the loaded_at_field of a relation source

    @property
    def soft_deletes(self) -> bool:
        return self.kind in ("field", "field_null") and not self.relation_of

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
    package: str = ""              # the package the model belongs to ("" = the root project)
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
    audit: str | None = None       # an audit-timestamp column (current_timestamp) it adds

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
        return f"model.{self.package or PROJECT}.{self.name}"


@dataclass
class SingularTest:
    name: str
    models: list[str]              # one model (sanity) or two (child ids within parent)
    broken: bool = False

    @property
    def unique_id(self) -> str:
        return f"test.{PROJECT}.{self.name}"


@dataclass
class Package:
    """A local package of the real world, with a dbt_project.yml of its own. Its models
    read `vars` (the global section of its own `vars:`) and `scoped_vars` (`vars: {<name>:
    {...}}`, which win over the global ones), directly and through the dispatched macro
    `<prefix>_scale` (`default__<prefix>_scale` here, unless the root project overrides it).
    `version` counts upgrades (steps.py `pkg_upgrade`)."""

    name: str
    prefix: str                    # of its dispatched macro: <prefix>_scale
    materialized: str = "table"    # models: <name>: +materialized
    vars: dict[str, int] = field(default_factory=dict)
    scoped_vars: dict[str, int] = field(default_factory=dict)
    scale_c: int = 1               # the constant of default__<prefix>_scale
    version: int = 1
    added: int = 0                 # models added by upgrades so far (for their names)
    removed: list = field(default_factory=list)   # models an upgrade removed (may come back)

    def own_value(self, var: str) -> int:
        """The var's value from the package's own dbt_project.yml (scoped wins)."""
        return self.scoped_vars[var] if var in self.scoped_vars else self.vars[var]


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
    # ---- the real world (generate(seed, real=True)); empty/false in the base world ----
    real: bool = False
    packages: list[Package] = field(default_factory=list)
    root_vars: dict[str, int] = field(default_factory=dict)        # global package-var values
    root_scoped: dict[str, dict[str, int]] = field(default_factory=dict)   # vars: {<pkg>: ..}
    overrides: dict[str, tuple[str, int]] = field(default_factory=dict)  # pkg -> (prefix, c)
    root_first: dict[str, bool] = field(default_factory=dict)     # dispatch search order
    root_comments: int = 0                                         # comment lines appended
    root_unused_vars: dict[str, int] = field(default_factory=dict)  # vars nothing reads
    root_clean_targets: bool = False                               # an unrelated key
    rel_sources: list[Source] = field(default_factory=list)
    seed_loads: list[tuple[int, str, int, str]] = field(default_factory=list)  # id,grp,val,ts
    # columns added to a raw table after its creation (schema drift): table -> how many;
    # column extra_<k> is a varchar holding 'x<k>' in every row
    extra_cols: dict[str, int] = field(default_factory=dict)

    # ---- lookups -------------------------------------------------------------------------

    def model(self, name: str) -> Model:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def source(self, name: str) -> Source:
        for s in self.sources + self.rel_sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def has_model(self, name: str) -> bool:
        return any(m.name == name for m in self.models)

    def package(self, name: str) -> Package:
        for p in self.packages:
            if p.name == name:
                return p
        raise KeyError(name)

    def is_rel_source(self, ref: str) -> bool:
        """Whether `source:<name>` names a relation source (a seed's or snapshot's table)."""
        return ref.startswith("source:") and any(s.name == ref[7:] for s in self.rel_sources)

    def copy(self) -> "World":
        return copy.deepcopy(self)

    @property
    def seeds(self) -> list[str]:
        return ["seed_groups", "seed_items"] + (["seed_loads"] if self.seed_loads else [])

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
        return any(m.package and name in m.parents for m in self.models) or any(
            name in p.parents for pkg in self.packages for p in pkg.removed)

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

    def var_value(self, package: str, var: str, cli: dict[str, int]) -> int:
        """A package var as dbt resolves it for a model of `package`: --vars, then the root
        project's `vars: {<package>: ...}`, its global vars, then the package's own
        dbt_project.yml (scoped, then global)."""
        if var in cli:
            return cli[var]
        if var in self.root_scoped.get(package, {}):
            return self.root_scoped[package][var]
        if var in self.root_vars:
            return self.root_vars[var]
        return self.package(package).own_value(var)

    def vars_read(self, m: Model) -> list[str]:
        """The vars a model's compiled SQL depends on (directly or through its macros)."""
        if m.template == "filter" and m.uses_var:
            return ["min_val"]
        if not self.real:
            return []
        return {"calendar": ["pkg_days"], "pkg_enrich": ["pkg_off"], "pkg_scale": ["pkg_mult"],
                "pkg_filter": ["pkg_min"]}.get(m.template, [])

    def scale_impl(self, package: str) -> tuple[str, int]:
        """Which implementation `<prefix>_scale` dispatches to: ("root", c) when the root
        project overrides it and is searched first, else ("package", c)."""
        if package in self.overrides and self.root_first.get(package, True):
            return ("root", self.overrides[package][1])
        return ("package", self.package(package).scale_c)

    # ---- rendering -----------------------------------------------------------------------

    def render(self) -> dict[str, str]:
        """{relative path: text} of the whole project (root + local packages)."""
        files: dict[str, str] = {}
        files["dbt_project.yml"] = self._dbt_project()
        files["packages.yml"] = "packages:\n" + "".join(
            f"  - local: packages/{p}\n" for p in self.package_names)
        files["macros/diff_macros.sql"] = (
            f"{{#- shared arithmetic used by some models (edits: {self.macro_comment}) -#}}\n"
            f"{{% macro diff_bump(x) %}}({{{{ x }}}} + {self.macro_c}){{% endmacro %}}\n")
        if self.overrides:
            files["macros/pkg_overrides.sql"] = "".join(
                f"{{% macro {prefix}__{self.package(p).prefix}_scale(x) %}}"
                f"({{{{ x }}}} * {{{{ var('pkg_mult') }}}} + {c}){{% endmacro %}}\n"
                for p, (prefix, c) in sorted(self.overrides.items()))
        files["models/staging/sources.yml"] = self._sources_yml()
        files["models/schema.yml"] = self._schema_yml()
        files["seeds/seed_groups.csv"] = "grp,label,weight\n" + "".join(
            f"{g},{label},{w}\n" for g, label, w in self.seed_groups)
        files["seeds/seed_items.csv"] = "id,grp,val\n" + "".join(
            f"{i},{g},{v}\n" for i, g, v in self.seed_items)
        if self.seed_loads:
            files["seeds/seed_loads.csv"] = "id,grp,val,loaded_at\n" + "".join(
                f"{i},{g},{v},{ts}\n" for i, g, v, ts in self.seed_loads)
        for t in self.singular_tests:
            files[f"tests/{t.name}.sql"] = self._singular_sql(t)
        if self.snapshot:
            files["snapshots/snapshots.yml"] = (
                "snapshots:\n  - name: snap_items\n    relation: ref('seed_items')\n"
                "    config:\n      unique_key: id\n      strategy: check\n"
                "      check_cols: all\n")
        if not self.packages:
            pkg = f"packages/{PACKAGE}"
            files[f"{pkg}/dbt_project.yml"] = (
                f"name: {PACKAGE}\nversion: '1.0'\nconfig-version: 2\n"
                f"models:\n  {PACKAGE}:\n    +materialized: table\n")
            files[f"{pkg}/macros/pkg_macros.sql"] = (
                f"{{% macro pkg_offset(x) %}}({{{{ x }}}} + {self.pkg_macro_c}){{% endmacro %}}\n")
        for p in self.packages:
            files.update(self._package_files(p))
        for m in self.models:
            if m.package:
                files[f"packages/{m.package}/models/{m.name}.sql"] = self._model_sql(m)
            else:
                files[f"models/{m.folder}/{m.name}.sql"] = self._model_sql(m)
        return files

    @property
    def package_names(self) -> list[str]:
        return [p.name for p in self.packages] or [PACKAGE]

    def _package_files(self, p: Package) -> dict[str, str]:
        """A real-world package's own dbt_project.yml and macros."""
        lines = [f"name: {p.name}", f"version: '1.{p.version}'", "config-version: 2"]
        if p.vars or p.scoped_vars:
            lines.append("vars:")
            lines += [f"  {k}: {v}" for k, v in sorted(p.vars.items())]
            if p.scoped_vars:
                lines.append(f"  {p.name}:")
                lines += [f"    {k}: {v}" for k, v in sorted(p.scoped_vars.items())]
        lines += ["models:", f"  {p.name}:", f"    +materialized: {p.materialized}"]
        macros = (f"{{% macro {p.prefix}_scale(x) %}}{{{{ return(adapter.dispatch("
                  f"'{p.prefix}_scale', '{p.name}')(x)) }}}}{{% endmacro %}}\n"
                  f"{{% macro default__{p.prefix}_scale(x) %}}"
                  f"({{{{ x }}}} * {{{{ var('pkg_mult') }}}} + {p.scale_c}){{% endmacro %}}\n")
        if p.name == PACKAGE:
            macros += (f"{{% macro pkg_offset(x) %}}({{{{ x }}}} + {self.pkg_macro_c} + "
                       f"{{{{ var('pkg_off') }}}}){{% endmacro %}}\n")
        return {f"packages/{p.name}/dbt_project.yml": "\n".join(lines) + "\n",
                f"packages/{p.name}/macros/{p.prefix}_macros.sql": macros}

    def _dbt_project(self) -> str:
        lines = [f"name: {PROJECT}", "version: '1.0'", "config-version: 2", "profile: diff",
                 "model-paths: [models]", "seed-paths: [seeds]", "test-paths: [tests]",
                 "snapshot-paths: [snapshots]",
                 "macro-paths: [macros]", "flags:", "  send_anonymous_usage_stats: false",
                 "vars:", f"  min_val: {self.min_val}"]
        lines += [f"  {k}: {v}" for k, v in sorted({**self.root_vars,
                                                    **self.root_unused_vars}.items())]
        for pkg, values in sorted(self.root_scoped.items()):
            if values:
                lines.append(f"  {pkg}:")
                lines += [f"    {k}: {v}" for k, v in sorted(values.items())]
        if self.packages:
            lines.append("dispatch:")
            for p in self.packages:
                order = ([PROJECT, p.name] if self.root_first.get(p.name, True)
                         else [p.name, PROJECT])
                lines += [f"  - macro_namespace: {p.name}",
                          f"    search_order: [{', '.join(order)}]"]
        if self.root_clean_targets:
            lines.append("clean-targets: [target, dbt_packages]")
        lines += ["seeds:", f"  {PROJECT}:",
                  "    +quote_columns: false",
                  "    seed_groups:", "      +column_types: {weight: integer}",
                  "    seed_items:", "      +column_types: {id: integer, val: integer}"]
        if self.seed_loads:
            lines += ["    seed_loads:", "      +column_types: {id: integer, val: integer, "
                      "loaded_at: timestamp}"]
        lines += ["models:", f"  {PROJECT}:"]
        for folder, default in (("staging", "view"), ("marts", "table")):
            lines += [f"    {folder}:", f"      +materialized: {default}"]
            for m in self.models:
                if not m.package and m.folder == folder and m.config_in == "project":
                    lines.append(f"      {m.name}:")
                    lines.append(f"        +materialized: {m.materialized}")
                    if m.alias:
                        lines.append(f"        +alias: {m.alias}")
        lines += [f"# reviewed ({i + 1})" for i in range(self.root_comments)]
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
        if self.rel_sources:
            out += [f"  - name: {REL_SOURCE}", "    schema: main", "    tables:"]
            for s in self.rel_sources:
                out += [f"      - name: {s.name}", f"        identifier: {s.identifier}"]
                if s.kind == "field":
                    out += ["        config:", f"          loaded_at_field: {s.loaded_at}",
                            "          freshness:",
                            "            warn_after: {count: 24, period: hour}"]
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
        if m.config_in == "sql" or (m.package and m.config_in != "project"):
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
            src = REL_SOURCE if self.is_rel_source(name) else "raw"
            return f"{{{{ source('{src}', '{name[7:]}') }}}}"
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
            if src.relation_of == "snap_items":
                where = "\nwhere dbt_valid_to is null"
            audit = f", current_timestamp as {m.audit}" if m.audit else ""
            return (f"select id, grp, {self._val_expr(m, 'val')} + {c} as val{audit}\n"
                    f"from {p[0]}{where}")
        if t == "stage_star":
            return f"select * from {p[0]}"
        if t == "calendar":
            days = "{{ var('pkg_days') }} + 1" if self.real else "6"
            return (f"select range::integer as id, '{GROUPS[0]}' as grp, "
                    f"range::integer * {c + 1} as val\nfrom range(1, {days})")
        if t == "pkg_scale":
            macro = self.package(m.package).prefix + "_scale"
            return f"select id, grp, {{{{ {macro}('val') }}}} + {c} as val\nfrom {p[0]}"
        if t == "pkg_filter":
            return (f"select id, grp, val\nfrom {p[0]}\n"
                    f"where val + {c} >= {{{{ var('pkg_min') }}}}")
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
        extra = range(1, self.extra_cols.get(table, 0) + 1)
        cols += "".join(f", extra_{k} varchar" for k in extra)
        stmts = [f"create or replace table {RAW_SCHEMA}.{table} ({cols})"]
        values = []
        for rid, (grp, val, deleted, loaded_at) in sorted(self.rows[table].items()):
            tail = "".join(f", 'x{k}'" for k in extra)
            if s.has_loaded_at_column:
                lit = (f"timestamptz '{loaded_at}+00'" if s.ts_type == "timestamptz"
                       else f"timestamp '{loaded_at}'")
                values.append(f"({rid}, '{grp}', {val}, {str(deleted).lower()}, {lit}{tail})")
            else:
                values.append(f"({rid}, '{grp}', {val}{tail})")
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

def generate(seed: int, real: bool = False) -> World:
    """A random project + data from `seed` (deterministic). `real` grows it into the real
    world (see the module docstring), drawn after the base project."""
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
    world.models.append(Model("pkg_calendar", "calendar", [], "table", package=PACKAGE,
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
                              package=PACKAGE, c=rng.randint(0, 3)))
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
    if real:
        _grow(world, rng)
    return world


PKG_VARS = {PACKAGE: ("pkg_min", "pkg_mult", "pkg_off", "pkg_days"),
            AUX_PACKAGE: ("pkg_min", "pkg_mult")}


def draw_var_value(var: str, rng: random.Random) -> int:
    """A value of a package var in its range (pkg_days sizes a calendar: keep it small)."""
    lo, hi = {"pkg_min": (0, 15), "pkg_mult": (1, 4), "pkg_off": (0, 5),
              "pkg_days": (3, 7)}[var]
    return rng.randint(lo, hi)


def _grow(world: World, rng: random.Random) -> None:
    """Turns a base world into a real one (module docstring): packages with their own
    dbt_project.yml, vars and a dispatched macro, root overrides of both, relation sources,
    audit timestamps."""
    world.real = True
    with_relation = [m.name for m in world.models if not m.package and m.shape == "R"
                     and m.materialized != "ephemeral"] + ["seed_items"]
    names = [PACKAGE] + ([AUX_PACKAGE] if rng.random() < 0.5 else [])
    for name in names:
        p = Package(name, "pkg" if name == PACKAGE else "aux",
                    materialized=rng.choice(["table", "table", "view"]),
                    scale_c=rng.randint(1, 5))
        for var in PKG_VARS[name]:
            where = rng.random()
            if where < 0.45:
                p.vars[var] = draw_var_value(var, rng)
            elif where < 0.85:
                p.scoped_vars[var] = draw_var_value(var, rng)
            else:                          # both: the scoped one wins
                p.vars[var] = draw_var_value(var, rng)
                p.scoped_vars[var] = draw_var_value(var, rng)
        world.packages.append(p)
        if rng.random() < 0.6:
            world.overrides[name] = (rng.choice(["duckdb", "default"]), rng.randint(10, 15))
        world.root_first[name] = rng.random() < 0.8
        for var in PKG_VARS[name]:
            if rng.random() < 0.25:
                world.root_scoped.setdefault(name, {})[var] = draw_var_value(var, rng)
        for template, suffix in (("pkg_scale", "scaled"), ("pkg_filter", "filtered")):
            m = Model(f"{p.prefix}_{suffix}", template, [rng.choice(with_relation)],
                      p.materialized, package=name, c=rng.randint(0, 3),
                      config_in=rng.choice(["sql", "project", "project"]))
            world.models.append(m)
    for var in ("pkg_min", "pkg_mult"):
        if rng.random() < 0.3:
            world.root_vars[var] = draw_var_value(var, rng)
    pkg = world.package(PACKAGE)
    for m in world.models:
        if m.package == PACKAGE and m.template in ("calendar", "pkg_enrich"):
            if rng.random() < 0.6:
                m.config_in, m.materialized = "project", pkg.materialized
    # package models read these parents: they must keep a relation
    for m in world.models:
        for parent in m.parents if m.package else []:
            if parent not in world.seeds and world.model(parent).materialized == "ephemeral":
                world.model(parent).materialized = "view"
    # audit timestamps in staging models
    for m in world.models:
        if m.template == "stage" and rng.random() < 0.3:
            m.audit = rng.choice(["_loaded_at", "_loaded_at", "_orc_audit_ts"])
    # a source whose table is a seed's relation (and one over the snapshot's)
    world.seed_loads = [(i, rng.choice(GROUPS), rng.randint(1, 30), "2020-01-01 00:00:00")
                        for i in range(1, rng.randint(3, 5) + 1)]
    rel = [Source("loads", rng.choice(["field", "field", "none"]), relation_of="seed_loads",
                  identifier="seed_loads")]
    if world.snapshot:
        rel.append(Source("snap_current", rng.choice(["field", "none"]),
                          relation_of="snap_items", identifier="snap_items",
                          loaded_at="dbt_updated_at"))
    world.rel_sources = rel
    # a staging table of every column of a source with a loaded_at column (no draw: the
    # sequences of earlier campaigns keep their projects)
    star = next(s for s in world.sources if s.has_loaded_at_column)
    world.models.append(Model(f"stg_{star.name[4:]}_all", "stage_star", [f"source:{star.name}"],
                              "table", folder="staging"))
    for i, s in enumerate(rel):
        stg = Model(f"stg_{s.name}", "stage", [f"source:{s.name}"],
                    rng.choice(["table", "view"]), folder="staging",
                    config_in=rng.choice(["sql", "yml"]), c=rng.randint(0, 3))
        world.models.append(stg)
        world.models.append(Model(f"m9{i}_agg_{s.name}", "agg", [stg.name], "table",
                                  c=rng.randint(0, 3)))
