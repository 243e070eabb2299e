"""Change steps: what happens to a World between two orc runs, and how orc is run.

A `Step` is one mutation (data, code, config, environment, clock, warehouse) followed by one
orc command (or two concurrent ones). Steps have a compact text form, so that a sequence can
be printed and replayed exactly:

    insert:src_a:812/build                 three fields: kind, target ("-" for none), seed
    config_change:m04_join:77/build[s=m02_scale+;x=m07_agg]
    none:-:0/run!                          "!" = --full-refresh
    none:-:0/build[s=pkg_calendar+]&build[s=m03_union+]     two orc runs at once
    insert_two:src_a+src_c:5/build[s=source:raw.src_a+]&build[s=source:raw.src_c+]
    var_change:-:5/build[v=7]              v = --vars '{min_val: 7}'
    none:-:0/build[v=7;w=3]                w = pkg_min in --vars: '{min_val: 7, pkg_min: 3}'
    seed_source_edit:-:4/build[e]          e = --empty
    pkg_upgrade:diffpkg.var+remove:9/build the package's next version: what changes in it

A mutation draws everything it needs (which rows, which new value) from its own seed and
the World it is applied to, so any subsequence of a sequence is still a valid sequence
(that is what shrinking relies on). Repairs of broken models/tests are separate steps.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import datetime as dt

from .generator import (GROUPS, PKG_VARS, Model, Package, World, draw_var_value, iso,
                        sim_now)

MUTATION_WEIGHTS = {
    "insert": 3, "update": 2, "delete": 2, "sql_edit": 2, "comment_edit": 1,
    "macro_edit": 1.5, "var_change": 1, "env_change": 1, "config_change": 2, "seed_edit": 1,
    "break_model": 1, "break_test": 1, "drop_relation": 1, "advance_time": 2, "none": 1,
    "insert_two": 1,   # new rows in two independent sources, then two orc runs at once
}
# Real-world steps (generate(seed, real=True)): package upgrades and var defaults, a root
# dbt_project.yml change that changes nothing, rows arriving late, an edit of the seed a
# source reads.
REAL_MUTATION_WEIGHTS = {
    **MUTATION_WEIGHTS, "pkg_upgrade": 2, "pkg_var_change": 2, "root_yml_comment": 1.5,
    "late_insert": 3, "seed_source_edit": 2, "source_add_column": 1.5,
}
UPGRADE_PARTS = ("var", "sql", "add", "remove", "macro", "config")
TIME_JUMPS_MIN = (17, 41, 73, 131, 200)


@dataclass
class Command:
    """One orc invocation: `orc dbt <verb> [--full-refresh] [--select ..] [--exclude ..]`."""

    verb: str = "build"                 # build | run | test
    full_refresh: bool = False
    select: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    vars: int | None = None             # --vars '{min_val: N}'
    pvars: int | None = None            # pkg_min in --vars (read by package models)
    empty: bool = False                 # --empty

    def cli_vars(self) -> dict[str, int]:
        """The --vars this command passes."""
        out = {}
        if self.vars is not None:
            out["min_val"] = self.vars
        if self.pvars is not None:
            out["pkg_min"] = self.pvars
        return out

    def args(self, extra_exclude: list[str] = ()) -> list[str]:
        """dbt arguments after the verb."""
        out: list[str] = []
        if self.full_refresh:
            out.append("--full-refresh")
        if self.empty:
            out.append("--empty")
        if self.select:
            out += ["--select", *self.select]
        exclude = [*self.exclude, *[e for e in extra_exclude if e not in self.exclude]]
        if exclude:
            out += ["--exclude", *exclude]
        if self.cli_vars():
            out += ["--vars", "{" + ", ".join(f"{k}: {v}" for k, v in
                                              self.cli_vars().items()) + "}"]
        return out

    def text(self) -> str:
        opts = []
        if self.select:
            opts.append("s=" + ",".join(self.select))
        if self.exclude:
            opts.append("x=" + ",".join(self.exclude))
        if self.vars is not None:
            opts.append(f"v={self.vars}")
        if self.pvars is not None:
            opts.append(f"w={self.pvars}")
        if self.empty:
            opts.append("e")
        return self.verb + ("!" if self.full_refresh else "") + (
            "[" + ";".join(opts) + "]" if opts else "")

    @staticmethod
    def parse(text: str) -> "Command":
        m = re.fullmatch(r"(build|run|test|prod_build|ci_build)(!?)(?:\[(.*)\])?", text)
        if not m:
            raise ValueError(f"bad command {text!r}")
        cmd = Command(m.group(1), bool(m.group(2)))
        for opt in filter(None, (m.group(3) or "").split(";")):
            key, _, value = opt.partition("=")
            if key == "s":
                cmd.select = value.split(",")
            elif key == "x":
                cmd.exclude = value.split(",")
            elif key == "v":
                cmd.vars = int(value)
            elif key == "w":
                cmd.pvars = int(value)
            elif key == "e" and not value:
                cmd.empty = True
            else:
                raise ValueError(f"bad command option {opt!r}")
        return cmd


@dataclass
class Step:
    mutation: str
    target: str
    rseed: int
    commands: list[Command]

    @property
    def concurrent(self) -> bool:
        return len(self.commands) > 1

    def text(self) -> str:
        return (f"{self.mutation}:{self.target}:{self.rseed}/"
                + "&".join(c.text() for c in self.commands))

    @staticmethod
    def parse(text: str) -> "Step":
        mut, _, cmds = text.partition("/")
        kind, target, rseed = mut.split(":")
        return Step(kind, target, int(rseed), [Command.parse(c) for c in cmds.split("&")])


INITIAL_STEP = Step("none", "-", 0, [Command()])


# ---- drawing sequences -------------------------------------------------------------------

def _relation_nodes(world: World) -> list[str]:
    return [m.name for m in world.models if m.materialized != "ephemeral"] + world.seeds


def draw_command(world: World, rng: random.Random) -> list[Command]:
    """A random orc command (or two concurrent ones) for `world`."""
    kinds = ["build", "select", "exclude", "run", "test", "full_refresh", "concurrent", "vars"]
    weights = [6, 2, 1, 1, 1, 0.5, 1, 0.5]
    if world.real:
        kinds, weights = kinds + ["empty"], weights + [0.7]
    kind = rng.choices(kinds, weights)[0]
    if kind == "empty":
        return [Command(rng.choice(["build", "build", "run"]), empty=True)]
    if kind == "vars" and world.real:
        form = rng.randrange(3)
        return [Command("build", vars=rng.randint(0, 10) if form != 1 else None,
                        pvars=rng.randint(0, 15) if form != 0 else None)]
    names = [m.name for m in world.models] + world.seeds
    if kind == "select":
        form = rng.randrange(6)
        n = rng.choice(names)
        sel = {0: [f"{n}+"], 1: [f"+{n}"], 2: [f"tag:{rng.choice(['t1', 't2'])}"],
               3: rng.sample(names, 2), 4: [f"source:raw.{rng.choice(world.sources).name}+"],
               5: ["config.materialized:table"]}[form]
        verb = rng.choice(["build", "build", "run"])
        return [Command(verb, select=sel)]
    if kind == "exclude":
        return [Command("build", exclude=[f"{rng.choice(names)}+"])]
    if kind in ("run", "test"):
        return [Command(kind)]
    if kind == "full_refresh":
        return [Command(rng.choice(["build", "run"]), full_refresh=True)]
    if kind == "vars":
        return [Command("build", vars=rng.randint(0, 10))]
    if kind == "concurrent":
        pair = independent_pair(world, rng)
        if pair:
            return [Command("build", select=[f"{pair[0]}+"]),
                    Command("build", select=[f"{pair[1]}+"])]
    return [Command("build")]


def independent_pair(world: World, rng: random.Random) -> tuple[str, str] | None:
    """Two nodes whose `+` closures share no node, so two concurrent builds of them write
    disjoint relations and read nothing the other writes."""
    names = [m.name for m in world.models] + world.seeds
    closure = {n: {n} | world.descendants(n) for n in names}
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
             if not closure[a] & closure[b]
             and any(x in world.seeds or world.model(x).materialized != "ephemeral"
                     for x in closure[a])
             and any(x in world.seeds or world.model(x).materialized != "ephemeral"
                     for x in closure[b])]
    return rng.choice(pairs) if pairs else None


def independent_sources(world: World, rng: random.Random) -> tuple[str, str] | None:
    """Two sources whose downstream closures share no node (see independent_pair)."""
    names = [s.name for s in world.sources]
    closure = {n: world.descendants(f"source:{n}") for n in names}
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
             if not closure[a] & closure[b]]
    return rng.choice(pairs) if pairs else None


def draw_sequence(world: World, rng: random.Random, n_steps: int) -> list[Step]:
    """`n_steps` random steps for `world` (the initial build is not counted). A broken model
    or test gets its repair 1-3 steps later (or not at all when the sequence ends first)."""
    steps: list[Step] = []
    pending: dict[int, Step] = {}
    table = REAL_MUTATION_WEIGHTS if world.real else MUTATION_WEIGHTS
    kinds = list(table)
    weights = [table[k] for k in kinds]
    while len(steps) < n_steps:
        if len(steps) in pending:
            repair = pending.pop(len(steps))
            repair.commands = draw_command(world, rng)
            steps.append(repair)
            continue
        kind = rng.choices(kinds, weights)[0]
        target = "-"
        if kind in ("insert", "update", "delete"):
            target = rng.choice(world.sources).name
        elif kind in ("sql_edit", "comment_edit", "config_change", "break_model"):
            target = rng.choice(world.models).name
        elif kind == "drop_relation":
            target = rng.choice(_relation_nodes(world))
        elif kind == "break_test":
            if not world.singular_tests:
                continue
            target = rng.choice(world.singular_tests).name
        elif kind == "insert_two":
            pair = independent_sources(world, rng)
            if not pair:
                continue
            target = "+".join(pair)
        elif kind == "late_insert":
            target = rng.choice(world.sources).name
        elif kind == "source_add_column":
            # mostly the source a `select *` staging model reads
            stars = [m.parents[0][7:] for m in world.models if m.template == "stage_star"]
            target = (rng.choice(stars) if stars and rng.random() < 0.7
                      else rng.choice(world.sources).name)
        elif kind == "pkg_var_change":
            target = rng.choice(world.packages).name
        elif kind == "pkg_upgrade":
            parts = rng.sample(UPGRADE_PARTS, rng.choice([1, 1, 2]))
            target = rng.choice(world.packages).name + "." + "+".join(parts)
        elif kind == "seed_source_edit" and not world.seed_loads:
            continue
        step = Step(kind, target, rng.randrange(1000), [])
        if kind == "drop_relation":
            # an --empty run then rebuilds the missing relation without rows
            step.commands = [Command(empty=world.real and rng.random() < 0.3)]
        elif kind == "insert_two":
            step.commands = [Command("build", select=[f"source:raw.{src}+"]) for src in pair]
        else:
            step.commands = draw_command(world, rng)
        steps.append(step)
        if kind in ("break_model", "break_test"):
            at = len(steps) + rng.randint(0, 2)
            if at not in pending:
                repair_kind = "repair_model" if kind == "break_model" else "repair_test"
                pending[at] = Step(repair_kind, target, 0, [])
    return steps


# ---- applying mutations ------------------------------------------------------------------

@dataclass
class Effect:
    """What a mutation asks of the harness besides re-rendering the project."""

    raw_tables: set[str] = field(default_factory=set)   # raw tables to rewrite
    drop: str | None = None                             # node name whose relation to drop
    note: str = ""


def apply_mutation(world: World, step: Step) -> Effect:
    """Applies `step`'s mutation to `world` in place."""
    rng = random.Random(step.rseed)
    kind, target = step.mutation, step.target
    eff = Effect()
    now = iso(sim_now(world))
    model_kinds = ("sql_edit", "comment_edit", "config_change", "break_model", "repair_model")
    if (kind in model_kinds and not world.has_model(target)) or (
            kind == "drop_relation" and target not in world.seeds
            and not world.has_model(target)):
        eff.note = f"{target} is gone (a package upgrade removed it): nothing changed"
        return eff

    def touched(table: str) -> None:
        eff.raw_tables.add(table)
        world.data_version[table] += 1
        if world.source(table).kind == "query":
            world.load_log.append((table, now))

    if kind == "insert_two":
        for table in target.split("+"):
            rows = world.rows[table]
            for _ in range(rng.randint(1, 2)):
                rows[max(rows, default=0) + 1] = [rng.choice(GROUPS), rng.randint(1, 30), False,
                                                  now]
            touched(table)
        eff.note = f"rows added to {target}"
    elif kind in ("insert", "update", "delete"):
        rows = world.rows[target]
        src = world.source(target)
        live = sorted(i for i, r in rows.items() if not r[2])
        if kind == "update" and not live:
            kind = "insert"
        if kind == "insert":
            for _ in range(rng.randint(1, 3)):
                rid = max(rows, default=0) + 1
                rows[rid] = [rng.choice(GROUPS), rng.randint(1, 30), False, now]
            touched(target)
        elif kind == "update":
            for rid in rng.sample(live, min(len(live), rng.randint(1, 2))):
                r = rows[rid]
                r[1] = r[1] + rng.choice([-3, -2, -1, 1, 2, 5])
                if rng.random() < 0.3:
                    r[0] = rng.choice(GROUPS)
                r[3] = now
            touched(target)
        elif live:
            rid = rng.choice(live)
            if src.soft_deletes:
                rows[rid][2] = True
                rows[rid][3] = now
            else:
                del rows[rid]
            touched(target)
        eff.note = f"{kind} in {target}"
    elif kind == "sql_edit":
        world.model(target).c += rng.choice([-1, 1, 2])
    elif kind == "comment_edit":
        world.model(target).comment += 1
    elif kind == "macro_edit" and world.real and rng.random() < 0.4:
        _package_macro_edit(world, rng, eff)
    elif kind == "macro_edit":
        r = rng.random()
        if r < 0.25:
            world.macro_comment += 1
            eff.note = "comment in the root macro file"
        elif r < 0.65:
            world.macro_c += rng.choice([1, 2])
            eff.note = "root macro diff_bump"
        else:
            world.pkg_macro_c += rng.choice([1, 2])
            eff.note = "package macro pkg_offset"
    elif kind == "var_change" and world.real and rng.random() < 0.5:
        _root_var_change(world, rng, eff)
    elif kind == "var_change":
        world.min_val = rng.choice([v for v in range(0, 11) if v != world.min_val])
    elif kind == "env_change":
        world.env_factor = rng.choice([v for v in (None, "2", "3") if v != world.env_factor])
    elif kind == "config_change":
        m = world.model(target)
        if m.template == "inc":
            mats = ["incremental", "table", "view"]
        elif m.package:
            mats = ["table", "view"]
            m.config_in = "sql"        # the model's own config() now says it
        else:
            mats = ["view", "table"] + ([] if world.pinned(m.name) else ["ephemeral"])
        mats = [x for x in mats if x != m.materialized]
        if m.materialized != "ephemeral" and rng.random() < 0.35:
            m.alias = None if m.alias else f"{m.name}_v2"
            eff.note = f"alias -> {m.relation}"
        else:
            m.materialized = rng.choice(mats)
            if m.materialized == "ephemeral":
                m.alias = None
            eff.note = f"materialized -> {m.materialized}"
    elif kind == "seed_edit":
        r = rng.random()
        if r < 0.4:
            i = rng.randrange(len(world.seed_groups))
            g, label, w = world.seed_groups[i]
            world.seed_groups[i] = (g, label, w + rng.choice([1, 2]))
        elif r < 0.55:
            i = rng.randrange(len(world.seed_groups))
            g, label, w = world.seed_groups[i]
            world.seed_groups[i] = (g, label + "x", w)
        elif r < 0.8:
            i = rng.randrange(len(world.seed_items))
            rid, g, v = world.seed_items[i]
            world.seed_items[i] = (rid, g, v + rng.choice([-2, 1, 3]))
        else:
            rid = max(r[0] for r in world.seed_items) + 1
            world.seed_items.append((rid, rng.choice(GROUPS), rng.randint(1, 30)))
    elif kind in ("break_model", "repair_model"):
        world.model(target).broken = kind == "break_model"
    elif kind in ("break_test", "repair_test"):
        for t in world.singular_tests:
            if t.name == target:
                t.broken = kind == "break_test"
    elif kind == "drop_relation":
        eff.drop = target
    elif kind == "advance_time":
        minutes = rng.choice(TIME_JUMPS_MIN)
        world.clock_offset_s += minutes * 60
        eff.note = f"+{minutes} min"
    elif kind == "late_insert":
        _late_insert(world, target, rng, eff)
    elif kind == "seed_source_edit":
        _seed_source_edit(world, rng, now, eff)
    elif kind == "source_add_column":
        # schema drift: a new column, no new row and no newer loaded_at
        n = world.extra_cols.get(target, 0) + 1
        world.extra_cols[target] = n
        eff.raw_tables.add(target)
        eff.note = f"column extra_{n} added to {target}"
    elif kind == "root_yml_comment":
        _root_yml_change(world, rng, eff)
    elif kind == "pkg_var_change":
        eff.note = _pkg_var_change(world, world.package(target), rng)
    elif kind == "pkg_upgrade":
        name, _, parts = target.partition(".")
        eff.note = _pkg_upgrade(world, world.package(name), parts.split("+"), rng)
    elif kind != "none":
        raise ValueError(f"unknown mutation {kind!r}")
    return eff


