"""A real local Azure Blob Storage emulator (Azurite, npm package installed into .npm-tools
by scripts/install_deps.sh) on 127.0.0.1 for the end-to-end tests. Azurite checks SharedKey
signatures and enforces If-Match / If-None-Match."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from servers.loopback import LoopbackServer

REPO = Path(__file__).resolve().parents[3]
AZURITE_BLOB = REPO / ".npm-tools" / "node_modules" / ".bin" / "azurite-blob"

# Azurite's documented well-known development account.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")


class AzuriteServer(LoopbackServer):
    """Starts `azurite-blob` on a free loopback port with its data in a temp directory;
    `env` is what orc needs to reach it (a connection string whose BlobEndpoint is the
    emulator), `uri(container, path)` the abfss:// state location."""

    def __init__(self, log_dir: Path):
        if not AZURITE_BLOB.exists():
            raise RuntimeError(f"{AZURITE_BLOB} is missing: run scripts/install_deps.sh")
        super().__init__(log_dir, "azurite")
        self.endpoint += f"/{ACCOUNT}"
        self.data = Path(tempfile.mkdtemp(prefix="azurite-", dir=log_dir))
        # Without credentials it answers 403: any answer means it is up.
        self.start([str(AZURITE_BLOB), "--skipApiVersionCheck", "--blobHost", "127.0.0.1",
                    "--blobPort", str(self.port), "--location", str(self.data), "--silent"],
                   f"{self.endpoint}?comp=list", "azurite", timeout=60, any_answer_is_ready=True)

    def connection_string(self, key: str = ACCOUNT_KEY, endpoint: str | None = None) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
                f"BlobEndpoint={endpoint or self.endpoint};")

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """What orc needs to reach this server (optionally through `endpoint`, a proxy)."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string(endpoint=endpoint)}

    @staticmethod
    def uri(container: str, path: str) -> str:
        return f"abfss://{container}@{ACCOUNT}.dfs.core.windows.net/{path}"

    def client(self):
        """An azure-storage-blob BlobServiceClient for this server (an independent client)."""
        from azure.storage.blob import BlobServiceClient
        return BlobServiceClient.from_connection_string(self.connection_string())

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.data, ignore_errors=True)
