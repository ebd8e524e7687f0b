"""On a target it shares with its user, a run changes only what it created, and cleans that up.

The reference is served over HTTP (`iothub-conformance serve`), a device is created outside the run, the whole suite
runs against the served hub (`run --target … --connection-string …`), and the outside device must be untouched."""

import subprocess
import sys
import time

import httpx
import pytest

from iothub_conformance.http import sas
from iothub_conformance.surfaces.messaging import DeviceClient
from tests.support.served import rp_flags
from tests.support.suite_runs import ROOT, run_suite

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)


def test_run_leaves_a_device_it_did_not_create_unchanged(quick_served_hub, tmp_path):
    served_hub = quick_served_hub
    url, connection_string = served_hub
    assert connection_string.startswith("HostName="), connection_string
    c = sas.parse_connection_string(connection_string)
    user = httpx.Client(base_url=url, headers={"Authorization": sas.build_token(c.host_name, c.key, c.key_name)},
                        params={"api-version": "2016-02-03"})
    created = user.put("/devices/users-own-device", json={"deviceId": "users-own-device", "statusReason": "mine"})
    assert created.status_code in (200, 201)
    # The user's device also has a cloud-to-device message waiting, fed the way the README shows.
    fed = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "send-c2d", "--target", url,
                          "--connection-string", connection_string, "--device", "users-own-device",
                          "--property", "IoTHub-MessageId=users-message", "the user's message"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert fed.returncode == 0, fed.stderr
    before = user.get("/devices/users-own-device").json()
    # The user's own IoT hub, made through the served resource provider.
    flags = rp_flags(served_hub.announced)
    hubs = "/subscriptions/users-sub/resourceGroups/users-group/providers/Microsoft.Devices/IotHubs"
    owner = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {flags['--rp-token']}"},
                         params={"api-version": "2016-02-03"})
    made = owner.put(f"{hubs}/users-hub", json={"location": "West US", "sku": {"name": "S1", "capacity": 1}})
    assert made.status_code == 201, made.text
    for _ in range(50):  # the create is a long-running operation of about a second
        hub_before = owner.get(f"{hubs}/users-hub").json()
        if hub_before["properties"]["provisioningState"] == "Succeeded":
            break
        time.sleep(0.1)
    keys_before = owner.post(f"{hubs}/users-hub/listkeys").json()

    run = run_suite(tmp_path / "report", "--iothub-target", url, "--iothub-connection-string", connection_string,
                    "--iothub-c2d-feeder", "http", "--iothub-rp-url", flags["--rp-url"],
                    "--iothub-rp-token", flags["--rp-token"],
                    "--iothub-rp-subscription", "users-sub", "--iothub-rp-resource-group", "users-group")
    assert run.code == 0, run.summary()
    assert run.output.splitlines()[0].startswith(f"target: {url}"), run.output[:300]
    # The served reference was fed over HTTP, so the messaging requirements ran; lock timing needs the embedded clock.
    assert run.statuses["MSG-RECV-002"] == "pass" and run.statuses["MSG-QUEUE-001"] == "pass", run.statuses
    assert run.statuses["MSG-LOCK-004"] == "skip"
    # The resource provider ran too, against the served one.
    assert run.statuses["RP-LRO-001"] == "pass" and run.statuses["RP-COND-001"] == "pass", run.statuses
    # Configurations ran on the wall clock (every second on this hub); a hub without storage skips file uploads.
    assert run.statuses["CONFIG-SYS-001"] == "pass" and run.statuses["CONFIG-RUN-001"] == "pass", run.statuses
    no_storage = {row["id"]: row["detail"] for row in run.rows if row["id"].startswith("FILE-SAS-")}
    assert all(run.statuses[rid] == "skip" and "DefaultStorageEndpointNotConfigured" in detail
               for rid, detail in no_storage.items()), no_storage

    assert owner.get(f"{hubs}/users-hub").json() == hub_before, "the user's hub was changed"
    assert owner.post(f"{hubs}/users-hub/listkeys").json() == keys_before, "the user's hub keys were changed"
    # The run's last deletes are long-running operations of a second or so: give them that time.
    for _ in range(50):
        left = [h["name"] for h in owner.get(hubs).json()["value"]]
        if left == ["users-hub"]:
            break
        time.sleep(0.2)
    assert left == ["users-hub"], f"the run left hubs behind: {left}"

    after = user.get("/devices/users-own-device")
    assert after.status_code == 200
    assert after.headers["ETag"] == created.headers["ETag"], "the user's device was changed"
    assert after.json() == before
    left = [d["deviceId"] for d in user.get("/devices").json()]
    assert left == ["users-own-device"], f"the run left devices behind: {left[:5]}"
    # The user's message is still there, unlocked: the device itself receives it.
    key = created.json()["authentication"]["symmetricKey"]["primaryKey"]
    device = DeviceClient(httpx.Client(base_url=url), c.host_name, "2016-02-03", "users-own-device", key)
    message = device.receive()
    assert message.status_code == 200, "the user's cloud-to-device message was taken or locked by the run"
    assert message.content == b"the user's message" and message.headers["IoTHub-MessageId"] == "users-message"


