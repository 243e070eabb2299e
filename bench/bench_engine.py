#!/usr/bin/env python3
"""Engine benchmark: orc's `dbt orchestra plan` against the reference dbt-orchestra engine on
the same generated projects. Writes bench/out/engine.json (read by report.py).

Environment:
  BENCH_SIZES      comma-separated node counts (default 1000,10000,50000,100000)
  BENCH_REPS       orc repetitions per size (default 7; min and median reported)
  BENCH_REF_REPS   reference repetitions per size up to 10k nodes (default 3; 1 above)
  BENCH_TIMEOUT    seconds before a reference run counts as "> timeout" (default 600)
  ORC_BIN          the orc binary (default build/orc)
  BENCH_REUSE_REFERENCE=1  keep the reference's figures from the previous engine.json for
                   sizes whose generated project is unchanged (it takes ~10 minutes)
  REF_PYTHON       the reference venv's python (default bench/.venv-ref/bin/python)
"""
from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
sys.path.insert(0, str(BENCH))
import gen_project  # noqa: E402

NOW = "2026-01-15T12:00:00Z"


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  bench: {msg}", file=sys.stderr, flush=True)


def generator_stamp(n: int) -> str:
    return hashlib.sha256((BENCH / "gen_project.py").read_bytes() + str(n).encode()).hexdigest()


def ensure_project(n: int) -> Path:
    """Generates the n-node project unless a copy from the same generator is cached."""
    d = OUT / f"n{n}"
    stamp = d / ".stamp"
    if stamp.exists() and stamp.read_text() == generator_stamp(n) and (d / "meta.json").exists():
        return d
    log(f"generating {n} nodes into {d}")
    t = time.perf_counter()
    subprocess.run(["rm", "-rf", str(d)], check=True)
    gen_project.generate(n, str(d))
    stamp.write_text(generator_stamp(n))
    log(f"generated {n} nodes in {time.perf_counter() - t:.1f} s")
    return d


def run_measured(cmd: list[str], cwd: Path, timeout: float | None = None):
    """Runs cmd; returns (wall seconds, peak RSS KiB, stdout, returncode) or None on timeout."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None
    return time.perf_counter() - t, out, err, p.returncode


def run_with_rss(cmd: list[str], cwd: Path, timeout: float | None = None):
    """Like run_measured, plus the child's own peak RSS (KiB) from /usr/bin/time (the
    RUSAGE_CHILDREN maximum would mix all children)."""
    rss_file = OUT / ".rss"
    full = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file)] + cmd
    r = run_measured(full, cwd, timeout)
    if r is None:
        return None
    wall, out, err, rc = r
    try:
        rss_kb = int(rss_file.read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        rss_kb = -1
    return wall, rss_kb, out, err, rc


def last_json_line(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def orc_cmd(orc: str, d: Path, tag: str) -> list[str]:
    return [orc, "dbt", "orchestra", "plan", "--manifest", str(d / "target/manifest.json"),
            "--state", str(d / "state.json"), "--sources", str(d / "target/sources.json"),
            "--decisions-out", str(d / f"orc_decisions.{tag}.json"),
            "--run-results", str(d / "target/run_results.json"),
            "--state-out", str(d / f"state.orc-out.{tag}.json"), "--now", NOW, "--timings",
            "--adopt-unfingerprinted"]


def check_orc(orc: str, d: Path) -> str | None:
    """None when orc's plan command works on the project, else why not."""
    if not os.access(orc, os.X_OK):
        return f"{orc} is not an executable (run `make build`)"
    r = run_measured(orc_cmd(orc, d, "check"), d, timeout=120)
    if r is None:
        return "orc dbt orchestra plan did not finish in 120 s"
    _, out, err, rc = r
    if rc != 0 or last_json_line(out) is None:
        return (f"`orc dbt orchestra plan --timings` gave exit {rc} and no timings line "
                f"(stdout {out.strip()[:200]!r}, stderr {err.strip()[:300]!r})")
    return None


def compare_with_expected(d: Path, decisions_file: Path) -> dict:
    expected = json.loads((d / "expected.json").read_text())
    doc = json.loads(decisions_file.read_text())
    got = {n["unique_id"]: n["decision"] for n in doc["nodes"]}
    mismatched = sorted(u for u in expected if got.get(u) != expected[u])
    by_type = {}
    for n in doc["nodes"]:
        if n["resource_type"] in ("model", "seed", "snapshot"):
            by_type[n["decision"]] = by_type.get(n["decision"], 0) + 1
    return {"mismatches": len(mismatched), "mismatch_examples": mismatched[:5],
            "extra": len(set(got) - set(expected)),
            "materialisations": by_type}


