"""Fixtures of a suite run: the Target, its clients, and what creates and cleans up the run's own resources.

The plugin registers this module only when it is active, so no other project sees fixtures named `client` or
`target` appear (a neighbour such as pytest-django has its own `client`).
"""

from __future__ import annotations

import pytest

from iothub_conformance.pytest_plugin.items import item_api_version
from iothub_conformance.targets import session


@pytest.fixture(scope="session")
def target():
    return session.current()


@pytest.fixture(scope="session")
def client():
    return session.client()


@pytest.fixture(scope="session")
def profile(target):
    return target.profile


@pytest.fixture
def api_version(request):
    """The api-version the test's module tests (its `api_version` marker)."""
    return item_api_version(request.node)


@pytest.fixture
def registry(target, client, api_version):
    """Creates devices under the run prefix, at the test's api-version, and deletes them afterwards."""
    from iothub_conformance.surfaces.devices import Registry

    registry = Registry(client, api_version, target.name_prefix)
    yield registry
    registry.cleanup()


@pytest.fixture
def profile_rule(profile):
    """The profile's decision on a disputed rule; skips the test when the profile takes no position."""

    def rule(name: str):
        decided = profile[name]
        if decided.value is None:
            pytest.skip(f"profile {profile.name} takes no position on {name}: {decided.source}")
        return decided.value

    return rule


@pytest.fixture(scope="session")
def feeder(target):
    """Enqueues cloud-to-device messages; skips the test, with the reason, when the target cannot be fed."""
    from iothub_conformance.surfaces.feeders import choose

    chosen, reason = choose(target, target.c2d_feeder)
    if chosen is None:
        pytest.skip(reason)
    return chosen


@pytest.fixture
def devices(registry, target, client):
    """Creates a device under the run prefix and returns its messaging client, signed with the device's key."""
    from iothub_conformance.surfaces.messaging import DeviceClient

    def create(label: str = "msg", **fields) -> DeviceClient:
        device_id, created = registry.create(label, **fields)
        return DeviceClient.of_created(client, target, device_id, created)

    return create


@pytest.fixture
def device(devices):
    return devices()


@pytest.fixture
def clock_if_any(target):
    """The target's controls, for waits that advance its clock instead of sleeping; None for a target without."""
    return target.controls


@pytest.fixture
def clock(target):
    """The target's clock, for lock timeouts: only the embedded reference's can be advanced."""
    if target.controls is None:
        pytest.skip("the target's clock cannot be advanced: lock and delivery timing is tested on the embedded "
                    "reference, where no test waits out a timeout")
    return target.controls


@pytest.fixture(scope="session")
def container(target):
    """The blob container import/export jobs read and write; skips the test, with the reason, when none is given.
    The embedded reference brings its own in-memory storage unless --blob-container names real storage."""
    import httpx

    from iothub_conformance.http.blobs import Container

    if not target.blob_container:
        pytest.skip("import/export jobs need a blob container: pass --blob-container <container SAS URI with read, "
                    "write, list and delete> (env IOTHUB_BLOB_CONTAINER)")
    client = httpx.Client(transport=target.blob_transport, timeout=30) if target.blob_transport else None
    with Container(target.blob_container, client=client) as opened:
        yield opened
    if client is not None:
        client.close()


@pytest.fixture
def jobs(target, client):
    """Starts, reads, cancels and waits for import/export jobs; deletes the blobs the test wrote."""
    from iothub_conformance.surfaces.import_export import Jobs

    made = Jobs(client, target)
    yield made
    made.cleanup()


@pytest.fixture
def scheduled(target, client):
    """Scheduled jobs and twins (api-version 2016-11-14)."""
    from iothub_conformance.surfaces.scheduled_jobs import Scheduled

    return Scheduled(client, target)


@pytest.fixture
def method_responder(target):
    """Makes a device of this run answer direct methods. Only the embedded reference has devices the suite can
    bring online; elsewhere the test skips and says why."""
    controls = target.controls
    if controls is None:
        pytest.skip("no device of this run is online to answer direct methods: the reference simulates one in-process "
                    "(embedded reference only)")
    answered: list[str] = []

    def respond(device_id: str, status: int = 200) -> None:
        def handler(method_name, payload):
            answered.append(device_id)
            return status, {"method": method_name, "echo": payload}

        controls.answer_methods(device_id, handler)

    yield respond
    for device_id in set(answered) | {d for d in controls.answering() if d.startswith(target.name_prefix)}:
        controls.stop_answering(device_id)


@pytest.fixture(scope="session")
def rp_client(target):
    """The resource provider's client; skips the test, with the reason, when the run has no resource provider."""
    if target.rp is None:
        pytest.skip("the resource provider needs --rp-url, --rp-token, --rp-subscription and --rp-resource-group "
                    "(env IOTHUB_RP_URL, IOTHUB_RP_TOKEN, IOTHUB_RP_SUBSCRIPTION, IOTHUB_RP_RESOURCE_GROUP)")
    return target.rp_client()


@pytest.fixture
def rp(target, rp_client):
    """Creates hubs under the run prefix through the resource provider and deletes them afterwards."""
    from iothub_conformance.surfaces.rp import ResourceManager

    manager = ResourceManager(rp_client, target)
    yield manager
    manager.cleanup()