# ---- the real world's mutations -----------------------------------------------------------

def _late_insert(world: World, table: str, rng: random.Random, eff: Effect) -> None:
    """Rows that arrive late: their loaded_at (or, for a loaded_at_query source, the load
    log entry) is older than the newest one already there."""
    rows = world.rows[table]
    stamps = [r[3] for r in rows.values() if r[3]]
    if world.source(table).kind == "query":
        stamps += [ts for t, ts in world.load_log if t == table]
    newest = dt.datetime.strptime(max(stamps), "%Y-%m-%d %H:%M:%S.%f")
    late = iso(newest - dt.timedelta(minutes=rng.randint(1, 120)))
    for _ in range(rng.randint(1, 2)):
        rows[max(rows, default=0) + 1] = [rng.choice(GROUPS), rng.randint(1, 30), False, late]
    if world.source(table).kind == "query":
        world.load_log.append((table, late))
    world.data_version[table] += 1
    eff.raw_tables.add(table)
    eff.note = f"late rows in {table}, loaded_at {late} (newest {iso(newest)})"


def _seed_source_edit(world: World, rng: random.Random, now: str, eff: Effect) -> None:
    """An edit of seed_loads, the seed whose relation a source reads: a changed value (its
    loaded_at set to now, or left as it was: a silent correction) or a new row."""
    stamp = now[:19]
    r = rng.random()
    if r < 0.45:
        i = rng.randrange(len(world.seed_loads))
        rid, g, v, ts = world.seed_loads[i]
        world.seed_loads[i] = (rid, g, v + rng.choice([-2, 1, 3]), stamp)
        eff.note = f"seed_loads row {rid} changed"
    elif r < 0.7:
        i = rng.randrange(len(world.seed_loads))
        rid, g, v, ts = world.seed_loads[i]
        world.seed_loads[i] = (rid, g, v + rng.choice([-1, 2]), ts)
        eff.note = f"seed_loads row {rid} corrected, loaded_at kept"
    else:
        rid = max(x[0] for x in world.seed_loads) + 1
        world.seed_loads.append((rid, rng.choice(GROUPS), rng.randint(1, 30), stamp))
        eff.note = f"seed_loads row {rid} added"


