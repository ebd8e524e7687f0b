"""The cloud-to-device queue purge at api-version 2021-04-12 (docs/sources/service-2021-04-12.json,
CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue, PurgeMessageQueueResult; docs/sources/INVENTORY-2021-04-12.md
§2.11).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces.modules import purge

pytestmark = pytest.mark.api_version("2021-04-12")
FED = 3


@pytest.mark.requirement("PURGE-QUEUE-001")
def test_purge_deletes_every_pending_message(registry, feeder):
    device_id, _ = registry.make("purge")
    for n in range(FED):
        feeder.send(device_id, f"purge-{n}".encode(), {"Content-Type": "text/plain"})
    pending = json_of(registry.read(device_id, "after feeding it")).get("cloudToDeviceMessageCount")
    if pending != FED:
        raise PreconditionFailed(f"{device_id} reads cloudToDeviceMessageCount {pending!r} after {FED} messages")
    response = purge(registry, device_id)
    body = json_of(response)
    expect("PURGE-QUEUE-001", response.status_code == 200 and isinstance(body, dict), f"purge: {answered(response)}")
    expect("PURGE-QUEUE-001", body.get("totalMessagesPurged") == FED and body.get("deviceId") == device_id,
           f"purge of {FED} pending messages answered {body}")
    after = json_of(registry.read(device_id, "after the purge")).get("cloudToDeviceMessageCount")
    expect("PURGE-QUEUE-001", after == 0, f"after the purge {device_id} still has {after!r} pending messages")


@pytest.mark.requirement("PURGE-QUEUE-002")
def test_purge_of_an_empty_queue(registry):
    device_id, _ = registry.make("purgeempty")
    response = purge(registry, device_id)
    body = json_of(response)
    expect("PURGE-QUEUE-002", response.status_code == 200 and isinstance(body, dict), f"purge: {answered(response)}")
    expect("PURGE-QUEUE-002", body.get("totalMessagesPurged") == 0 and body.get("deviceId") == device_id,
           f"purge of an empty queue answered {body}")
