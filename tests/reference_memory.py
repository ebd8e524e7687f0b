"""Memory of a served reference under load: a measurement, run by hand (not a test).

    python tests/reference_memory.py [--messages 10000] [--d2c-bytes 262000] [--c2d-bytes 16384] [--devices 200]

Starts `iothub-conformance serve` on a free 127.0.0.1 port, sends device-to-cloud messages from one device and
cloud-to-device messages spread over many devices, and prints the server's resident memory (VmRSS, and the peak
VmHWM) from /proc before, during and after.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from iothub_conformance.http import sas  # noqa: E402

API = {"api-version": "2016-02-03"}


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of the process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return fields


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages of each direction (default 10000)")
    parser.add_argument("--d2c-bytes", type=int, default=262_000, help="device-to-cloud body size (default 262000)")
    parser.add_argument("--c2d-bytes", type=int, default=16_384, help="cloud-to-device body size (default 16384)")
    parser.add_argument("--devices", type=int, default=200, help="devices the C2D messages spread over (default 200)")
    args = parser.parse_args()
    if not (0 < args.messages <= 100_000 and 0 < args.devices <= 1000 and 0 <= args.d2c_bytes <= 262_143
            and 0 <= args.c2d_bytes <= 65_536):
        parser.error("--messages 1-100000, --devices 1-1000, --d2c-bytes 0-262143, --c2d-bytes 0-65536")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "iothub_conformance.cli", "serve", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        cs = sas.parse_connection_string(proc.stdout.readline().strip())
        url = f"http://127.0.0.1:{port}"
        owner = sas.build_token(cs.host_name, cs.key, cs.key_name)
        with httpx.Client(base_url=url, params=API, timeout=30) as client:
            for _ in range(200):  # wait for the server, at most 20 s
                try:
                    client.get("/statistics/service", headers={"Authorization": owner})
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            print(f"started:        {memory(proc.pid)}")
            made = client.put("/devices/mem-d2c", json={"deviceId": "mem-d2c"}, headers={"Authorization": owner})
            key = made.json()["authentication"]["symmetricKey"]["primaryKey"]
            device = sas.build_token(f"{cs.host_name}/devices/mem-d2c", key)
            body = b"x" * args.d2c_bytes
            began = time.monotonic()
            statuses: dict[int, int] = {}
            for n in range(args.messages):
                sent = client.post("/devices/mem-d2c/messages/events", content=body, headers={"Authorization": device})
                statuses[sent.status_code] = statuses.get(sent.status_code, 0) + 1
                if (n + 1) % (args.messages // 4 or 1) == 0:
                    print(f"D2C {n + 1:>6} sent: {memory(proc.pid)}")
            print(f"D2C statuses {statuses} in {time.monotonic() - began:.1f} s")
            for d in range(args.devices):
                client.put(f"/devices/mem-c2d-{d}", json={"deviceId": f"mem-c2d-{d}"}, headers={"Authorization": owner})
            body = b"y" * args.c2d_bytes
            statuses = {}
            for n in range(args.messages):
                to = f"/devices/mem-c2d-{n % args.devices}/messages/devicebound"
                sent = client.post("/messages/deviceBound", content=body, headers={"Authorization": owner, "IoTHub-To": to})
                statuses[sent.status_code] = statuses.get(sent.status_code, 0) + 1
            print(f"C2D {args.messages:>6} sent: {memory(proc.pid)}  statuses {statuses}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