def bench_orc(orc: str, d: Path, reps: int) -> dict:
    run_with_rss(orc_cmd(orc, d, "warm"), d)  # warm the page cache
    runs = []
    for i in range(reps):
        r = run_with_rss(orc_cmd(orc, d, "run"), d)
        wall, rss, out, err, rc = r
        if rc != 0:
            raise SystemExit(f"orc failed on {d}: {err.strip()[:500]}")
        runs.append({"wall_ms": wall * 1000, "rss_kb": rss, "timings": last_json_line(out)})
    walls = sorted(r["wall_ms"] for r in runs)
    med = statistics.median(walls)
    median_run = min(runs, key=lambda r: abs(r["wall_ms"] - med))
    return {"reps": reps, "wall_ms_min": walls[0], "wall_ms_median": med,
            "rss_kb_max": max(r["rss_kb"] for r in runs),
            "timings_median_run": median_run["timings"],
            "phase_ms_median": {k: statistics.median(r["timings"][k] for r in runs)
                                for k in runs[0]["timings"] if k.endswith("_ms")},
            "check": compare_with_expected(d, d / "orc_decisions.run.json")}


def bench_reference(py: str, d: Path, reps: int, timeout: float) -> dict:
    cmd = [py, str(BENCH / "reference_engine.py"), "--project", str(d), "--now", NOW,
           "--decisions-out", str(d / "ref_decisions.json"),
           "--state-out", str(d / "state.ref-out.json")]
    runs = []
    for _ in range(reps):
        r = run_with_rss(cmd, d, timeout)
        if r is None:
            return {"timeout_s": timeout}
        wall, rss, out, err, rc = r
        if rc != 0:
            return {"error": err.strip()[-800:]}
        runs.append({"wall_ms": wall * 1000, "rss_kb": rss, "timings": last_json_line(out)})
    walls = sorted(r["wall_ms"] for r in runs)
    med = statistics.median(walls)
    median_run = min(runs, key=lambda r: abs(r["wall_ms"] - med))
    return {"reps": reps, "wall_ms_min": walls[0], "wall_ms_median": med,
            "rss_kb_max": max(r["rss_kb"] for r in runs),
            "timings_median_run": median_run["timings"],
            "engine_ms_min": min(r["timings"]["total_ms"] for r in runs)}


def reference_version(py: str) -> str:
    r = subprocess.run([py, "-c", "from importlib.metadata import version as v; "
                        "print(v('dbt-orchestra'), v('dbt-core'), v('pydantic'))"],
                       capture_output=True, text=True)
    return r.stdout.strip()


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,50000,100000").split(",")]
    reps = int(os.environ.get("BENCH_REPS", "7"))
    ref_reps = int(os.environ.get("BENCH_REF_REPS", "3"))
    timeout = float(os.environ.get("BENCH_TIMEOUT", "600"))
    orc = os.environ.get("ORC_BIN", str(ROOT / "build" / "orc"))
    py = os.environ.get("REF_PYTHON", str(BENCH / ".venv-ref" / "bin" / "python"))
    OUT.mkdir(exist_ok=True)

    results = {"sizes": [], "orc_bin": orc, "reference": reference_version(py),
               "machine": {"cpus": os.cpu_count(), "cpu": _cpu_model(),
                           "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
               "date": time.strftime("%Y-%m-%d %H:%M")}
    previous = {}
    if os.environ.get("BENCH_REUSE_REFERENCE") == "1" and (OUT / "engine.json").exists():
        old = json.loads((OUT / "engine.json").read_text())
        previous = {r["n"]: dict(r, date_ref=r.get("date_ref", old.get("date")))
                    for r in old.get("sizes", [])}
    ref_exceeded = None
    for n in sizes:
        d = ensure_project(n)
        meta = json.loads((d / "meta.json").read_text())
        row = {"n": n, "meta": meta, "loadavg_before": os.getloadavg()[0]}
        problem = check_orc(orc, d)
        if problem:
            log(f"orc engine not available: {problem}")
            row["orc"] = {"error": problem}
        else:
            log(f"orc on {n} nodes ({reps} runs)")
            row["orc"] = bench_orc(orc, d, reps)
            log(f"orc {n}: median {row['orc']['wall_ms_median']:.1f} ms, "
                f"peak RSS {row['orc']['rss_kb_max'] / 1024:.0f} MB, "
                f"{row['orc']['check']['mismatches']} decisions differ from the generator's")
        old = previous.get(n)
        if old and old["meta"] == meta and "wall_ms_median" in old.get("reference", {}):
            row["reference"] = dict(old["reference"], reused_from=old["date_ref"])
            row["date_ref"] = row["reference"]["reused_from"]
            log(f"reference on {n}: reusing the previous measurement (BENCH_REUSE_REFERENCE=1)")
        elif ref_exceeded is not None:
            row["reference"] = {"skipped_after_timeout_at": ref_exceeded, "timeout_s": timeout}
            log(f"reference on {n}: not run, it exceeded {timeout:.0f} s at {ref_exceeded} nodes")
        else:
            row["date_ref"] = results["date"]
            k = ref_reps if n <= 10000 else 1
            log(f"reference on {n} nodes ({k} run(s), timeout {timeout:.0f} s)")
            row["reference"] = bench_reference(py, d, k, timeout)
            if "timeout_s" in row["reference"]:
                ref_exceeded = n
                log(f"reference {n}: > {timeout:.0f} s")
            elif "error" in row["reference"]:
                log(f"reference {n} failed: {row['reference']['error'][-300:]}")
            else:
                log(f"reference {n}: median {row['reference']['wall_ms_median'] / 1000:.2f} s")
        results["sizes"].append(row)
        (OUT / "engine.json").write_text(json.dumps(results, indent=1))
    return 0


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
