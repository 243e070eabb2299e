"""fakesnow (PyPI) in server mode: Snowflake's HTTP API on loopback, backed by DuckDB, which
dbt-snowflake talks to with host/port/protocol=http in its profile. Runs from .venv-snowflake
(requirements-snowflake.txt)."""

from __future__ import annotations

from pathlib import Path

from servers.loopback import LoopbackServer

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = REPO / ".venv-snowflake" / "bin"


class FakesnowServer(LoopbackServer):
    def __init__(self, work: Path):
        super().__init__(work, "fakesnow")
        (work / "db").mkdir(exist_ok=True)
        self.start([str(VENV_BIN / "fakesnow"), "-s", "-p", str(self.port), "-d",
                    str(work / "db")], self.endpoint + "/", "fakesnow",
                   any_answer_is_ready=True, timeout=60)
