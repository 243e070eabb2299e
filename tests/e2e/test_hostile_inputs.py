"""A manifest that is not what it claims (issue #18, "limits with clear errors"): truncated,
of the wrong shape, a number where a string belongs, nested millions of levels deep. orc's
engine (`orc dbt orchestra plan`) must answer with one line naming the file and the place
inside it, exit 1, and write nothing (its --state-out is the state file itself here). The
same cases for the state file are in test_stateful_core.py
(test_bad_state_file_is_a_clear_error_and_left_alone), the parsers' own in tests/unit and
tests/fuzz."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import gen_project  # noqa: E402

ORC = os.environ.get("ORC_BIN", str(ROOT / "build" / "orc"))


def first_model(manifest: dict) -> str:
    return next(k for k in manifest["nodes"] if k.startswith("model."))


def truncated(text: str, manifest: dict) -> str:
    return text[: len(text) // 2]


def nodes_is_an_array(text: str, manifest: dict) -> str:
    manifest["nodes"] = list(manifest["nodes"].values())
    return json.dumps(manifest)


def resource_type_is_a_number(text: str, manifest: dict) -> str:
    manifest["nodes"][first_model(manifest)]["resource_type"] = 5
    return json.dumps(manifest)


def depends_on_holds_a_number(text: str, manifest: dict) -> str:
    manifest["nodes"][first_model(manifest)]["depends_on"]["nodes"] = [1]
    return json.dumps(manifest)


def materialized_is_an_object(text: str, manifest: dict) -> str:
    manifest["nodes"][first_model(manifest)]["config"]["materialized"] = {"table": True}
    return json.dumps(manifest)


def node_is_a_string(text: str, manifest: dict) -> str:
    manifest["nodes"][first_model(manifest)] = "model"
    return json.dumps(manifest)


DEPTH = 2 << 20  # a few MB of '[' prove what 1 GB would: nothing in orc recurses on depth


def deeply_nested(text: str, manifest: dict) -> str:
    manifest["nodes"][first_model(manifest)]["depends_on"] = "DEEP"
    return json.dumps(manifest).replace('"DEEP"', "[" * DEPTH + "]" * DEPTH)


def top_level_array(text: str, manifest: dict) -> str:
    return json.dumps([manifest])


CASES = {
    truncated: ["truncated or not JSON"],
    nodes_is_an_array: ["at nodes:", "not of the expected type"],
    resource_type_is_a_number: ['at nodes."{model}".resource_type:', "a number where a string"],
    depends_on_holds_a_number: ['at nodes."{model}".depends_on.nodes:'],
    materialized_is_an_object: ['at nodes."{model}".config.materialized:'],
    node_is_a_string: ['at nodes."{model}":'],
    deeply_nested: ['at nodes."{model}".depends_on:'],
    top_level_array: ["at the top level:"],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("hostile") / "p"
    gen_project.generate(60, str(project))
    return project


@pytest.mark.parametrize("corrupt", list(CASES), ids=lambda f: f.__name__)
def test_bad_manifest_is_a_one_line_error_naming_the_place(generated: Path, tmp_path: Path,
                                                           corrupt):
    text = (generated / "target/manifest.json").read_text()
    manifest = json.loads(text)
    model = first_model(manifest)
    bad = tmp_path / "manifest.json"
    bad.write_text(corrupt(text, json.loads(text)))
    state = tmp_path / "state.json"
    state.write_bytes((generated / "state.json").read_bytes())
    before = state.read_bytes()
    r = subprocess.run([ORC, "dbt", "orchestra", "plan", "--manifest", str(bad),
                        "--state", str(state), "--decisions-out", str(tmp_path / "d.json"),
                        "--run-results", str(generated / "target/run_results.json"),
                        "--state-out", str(state)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    out = (r.stdout + r.stderr).strip()
    assert r.returncode == 1, out
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert str(bad) in lines[0], out
    for expected in CASES[corrupt]:
        assert expected.format(model=model) in lines[0], out
    assert state.read_bytes() == before
    assert not (tmp_path / "d.json").exists()


def test_deep_nesting_where_orc_does_not_look_is_skipped_without_recursion(generated: Path,
                                                                          tmp_path: Path):
    """The manifest reader (simdjson on-demand) skips fields it does not read iteratively:
    millions of levels there cost linear time and constant stack, and the run goes on."""
    manifest = json.loads((generated / "target/manifest.json").read_text())
    manifest["docs"] = "DEEP"
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps(manifest).replace('"DEEP"', "[" * DEPTH + "]" * DEPTH))
    r = subprocess.run([ORC, "dbt", "orchestra", "plan", "--manifest", str(bad),
                        "--state", str(generated / "state.json")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
