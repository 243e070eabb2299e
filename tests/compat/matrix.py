"""The configuration matrix: which [tool.orchestra_dbt] settings each combination uses, and
how they are written (pyproject.toml or ORCHESTRA_* variables) for both twins alike.

A combination sets integration_account_id (unset / set), local_run (true / false),
seed_state_orchestration (on / off), where they are written (pyproject / environment) and
where the state lives (local file / S3). Defaults are left unwritten (local_run true and
seed_state_orchestration off are not written at all), so the defaults are part of the
matrix. Written in the environment, each setting the environment sets also has the opposite
value in pyproject.toml (and state_file names a file that does not exist), so the
environment's precedence is checked too. `spelling="ci"` writes environment values as CI
templates leave them: the account id and the state location with surrounding blanks,
`local_run` false as an empty variable, true as `TRUE` (the reference reads an empty boolean
variable as false and strips string values).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

ACCOUNT = "acct7"

# The steps every combination runs, in order (steps.py).
ALL_STEPS = ("first", "unchanged", "new_data", "edit", "break", "fix", "select",
             "after_select", "cross", "cross_again")


@dataclass(frozen=True)
class Combination:
    """One configuration of the matrix, and the steps run under it."""

    account: bool  # integration_account_id set
    local_run: bool
    where: str  # "pyproject" | "env"
    seeds: bool  # seed_state_orchestration
    store: str  # "local" | "s3"
    spelling: str = "plain"  # "plain" | "ci" (environment values as CI templates write them)
    steps: tuple[str, ...] = ALL_STEPS

    @property
    def name(self) -> str:
        parts = ["acct" if self.account else "noacct", "lr1" if self.local_run else "lr0",
                 self.where, "seeds1" if self.seeds else "seeds0", self.store]
        if self.spelling != "plain":
            parts.append(self.spelling)
        return "-".join(parts)

    @property
    def scoped(self) -> bool:
        """Keys are `<account>.<relation name>` and the loaded state is filtered."""
        return self.account and not self.local_run

    def settings(self, state_location: str) -> tuple[dict, dict[str, str]]:
        """(pyproject [tool.orchestra_dbt] settings, ORCHESTRA_* environment) of this
        combination, with the state at `state_location` (a local path or an s3:// URI)."""
        chosen: dict = {}
        if self.account:
            chosen["integration_account_id"] = ACCOUNT
        if not self.local_run:
            chosen["local_run"] = False
        if self.seeds:
            chosen["seed_state_orchestration"] = True
        if self.where == "pyproject":
            return {"use_stateful": True, "state_file": state_location, **chosen}, {}
        # Environment: pyproject.toml holds the opposite of what the environment sets.
        opposite = {"integration_account_id": "not-this-account", "local_run": True,
                    "seed_state_orchestration": False}
        pyproject = {"use_stateful": True, "state_file": "no-such-state.json"}
        pyproject |= {k: opposite[k] for k in chosen}
        env = {"ORCHESTRA_STATE_FILE": state_location if self.spelling == "plain"
               else f" {state_location}\n"}
        names = {"integration_account_id": "ORCHESTRA_INTEGRATION_ACCOUNT_ID",
                 "local_run": "ORCHESTRA_LOCAL_RUN",
                 "seed_state_orchestration": "ORCHESTRA_SEED_STATE_ORCHESTRATION"}
        for key, value in chosen.items():
            env[names[key]] = self._env_value(key, value)
        return pyproject, env

    def _env_value(self, key: str, value) -> str:
        if self.spelling == "ci":
            if key == "integration_account_id":
                return f"  {value} "
            if value is False:
                return ""
            return "TRUE"
        if isinstance(value, bool):
            return "true" if value else "False"
        return str(value)


def full_matrix() -> list[Combination]:
    """Every combination: account × local_run × where × seeds × store (32), plus the CI
    spellings of the environment (2)."""
    combos = [Combination(a, lr, w, s, st) for a, lr, w, s, st in itertools.product(
        (False, True), (True, False), ("pyproject", "env"), (False, True), ("local", "s3"))]
    combos += [Combination(True, False, "env", False, "local", spelling="ci"),
               Combination(True, True, "env", True, "s3", spelling="ci")]
    return combos


# The representative subset `make test` runs (tests/e2e/test_orchestra15_matrix.py): four
# combinations that together cover both key shapes, both places, both stores, both seed
# settings, the CI spellings and every step but after_select once (14 steps, 28 tool runs).
SUBSET = [
    Combination(True, True, "pyproject", False, "local",
                steps=("first", "unchanged", "new_data", "edit")),
    Combination(True, False, "env", True, "s3",
                steps=("first", "unchanged", "cross", "cross_again")),
    Combination(False, False, "env", True, "local",
                steps=("first", "break", "fix", "select")),
    Combination(True, False, "env", False, "local", spelling="ci",
                steps=("first", "unchanged")),
]
