"""The shared access permission each operation needs at api-version 2021-04-12: RegistryRead for identity reads and
the registry's statistics, RegistryWrite for identity writes and the bulk call, ServiceConnect for twins, query and
direct methods (docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md, its default policies and what each
permission grants; docs/sources/INVENTORY-2021-04-12.md §1.3;
docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md;
docs/sources/iot-hub-devguide-module-twins__2020-06-29_ccf574a5.md;
docs/sources/iot-hub-devguide-direct-methods__2018-07-17_1e2689b4.md).
No source states what the purge, the jobs or the service statistics need: they are not tested here.

Each operation is signed with the default policies that lack its permission (each refused with 401, and a write
changes nothing: read back with the run's own credentials) and with one that holds it: that one must be served, or
the refusals show nothing. The keys of a target's other policies come from its controls (`connection_string`); a
target without them skips, saying why. Everything touched is the run's own: its devices, their modules and twins.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

from collections.abc import Callable

import httpx
import pytest

from iothub_conformance.config import ConfigError
from iothub_conformance.http import sas
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, served
from iothub_conformance.surfaces.devices import Registry
from iothub_conformance.surfaces.modules import Modules, module_path
from iothub_conformance.surfaces.twins import Query, Twins, id_list, method_path, twin_path

pytestmark = pytest.mark.api_version("2021-04-12")

V21 = {"api-version": "2021-04-12"}
# The default policies (the SAS page's table): which of them lack, and which hold, each permission.
LACK_REGISTRY_READ = ("service", "device")
LACK_REGISTRY_WRITE = ("registryRead", "service", "device")
LACK_SERVICE_CONNECT = ("registryRead", "registryReadWrite", "device")

Sign = Callable[[str], dict]  # policy name → the Authorization header of a token of that policy


@pytest.fixture
def sign(target) -> Sign:
    control = getattr(target.controls, "connection_string", None) if target.controls is not None else None
    if control is None:
        pytest.skip("the target offers no control 'connection_string': the suite knows the key of no policy but the "
                    "run's own (the embedded reference offers it)")

    def header(policy: str) -> dict:
        try:
            connection = sas.parse_connection_string(control(policy))
        except (ConfigError, LookupError, ValueError) as exc:
            pytest.skip(f"the target's controls give no connection string of the default policy {policy!r}: {exc}")
        return {"Authorization": sas.build_token(connection.host_name, connection.key, connection.key_name)}

    return header


@pytest.fixture
def modules(registry):
    return Modules(registry)


@pytest.fixture
def device_id(registry):
    return registry.make("perm")[0]


def refused(requirement: str, response: httpx.Response, policy: str, permission: str, what: str) -> None:
    expect(requirement, response.status_code == 401,
           f"{what} signed with policy {policy!r}, which lacks {permission}: {answered(response)}, expected 401")


def judge_read(requirement: str, permission: str, holder: str, lacking: tuple[str, ...], sign: Sign,
               call: Callable[[dict], httpx.Response], what: str, kind: type = dict) -> None:
    served(call(sign(holder)), f"{what} signed with policy {holder!r}", kind)
    for policy in lacking:
        refused(requirement, call(sign(policy)), policy, permission, what)


def judge_write(requirement: str, permission: str, holder: str, lacking: tuple[str, ...], sign: Sign,
                call: Callable[[dict], httpx.Response], state: Callable[[], object], what: str,
                statuses: tuple[int, ...] = (200,)) -> None:
    """Each lacking policy is refused and `state()` (read with the run's own token) stays; then the holder is served
    and the state changes: else the write it was refused shows nothing."""
    before = state()
    for policy in lacking:
        refused(requirement, call(sign(policy)), policy, permission, what)
        now = state()
        expect(requirement, now == before, f"{what} signed with policy {policy!r} was refused but changed "
                                           f"{before!r} to {now!r}")
    served(call(sign(holder)), f"{what} signed with policy {holder!r}", statuses=statuses)
    if state() == before:
        raise PreconditionFailed(f"{what} signed with policy {holder!r} was answered but changed nothing, so the "
                                 "refusals show nothing")


def module_exists(modules: Modules, device_id: str, module_id: str) -> bool:
    response = modules.get(device_id, module_id)
    if response.status_code not in (200, 404):
        raise PreconditionFailed(f"could not tell whether module {module_id} of {device_id} exists: {answered(response)}")
    return response.status_code == 200


# -- RegistryRead -------------------------------------------------------------------------------------------------


def _reads(registry: Registry, modules: Modules, device_id: str) -> dict[str, Callable[[dict], httpx.Response]]:
    client = registry.client
    return {
        "list devices": lambda h: client.get("/devices", params={**V21, "top": "1"}, headers=h),
        "get device": lambda h: registry.get(device_id, headers=h),
        "device statistics": lambda h: client.get("/statistics/devices", params=V21, headers=h),
        "list modules": lambda h: client.get(module_path(device_id), params=V21, headers=h),
        "get module": lambda h: modules.get(device_id, "perm", headers=h),
    }


@pytest.mark.requirement("PERM-READ-001")
@pytest.mark.parametrize("operation", ["list devices", "get device", "device statistics", "list modules",
                                       "get module"])
def test_identity_reads_need_registry_read(registry, modules, device_id, sign, operation):
    modules.make(device_id, "perm")
    call = _reads(registry, modules, device_id)[operation]
    kind = list if operation.startswith("list") else dict
    judge_read("PERM-READ-001", "RegistryRead", "registryRead", LACK_REGISTRY_READ, sign, call, operation, kind)


# -- RegistryWrite ------------------------------------------------------------------------------------------------


@pytest.mark.requirement("PERM-WRITE-001")
def test_creating_a_device_needs_registry_write(registry, sign):
    new = registry.name("permnew")
    judge_write("PERM-WRITE-001", "RegistryWrite", "registryReadWrite", LACK_REGISTRY_WRITE, sign,
                lambda h: registry.put(new, headers=h), lambda: registry.exists(new), f"PUT of the new device {new}",
                statuses=(200, 201))  # served is what counts here; DEVICE-CREATE-001 judges which status


@pytest.mark.requirement("PERM-WRITE-001")
def test_updating_a_device_needs_registry_write(registry, device_id, sign):
    def status() -> object:
        return json_of(registry.read(device_id)).get("status")

    judge_write("PERM-WRITE-001", "RegistryWrite", "registryReadWrite", LACK_REGISTRY_WRITE, sign,
                lambda h: registry.put(device_id, {"deviceId": device_id, "status": "disabled"}, if_match="*",
                                       headers=h), status, f"PUT of device {device_id} (status disabled)")


@pytest.mark.requirement("PERM-WRITE-001")
def test_deleting_a_device_needs_registry_write(registry, device_id, sign):
    judge_write("PERM-WRITE-001", "RegistryWrite", "registryReadWrite", LACK_REGISTRY_WRITE, sign,
                lambda h: registry.delete(device_id, if_match="*", headers=h), lambda: registry.exists(device_id),
                f"DELETE of device {device_id}", statuses=(200, 204))


@pytest.mark.requirement("PERM-WRITE-001")
def test_creating_a_module_needs_registry_write(modules, device_id, sign):
    judge_write("PERM-WRITE-001", "RegistryWrite", "registryReadWrite", LACK_REGISTRY_WRITE, sign,
                lambda h: modules.put(device_id, "permnew", headers=h),
                lambda: module_exists(modules, device_id, "permnew"), f"PUT of a new module of {device_id}",
                statuses=(200, 201))


@pytest.mark.requirement("PERM-WRITE-001")
def test_updating_a_module_needs_registry_write(modules, device_id, sign):
    modules.make(device_id, "perm", managedBy="before")
    body = {"moduleId": "perm", "deviceId": device_id, "managedBy": "after"}
    judge_write("PERM-WRITE-001", "RegistryWrite", "registryReadWrite", LACK_REGISTRY_WRITE, sign,
                lambda h: modules.put(device_id, "perm", body, if_match="*", headers=h),
                lambda: modules.read(device_id, "perm").get("managedBy"), f"PUT of module perm of {device_id}")


@pytest.mark.requirement("PERM-WRITE-001")
def test_deleting_a_module_needs_registry_write(registry, modules, device_id, sign):
    modules.make(device_id, "perm")
    judge_write("PERM-WRITE-001", "RegistryWrite", "registryReadWrite", LACK_REGISTRY_WRITE, sign,
                lambda h: registry.client.delete(module_path(device_id, "perm"), params=V21,
                                                 headers={**h, "If-Match": "*"}),
                lambda: module_exists(modules, device_id, "perm"), f"DELETE of module perm of {device_id}",
                statuses=(200, 204))


@pytest.mark.requirement("PERM-WRITE-001")
def test_the_bulk_call_needs_registry_write(registry, sign):
    new = registry.name("permbulk")
    registry.created.append(new)  # the run deletes it, whichever token created it

    def post(headers: dict) -> httpx.Response:
        return registry.client.post("/devices", params=V21, json=[{"id": new, "importMode": "create"}], headers=headers)

    judge_write("PERM-WRITE-001", "RegistryWrite", "registryReadWrite", LACK_REGISTRY_WRITE, sign, post,
                lambda: registry.exists(new), f"bulk create of {new}")


# -- ServiceConnect -----------------------------------------------------------------------------------------------


@pytest.mark.requirement("PERM-TWIN-001")
@pytest.mark.parametrize("module_id", [None, "perm"], ids=["device twin", "module twin"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT"])
def test_twins_need_service_connect(registry, modules, device_id, sign, module_id, method):
    if module_id is not None:
        modules.make(device_id, module_id)
    twins = Twins(registry)
    path = twin_path(device_id, module_id)
    what = f"{method} of the {'module' if module_id else 'device'} twin of {device_id}"
    if method == "GET":
        judge_read("PERM-TWIN-001", "ServiceConnect", "service", LACK_SERVICE_CONNECT, sign,
                   lambda h: registry.client.get(path, params=V21, headers=h), what)
        return

    def write(headers: dict) -> httpx.Response:
        return registry.client.request(method, path, params=V21, json={"tags": {"perm": "written"}},
                                       headers={**headers, "If-Match": "*"})

    judge_write("PERM-TWIN-001", "ServiceConnect", "service", LACK_SERVICE_CONNECT, sign, write,
                lambda: twins.read(device_id, module_id).get("tags"), what)


@pytest.mark.requirement("PERM-QUERY-001")
def test_query_needs_service_connect(registry, device_id, sign):
    text = f"SELECT * FROM devices WHERE deviceId IN {id_list([device_id])}"
    Query(registry).scoped(text)  # the run's own device only
    judge_read("PERM-QUERY-001", "ServiceConnect", "service", LACK_SERVICE_CONNECT, sign,
               lambda h: registry.client.post("/devices/query", params=V21, json={"query": text}, headers=h),
               "POST /devices/query of the run's device", list)


@pytest.mark.requirement("PERM-METHOD-001")
@pytest.mark.parametrize("module_id", [None, "perm"], ids=["device", "module"])
def test_direct_methods_need_service_connect(registry, modules, device_id, sign, target, module_id):
    answer = getattr(target.controls, "answer_methods", None) if target.controls is not None else None
    if answer is None:
        pytest.skip("the target offers no control 'answer_methods': no device of this run can answer a method")
    if module_id is not None:
        modules.make(device_id, module_id)
    calls: list[str] = []

    def handler(name: str, payload: object) -> tuple[int, object]:
        calls.append(name)
        return 200, {"answered": name}

    answer(device_id, handler, **({} if module_id is None else {"module_id": module_id}))
    try:
        def invoke(headers: dict) -> httpx.Response:
            body = {"methodName": "permission", "payload": None, "responseTimeoutInSeconds": 5}
            return registry.client.post(method_path(device_id, module_id), params=V21, json=body, headers=headers)

        judge_write("PERM-METHOD-001", "ServiceConnect", "service", LACK_SERVICE_CONNECT, sign, invoke,
                    lambda: len(calls), f"a direct method of {device_id}" + (f" module {module_id}" if module_id else ""))
    finally:
        target.controls.stop_answering(device_id, **({} if module_id is None else {"module_id": module_id}))
