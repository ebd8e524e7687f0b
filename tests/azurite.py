"""Azurite, the Azure Storage emulator, as the blob storage of the import/export job tests.

Installed from tests/azurite/package.json (npm, pinned by its lock file) on first use, started on 127.0.0.1 with
--disableTelemetry, stopped when the tests end. Containers and their SAS URIs come from azure-storage-blob.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.support import npm

HERE = Path(__file__).resolve().parent / "azurite"
BINARY = HERE / "node_modules" / ".bin" / "azurite-blob"
# Azurite's documented development account (the same for every Azurite; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteUnavailable(RuntimeError):
    pass


def install() -> Path:
    """npm ci into tests/azurite once; concurrent test workers wait for the first one."""
    try:
        return npm.install(HERE, BINARY, "the job tests (Azurite)")
    except npm.NodeUnavailable as exc:
        raise AzuriteUnavailable(str(exc)) from None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Azurite:
    process: subprocess.Popen
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={self.endpoint};")

    def container(self, name: str | None = None, permission: str = "rwdl") -> str:
        """A new container and its SAS URI."""
        from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

        name = name or f"conf-{uuid.uuid4().hex[:12]}"
        BlobServiceClient.from_connection_string(self.connection_string).create_container(name)
        sas = generate_container_sas(ACCOUNT, name, account_key=ACCOUNT_KEY,
                                     permission=ContainerSasPermissions.from_string(permission),
                                     expiry=datetime.now(UTC) + timedelta(hours=2))
        return f"{self.endpoint}/{name}?{sas}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(location: Path, loose: bool = False) -> Azurite:
    """Azurite on a free port of 127.0.0.1. `loose`: its loose mode, which takes headers strict mode refuses (the block
    upload of @azure/storage-blob 12.8.0, which the Node.js device SDK pins, sends x-ms-encryption-algorithm)."""
    binary = install()
    port = _free_port()
    process = subprocess.Popen([str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
                                str(location), "--disableTelemetry", "--skipApiVersionCheck", "--silent",
                                *(["--loose"] if loose else [])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/{ACCOUNT}?comp=list", timeout=1)
            return Azurite(process, port)
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AzuriteUnavailable(f"Azurite did not start: {(process.stderr.read() or '')[-500:]}") from None
            time.sleep(0.1)