def test_the_client_refuses_to_change_devices_outside_the_run():
    from iothub_conformance.config import Settings
    from iothub_conformance.targets.resolve import resolve
    from iothub_conformance.targets.target import SafetyError

    target = resolve(Settings())
    client = target.client()
    try:
        with pytest.raises(SafetyError):
            client.delete("/devices/users-own-device", params={"api-version": "2016-02-03"})
        with pytest.raises(SafetyError):
            client.put("/devices/users-own-device", params={"api-version": "2016-02-03"}, json={})
        assert client.get("/devices/users-own-device", params={"api-version": "2016-02-03"}).status_code == 404
        api = {"api-version": "2021-04-12"}
        for method, path in (("PUT", "/configurations/users-config"), ("DELETE", "/configurations/users-config"),
                             ("PATCH", "/digitaltwins/users-own-device"),
                             ("POST", "/digitaltwins/users-own-device/commands/reboot"),
                             ("POST", "/devices/users-own-device/applyConfigurationContent")):
            with pytest.raises(SafetyError):
                client.request(method, path, params=api, json={})
        # The run's own configuration may be written; testQueries changes nothing.
        own = target.name_prefix.lower() + "config"
        assert client.put(f"/configurations/{own}", params=api, json={"id": own}).status_code < 500
        assert client.post("/configurations/testQueries", params=api, json={}).status_code < 500
    finally:
        target.close()


def test_the_client_refuses_bulk_registry_calls_on_devices_outside_the_run_and_lets_queries_read():
    from iothub_conformance.config import Settings
    from iothub_conformance.targets.resolve import resolve
    from iothub_conformance.targets.target import SafetyError

    target = resolve(Settings())
    client = target.client()
    api = {"api-version": "2021-04-12"}
    own = target.name_prefix + "bulk-1"
    try:
        for body in ([{"id": "users-own-device", "importMode": "delete"}],
                     [{"id": own, "importMode": "create"}, {"ID": "users-own-device", "importMode": "delete"}],
                     [{"importMode": "delete"}], {"id": "users-own-device"}, ["users-own-device"]):
            with pytest.raises(SafetyError):
                client.post("/devices", params=api, json=body)
        assert client.post("/devices", params=api, json=[{"id": own, "importMode": "create"}]).status_code == 200
        assert client.post("/devices", params=api, json=[{"id": own, "importMode": "delete"}]).status_code == 200
        # A query changes nothing: it is not read as a device named "query".
        assert client.post("/devices/query", params=api, json={"query": "SELECT * FROM devices"}).status_code == 200
    finally:
        target.close()