def _root_yml_change(world: World, rng: random.Random, eff: Effect) -> None:
    """A change of the root dbt_project.yml that changes no node: a comment, an unrelated
    key, a var nothing reads (global or scoped to a package)."""
    r = rng.random()
    if r < 0.4:
        world.root_comments += 1
        eff.note = "comment in the root dbt_project.yml"
    elif r < 0.55:
        world.root_clean_targets = not world.root_clean_targets
        eff.note = "clean-targets in the root dbt_project.yml"
    elif r < 0.8 or not world.packages:
        name = f"unused_{rng.randint(1, 3)}"
        world.root_unused_vars[name] = world.root_unused_vars.get(name, 0) + rng.randint(1, 9)
        eff.note = f"root var {name} (read by no model)"
    else:
        pkg = rng.choice(world.packages).name
        scoped = world.root_scoped.setdefault(pkg, {})
        scoped["pkg_note"] = scoped.get("pkg_note", 0) + rng.randint(1, 9)
        eff.note = f"root var pkg_note scoped to {pkg} (read by no model)"


def _root_var_change(world: World, rng: random.Random, eff: Effect) -> None:
    """The root project sets, changes or drops its value of a package var (global or scoped
    to one package)."""
    pkg = rng.choice(world.packages)
    var = rng.choice(PKG_VARS[pkg.name])
    values = (world.root_vars if var in ("pkg_min", "pkg_mult") and rng.random() < 0.5
              else world.root_scoped.setdefault(pkg.name, {}))
    where = "global" if values is world.root_vars else f"scoped to {pkg.name}"
    if var in values and rng.random() < 0.4:
        del values[var]
        eff.note = f"root var {var} ({where}) removed"
    else:
        old = values.get(var)
        for _ in range(10):
            values[var] = draw_var_value(var, rng)
            if values[var] != old:
                break
        eff.note = f"root var {var} ({where}) = {values[var]}"


