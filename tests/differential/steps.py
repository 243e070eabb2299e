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

A mutation draws everything it needs (which rows, which new value) from its own seed and
the World it is applied to, so any subsequence of a sequence is still a valid sequence
(that is what shrinking relies on). Repairs of broken models/tests are separate steps.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from .generator import GROUPS, World, iso, sim_now

MUTATION_WEIGHTS = {
    "insert": 3, "update": 2, "delete": 2, "sql_edit": 2, "comment_edit": 1,
    "macro_edit": 1.5, "var_change": 1, "env_change": 1, "config_change": 2, "seed_edit": 1,
    "break_model": 1, "break_test": 1, "drop_relation": 1, "advance_time": 2, "none": 1,
    "insert_two": 1,   # new rows in two independent sources, then two orc runs at once
}
TIME_JUMPS_MIN = (17, 41, 73, 131, 200)


@dataclass
class Command:
    """One orc invocation: `orc dbt <verb> [--full-refresh] [--select ..] [--exclude ..]`."""

    verb: str = "build"                 # build | run | test
    full_refresh: bool = False
    select: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    vars: int | None = None             # --vars '{min_val: N}'

    def args(self, extra_exclude: list[str] = ()) -> list[str]:
        """dbt arguments after the verb."""
        out: list[str] = []
        if self.full_refresh:
            out.append("--full-refresh")
        if self.select:
            out += ["--select", *self.select]
        exclude = [*self.exclude, *[e for e in extra_exclude if e not in self.exclude]]
        if exclude:
            out += ["--exclude", *exclude]
        if self.vars is not None:
            out += ["--vars", f"{{min_val: {self.vars}}}"]
        return out

    def text(self) -> str:
        opts = []
        if self.select:
            opts.append("s=" + ",".join(self.select))
        if self.exclude:
            opts.append("x=" + ",".join(self.exclude))
        if self.vars is not None:
            opts.append(f"v={self.vars}")
        return self.verb + ("!" if self.full_refresh else "") + (
            "[" + ";".join(opts) + "]" if opts else "")

    @staticmethod
    def parse(text: str) -> "Command":
        m = re.fullmatch(r"(build|run|test)(!?)(?:\[(.*)\])?", text)
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
    kind = rng.choices(["build", "select", "exclude", "run", "test", "full_refresh",
                        "concurrent", "vars"], [6, 2, 1, 1, 1, 0.5, 1, 0.5])[0]
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
    kinds = list(MUTATION_WEIGHTS)
    weights = [MUTATION_WEIGHTS[k] for k in kinds]
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
        step = Step(kind, target, rng.randrange(1000), [])
        if kind == "drop_relation":
            step.commands = [Command()]
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
    elif kind != "none":
        raise ValueError(f"unknown mutation {kind!r}")
    return eff
