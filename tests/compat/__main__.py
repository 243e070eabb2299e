"""Command line of the compatibility matrix against dbt-orchestra 1.5.0.

    python -m tests.compat            # the representative subset (what `make test` runs)
    python -m tests.compat --full     # the full matrix (`make test-compat`)
    python -m tests.compat --full --only acct-lr0   # combinations whose name contains it

Prints one line per combination and step while it runs, then the table combinations × steps
(ok, or xN mismatches), the allowed deviations counted, and every mismatch. Exit status 1
when there is any mismatch. ORC_BIN is the orc under test (default build/orc),
ORC_REFERENCE_VENV the reference's venv (default .venv-orchestra15).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .matrix import ALL_STEPS, SUBSET, full_matrix
from .runner import format_report, run_matrix
from .twins import reference_binary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.compat", description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="the full matrix (default: the subset)")
    ap.add_argument("--only", default="", help="combinations whose name contains this")
    ap.add_argument("--steps", help="run only these steps (comma-separated, in matrix order)")
    ap.add_argument("-j", type=int, default=1, choices=(1, 2),
                    help="combinations at a time (each runs its two tools at once)")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it")
    ap.add_argument("--json", type=Path, help="write the per-step findings here")
    args = ap.parse_args(argv)
    if not reference_binary().exists():
        print(f"dbt-orchestra 1.5.0 is not installed ({reference_binary()}): run VENV="
              ".venv-orchestra15 REQUIREMENTS=requirements-orchestra15.txt "
              "bash scripts/install_deps.sh", file=sys.stderr)
        return 2
    combos = [c for c in (full_matrix() if args.full else SUBSET) if args.only in c.name]
    if args.steps:
        wanted = args.steps.split(",")
        combos = [dataclasses.replace(c, steps=tuple(s for s in ALL_STEPS if s in wanted))
                  for c in combos]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    report = run_matrix(combos, args.keep, args.j, log=lambda m: print(m, flush=True))
    print()
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(
            [{"combination": c.combo.name, "error": c.error, "seconds": round(c.seconds, 1),
              "steps": [{"step": s.step, "mismatches": s.mismatches,
                         "deviations": dict(s.deviations), "seconds": s.seconds}
                        for s in c.steps]} for c in report.combos], indent=2))
    return 1 if report.mismatches else 0


sys.exit(main())
