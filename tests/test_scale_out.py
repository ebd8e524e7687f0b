"""`run -n N`: the suite spread over pytest-xdist workers against one shared target — no two workers make the same
name, and the run writes one merged bundle whose verdicts and coverage cover every worker."""

import json
import subprocess
import sys

import httpx
import pytest

from tests.support import bytecode
from tests.support.served import rp_flags
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)


def test_two_workers_share_a_served_hub_without_collisions_and_write_one_bundle(quick_served_hub, tmp_path):
    served_hub = quick_served_hub
    flags = rp_flags(served_hub.announced)
    done = subprocess.run(
        [sys.executable, "-m", "iothub_conformance.cli", "run", "-n", "2", "--run-id", "scaled",
         "--reports", str(tmp_path), "--target", served_hub.url, "--connection-string", served_hub.connection_string,
         "--rp-url", flags["--rp-url"], "--rp-token", flags["--rp-token"], "--rp-subscription", "s",
         "--rp-resource-group", "g", "--", "-k", "device_identities or resource_provider or conditional"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"PATH": "/usr/bin:/bin", "IOTHUB_MAX_EXAMPLES": "3", **bytecode.environment()})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 workers" in done.stdout or "gw1" in done.stdout, done.stdout[:1000]
    bundles = list(tmp_path.iterdir())
    assert [b.name for b in bundles] == ["scaled"] and (bundles[0] / "junit.xml").is_file()
    data = json.loads((bundles[0] / "results.json").read_text())
    ran = {r["id"]: r["status"] for r in data["requirements"] if r["id"].startswith(("DI-", "RP-"))}
    assert "fail" not in ran.values() and "error" not in ran.values(), ran
    assert ran["RP-LIST-001"] == "pass" and ran["DI-ETAG-001"] == "pass", ran
    # Both workers' exchanges are counted: the RP and the device operations were all reached.
    reached = {r["operation_id"] for r in data["coverage"] if r["reached"]}
    assert {"createOrUpdateDevice", "IotHubResource_CreateOrUpdate", "IotHubResource_ListByResourceGroup"} <= reached
    # Nothing is left behind on the shared target.
    from iothub_conformance.http import sas

    c = sas.parse_connection_string(served_hub.connection_string)
    owner = httpx.Client(base_url=served_hub.url, params={"api-version": "2016-02-03"},
                         headers={"Authorization": sas.build_token(c.host_name, c.key, c.key_name)})
    assert owner.get("/devices").json() == []