def _pkg_var_change(world: World, pkg: Package, rng: random.Random) -> str:
    """A new default of one var in the package's own dbt_project.yml."""
    entries = [("vars", v) for v in pkg.vars] + [("scoped", v) for v in pkg.scoped_vars]
    section, var = rng.choice(entries)
    values = pkg.vars if section == "vars" else pkg.scoped_vars
    old = values[var]
    for _ in range(10):
        values[var] = draw_var_value(var, rng)
        if values[var] != old:
            break
    return f"{pkg.name} var {var} ({section}) {old} -> {values[var]}"


def _package_macro_edit(world: World, rng: random.Random, eff: Effect) -> None:
    """An edit of the dispatched macro: the root override's body, the override added or
    removed, or the package's default implementation."""
    pkg = rng.choice(world.packages)
    r = rng.random()
    if r < 0.4 and pkg.name in world.overrides:
        prefix, c = world.overrides[pkg.name]
        world.overrides[pkg.name] = (prefix, c + rng.choice([1, 2]))
        eff.note = f"root override {prefix}__{pkg.prefix}_scale"
    elif r < 0.6:
        if pkg.name in world.overrides:
            del world.overrides[pkg.name]
            eff.note = f"root override of {pkg.prefix}_scale removed"
        else:
            world.overrides[pkg.name] = (rng.choice(["duckdb", "default"]), rng.randint(10, 15))
            eff.note = f"root override of {pkg.prefix}_scale added"
    else:
        pkg.scale_c += rng.choice([1, 2])
        eff.note = f"package macro default__{pkg.prefix}_scale"


