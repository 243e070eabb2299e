"""The compatibility matrix against the real dbt-orchestra 1.5.0 (tests/compat), its
representative subset: four combinations of the configuration (both key shapes, pyproject and
environment, local and S3 state, seed_state_orchestration on and off, the environment values
CI templates leave) over the steps first run, nothing changed, new source data, model edit,
failure and fix, `--select`, and the cross-read of each other's state. After every step the
decisions per node and the state documents are compared; every difference must be one of
tests/compat/compare.py's ALLOWED_DEVIATIONS. The full matrix: `make test-compat`."""

from __future__ import annotations

import os
import sys

import pytest

from helpers import REPO, slow

sys.path.insert(0, str(REPO))

from tests.compat.matrix import SUBSET  # noqa: E402
from tests.compat.runner import run_matrix  # noqa: E402
from tests.compat.twins import reference_binary  # noqa: E402


@slow(130)
@pytest.mark.parametrize("combo", SUBSET, ids=lambda c: c.name)
def test_compatibility_matrix_subset(tmp_path, combo):
    """One combination per test, so that the end-to-end workers share the subset."""
    if not reference_binary().exists():
        message = (f"dbt-orchestra 1.5.0 not installed ({reference_binary()}): run VENV="
                   ".venv-orchestra15 REQUIREMENTS=requirements-orchestra15.txt "
                   "bash scripts/install_deps.sh")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    report = run_matrix([combo], tmp_path, jobs=1, log=lambda _: None)
    text = report.text()
    print(text)
    assert report.mismatches == 0, text
    # Not vacuous: every step of the combination ran.
    assert [len(c.steps) for c in report.combos] == [len(combo.steps)], text
