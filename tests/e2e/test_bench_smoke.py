"""Smoke test of the benchmark harness, so it cannot rot: generate a 1k-node synthetic
project with bench/gen_project.py and run orc's engine (`orc dbt orchestra plan`) on it.
The decisions must cover every decidable node and match what the generator intended
node by node (the generator builds the scenario to the rules of DESIGN.md section 2), and
the state update must record exactly the successful results of run_results.json.
Also: a 30-model runnable project from bench/gen_dbt_project.py builds with `orc dbt build`."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import gen_dbt_project  # noqa: E402
import gen_project  # noqa: E402
from helpers import base_env, run_process  # noqa: E402

ORC = os.environ.get("ORC_BIN", str(ROOT / "build" / "orc"))


def plan(project: Path, tmp: Path) -> dict:
    cmd = [ORC, "dbt", "orchestra", "plan",
           "--manifest", str(project / "target/manifest.json"),
           "--state", str(project / "state.json"),
           "--sources", str(project / "target/sources.json"),
           "--decisions-out", str(tmp / "decisions.json"),
           "--run-results", str(project / "target/run_results.json"),
           "--state-out", str(tmp / "state_out.json"),
           "--now", gen_project.iso(gen_project.NOW), "--timings", "--adopt-unfingerprinted"]
    r = subprocess.run(cmd, cwd=project, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"orc plan failed ({r.returncode}): {r.stderr}\n{r.stdout}"
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, f"no --timings line on stdout: {r.stdout!r}"
    return json.loads(lines[-1])


def test_generator_is_reproducible(tmp_path):
    a = gen_project.generate(300, str(tmp_path / "a"), seed=7)
    b = gen_project.generate(300, str(tmp_path / "b"), seed=7)
    assert a["nodes"] == b["nodes"] == 300
    for f in ("expected.json", "state.json", "target/sources.json", "target/run_results.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    # The manifest differs only in the seeds' absolute root_path.
    ma = (tmp_path / "a/target/manifest.json").read_text().replace(str(tmp_path / "a"), "X")
    mb = (tmp_path / "b/target/manifest.json").read_text().replace(str(tmp_path / "b"), "X")
    assert ma == mb


def test_engine_on_1k_nodes_matches_generator(tmp_path):
    project = tmp_path / "n1000"
    meta = gen_project.generate(1000, str(project))
    manifest = json.loads((project / "target/manifest.json").read_text())
    assert len(manifest["nodes"]) + len(manifest["sources"]) + len(manifest["unit_tests"]) == 1000
    assert meta["expected_build"] > 0 and meta["expected_reuse"] > 0
    for kind in ("model", "ephemeral", "seed", "snapshot", "source", "test", "unit_test",
                 "package_model", "package_seed"):
        assert meta["kinds"].get(kind, 0) > 0, kind

    timings = plan(project, tmp_path)
    expected = json.loads((project / "expected.json").read_text())
    decisions = json.loads((tmp_path / "decisions.json").read_text())
    got = {n["unique_id"]: n for n in decisions["nodes"]}

    # Every decidable node is decided, nothing else is.
    assert set(got) == set(expected)
    assert timings["nodes"] == 1000
    wrong = {u: (expected[u], got[u]["decision"], got[u]["reason"])
             for u in expected if got[u]["decision"] != expected[u]}
    assert not wrong, f"{len(wrong)} decisions differ from the generator's, e.g. " \
                      f"{list(wrong.items())[:5]}"
    assert (timings["build"], timings["reuse"]) == (meta["expected_build"], meta["expected_reuse"])
    for k in ("parse_manifest_ms", "read_sources_ms", "load_state_ms", "decide_ms",
              "write_decisions_ms", "update_state_ms", "total_ms"):
        assert timings[k] >= 0, k

    # State update: successful results get a new entry, failed/skipped keep the old one.
    before = json.loads((project / "state.json").read_text())["state"]
    after = json.loads((tmp_path / "state_out.json").read_text())["state"]
    results = json.loads((project / "target/run_results.json").read_text())["results"]
    assert set(before) <= set(after)
    statuses = {r["status"] for r in results}
    assert {"success", "pass", "error"} <= statuses
    for r in results:
        uid = r["unique_id"]
        if r["status"] in ("success", "pass"):
            assert after[uid]["last_updated"] == r["timing"][-1]["completed_at"], uid
        elif uid in before:  # kept, plus the fingerprint --adopt-unfingerprinted gave it
            kept = {k: v for k, v in after[uid].items() if k != "fingerprint"}
            assert kept == before[uid], uid
        else:
            assert uid not in after, uid


def test_generated_dbt_project_builds_with_orc(tmp_path):
    project = tmp_path / "m30"
    meta = gen_dbt_project.generate(30, str(project))
    again = gen_dbt_project.generate(30, str(tmp_path / "again"))
    assert meta == again and meta["models"] == 30 and meta["incrementals"] > 0
    assert (project / meta["edit_model"]).read_text() == \
        (tmp_path / "again" / meta["edit_model"]).read_text()
    env = {**base_env(), "DBT_PROFILES_DIR": str(project)}
    setup = run_process([ORC, "dbt", "run-operation", "setup_raw"], project, env)
    assert setup.returncode == 0, setup.describe()
    build = run_process([ORC, "dbt", "build"], project, env)
    assert build.returncode == 0, build.describe()
    results = json.loads((project / "target/run_results.json").read_text())["results"]
    models = [r for r in results if r["unique_id"].startswith("model.")]
    assert len(models) == 30 and all(r["status"] == "success" for r in models)
    assert all(r["status"] == "pass" for r in results if r["unique_id"].startswith("test."))
    record = json.loads((project / "target/orc_decisions.json").read_text())
    assert sum(n["decision"] == "build" for n in record["nodes"]) == len(results)