def _pkg_upgrade(world: World, pkg: Package, parts: list[str], rng: random.Random) -> str:
    """The package's next version: its dbt_project.yml version, plus each of `parts`."""
    pkg.version += 1
    notes = [f"{pkg.name} 1.{pkg.version}"]
    mine = [m for m in world.models if m.package == pkg.name]
    for part in parts:
        if part == "var":
            notes.append(_pkg_var_change(world, pkg, rng))
        elif part == "sql" and mine:
            m = rng.choice(mine)
            m.c += rng.choice([-1, 1, 2])
            notes.append(f"{m.name} SQL")
        elif part == "add":
            if pkg.removed and rng.random() < 0.6:
                m = pkg.removed.pop(rng.randrange(len(pkg.removed)))
                if rng.random() < 0.5:
                    m.c += 1
                notes.append(f"{m.name} back")
            else:
                pkg.added += 1
                parents = [x.name for x in world.models if not x.package and x.shape == "R"
                           and x.materialized != "ephemeral"] + ["seed_items"]
                template = rng.choice(["pkg_scale", "pkg_filter"])
                m = Model(f"{pkg.prefix}_new{pkg.added}", template, [rng.choice(parents)],
                          pkg.materialized, config_in="project", package=pkg.name,
                          c=rng.randint(0, 3))
                notes.append(f"{m.name} added")
            if m.config_in == "project":
                m.materialized = pkg.materialized
            world.models.append(m)
        elif part == "remove":
            leaves = [m for m in mine if m in world.models and not world.children(m.name)]
            if leaves:
                m = rng.choice(leaves)
                world.models.remove(m)
                pkg.removed.append(m)
                notes.append(f"{m.name} removed")
        elif part == "macro":
            if pkg.name == "diffpkg" and rng.random() < 0.4:
                world.pkg_macro_c += rng.choice([1, 2])
                notes.append("pkg_offset")
            else:
                pkg.scale_c += rng.choice([1, 2])
                notes.append(f"default__{pkg.prefix}_scale")
        elif part == "config":
            pkg.materialized = "view" if pkg.materialized == "table" else "table"
            for m in world.models:
                if m.package == pkg.name and m.config_in == "project":
                    m.materialized = pkg.materialized
            notes.append(f"+materialized: {pkg.materialized}")
    return ", ".join(notes)
