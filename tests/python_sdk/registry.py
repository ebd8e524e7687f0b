"""IoTHubRegistryManager of azure-iot-hub 2.7.0, unmodified, against the served reference: devices (SAS, X.509,
certificate authority), statistics, modules, device and module twins, direct methods on a device and on a module,
query with paging, bulk registry operations (one with a partial failure) and the cloud-to-device purge.

Runs inside .cache/python-sdk-venv; the harness (tests/support/python_sdk.py) sets:
  IOTHUB_CONNECTION_STRING  the served hub's service policy; IOTHUB_BASE_URL  http://127.0.0.1:<port>
  SDK_PREFIX  the run's name prefix (every device it makes starts with it); SDK_TAG  the run's tag value for the query
  SDK_PURGE_DEVICE  a device the harness made, with messages waiting; SDK_ONLINE_MODULE  the module of
  <prefix>sas that the harness brought online
Device <prefix>sas and module <prefix>sas/<SDK_ONLINE_MODULE> answer direct methods (the harness brought them online
before this script started); <prefix>x509 is never online.
"""

from __future__ import annotations

import sys

from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import (
    AuthenticationMechanism,
    CloudToDeviceMethod,
    ExportImportDevice,
    QuerySpecification,
    SymmetricKey,
    Twin,
    TwinProperties,
)
from steps import Steps, aim, setting

MAX_PAGES = 10
# The errors expected, (status, iothub-errorcode): docs/sources/INVENTORY-2021-04-12.md §2.1, §2.3, §2.6 and §7
# (docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md: 404001, 404103; 404010 and 412001 from the .NET SDK's
# ErrorCode list).
STALE = (412, "PreconditionFailed")
NO_DEVICE = (404, "DeviceNotFound")
NO_MODULE = (404, "ModuleNotFound")
NOT_ONLINE = (404, "DeviceNotOnline")


def main() -> int:
    run = Steps("python registry")
    rm = IoTHubRegistryManager.from_connection_string(setting("IOTHUB_CONNECTION_STRING"))
    aim(rm, setting("IOTHUB_BASE_URL"))
    prefix, tag = setting("SDK_PREFIX"), setting("SDK_TAG")
    module = setting("SDK_ONLINE_MODULE")
    sas, x509, ca = prefix + "sas", prefix + "x509", prefix + "ca"

    # -- devices and the registry statistics ---------------------------------------------------------------------------
    run.call("registry statistics before", rm.get_device_registry_statistics)
    run.call("service statistics", rm.get_service_statistics)
    primary, secondary = run.key("sent primary"), run.key("sent secondary")
    created = run.call("create sas device", rm.create_device_with_sas, sas, primary, secondary, "enabled",
                       summary={"device_id": sas, "status": "enabled"})
    thumbs = ("A" * 40, "B" * 40)
    created_x509 = run.call("create x509 device", rm.create_device_with_x509, x509, *thumbs, "disabled",
                            summary={"device_id": x509, "thumbprints": thumbs, "status": "disabled"})
    run.call("create ca device", rm.create_device_with_certificate_authority, ca, "enabled",
             summary={"device_id": ca, "status": "enabled"})
    run.call("registry statistics after creates", rm.get_device_registry_statistics)
    run.call("get sas device", rm.get_device, sas, summary={"device_id": sas})
    first_etag = getattr(created, "etag", None)
    primary2, secondary2 = run.key("second primary"), run.key("second secondary")
    run.call("update sas device", rm.update_device_with_sas, sas, first_etag, primary2, secondary2, "disabled",
             summary={"device_id": sas, "etag": first_etag, "status": "disabled"})
    run.call("update sas device with a stale etag", rm.update_device_with_sas, sas, first_etag, primary, secondary,
             "enabled", expect=STALE, summary={"device_id": sas, "etag": first_etag})
    updated = run.call("get sas device after the updates", rm.get_device, sas, summary={"device_id": sas})
    run.call("update x509 device", rm.update_device_with_x509, x509, getattr(created_x509, "etag", None),
             "C" * 40, "D" * 40, "disabled", summary={"device_id": x509, "thumbprints": ["C" * 40, "D" * 40]})
    run.call("update ca device", rm.update_device_with_certificate_authority, ca, None, "disabled",
             summary={"device_id": ca, "etag": None, "status": "disabled"})
    run.call("list devices", rm.get_devices)
    run.call("list one device", rm.get_devices, 1, summary={"max_number_of_devices": 1})

    # -- modules -----------------------------------------------------------------------------------------------------
    mprimary, msecondary = run.key("module primary"), run.key("module secondary")
    made = run.call("create sas module", rm.create_module_with_sas, sas, module, None, mprimary, msecondary,
                    summary={"device_id": sas, "module_id": module})
    run.call("create x509 module", rm.create_module_with_x509, sas, "m-x509", None, *thumbs,
             summary={"device_id": sas, "module_id": "m-x509"})
    made_ca = run.call("create ca module", rm.create_module_with_certificate_authority, sas, "m-ca", "pysdk",
                       summary={"device_id": sas, "module_id": "m-ca", "managed_by": "pysdk"})
    run.call("get sas module", rm.get_module, sas, module, summary={"device_id": sas, "module_id": module})
    run.call("list modules", rm.get_modules, sas, summary={"device_id": sas})
    module_etag = getattr(made, "etag", None)
    mprimary2, msecondary2 = run.key("second module primary"), run.key("second module secondary")
    run.call("update sas module", rm.update_module_with_sas, sas, module, None, module_etag, mprimary2, msecondary2,
             summary={"device_id": sas, "module_id": module, "etag": module_etag})
    run.call("update sas module with a stale etag", rm.update_module_with_sas, sas, module, None, module_etag,
             mprimary, msecondary, expect=STALE, summary={"device_id": sas, "module_id": module, "etag": module_etag})
    run.call("update x509 module", rm.update_module_with_x509, sas, "m-x509", None, None, "C" * 40, "D" * 40,
             summary={"device_id": sas, "module_id": "m-x509", "etag": None})
    run.call("update ca module", rm.update_module_with_certificate_authority, sas, "m-ca", "pysdk",
             getattr(made_ca, "etag", None), summary={"device_id": sas, "module_id": "m-ca"})

    # -- device twin -------------------------------------------------------------------------------------------------
    twin = run.call("get twin", rm.get_twin, sas, summary={"device_id": sas})
    twin_etag = getattr(twin, "etag", None)
    patch = Twin(tags={"pysdk": {"role": "sensor"}}, properties=TwinProperties(desired={"interval": 30}))
    run.call("update twin", rm.update_twin, sas, patch, twin_etag,
             summary={"device_id": sas, "tags": patch.tags, "desired": {"interval": 30}, "etag": twin_etag})
    patched = run.call("get twin after the update", rm.get_twin, sas, summary={"device_id": sas})
    run.call("update twin with a stale etag", rm.update_twin, sas, Twin(tags={"stale": True}), twin_etag, expect=STALE,
             summary={"device_id": sas, "etag": twin_etag})
    whole = Twin(tags={"site": "b"}, properties=TwinProperties(desired={"mode": "eco"}))
    run.call("replace twin", rm.replace_twin, sas, whole, getattr(patched, "etag", None),
             summary={"device_id": sas, "tags": whole.tags, "desired": {"mode": "eco"}})
    run.call("get twin after the replace", rm.get_twin, sas, summary={"device_id": sas})

    # -- module twin -------------------------------------------------------------------------------------------------
    mtwin = run.call("get module twin", rm.get_module_twin, sas, module, summary={"device_id": sas, "module_id": module})
    mtwin_etag = getattr(mtwin, "etag", None)
    mpatch = Twin(tags={"pysdk": "module"}, properties=TwinProperties(desired={"rate": 5}))
    run.call("update module twin", rm.update_module_twin, sas, module, mpatch, mtwin_etag,
             summary={"device_id": sas, "module_id": module, "tags": mpatch.tags, "desired": {"rate": 5}})
    mpatched = run.call("get module twin after the update", rm.get_module_twin, sas, module,
                        summary={"device_id": sas, "module_id": module})
    run.call("update module twin with a stale etag", rm.update_module_twin, sas, module, Twin(tags={"stale": 1}),
             mtwin_etag, expect=STALE, summary={"device_id": sas, "module_id": module, "etag": mtwin_etag})
    mwhole = Twin(tags={"slot": 2}, properties=TwinProperties(desired={"rate": 9}))
    run.call("replace module twin", rm.replace_module_twin, sas, module, mwhole, getattr(mpatched, "etag", None),
             summary={"device_id": sas, "module_id": module, "tags": mwhole.tags, "desired": {"rate": 9}})
    run.call("get module twin after the replace", rm.get_module_twin, sas, module,
             summary={"device_id": sas, "module_id": module})

    # -- direct methods ----------------------------------------------------------------------------------------------
    request = CloudToDeviceMethod(method_name="pysdk.echo", payload={"n": 1, "text": "hi"},
                                  response_timeout_in_seconds=10, connect_timeout_in_seconds=5)
    summary = {"method_name": "pysdk.echo", "payload": {"n": 1, "text": "hi"}, "response_timeout_in_seconds": 10}
    run.call("invoke device method", rm.invoke_device_method, sas, request, summary={"device_id": sas, **summary})
    offline = CloudToDeviceMethod(method_name="pysdk.echo", payload={}, response_timeout_in_seconds=5)
    run.call("invoke method on a device not online", rm.invoke_device_method, x509, offline, expect=NOT_ONLINE,
             summary={"device_id": x509, "method_name": "pysdk.echo"})
    mrequest = CloudToDeviceMethod(method_name="pysdk.module", payload={"k": "v"}, response_timeout_in_seconds=10)
    run.call("invoke module method", rm.invoke_device_module_method, sas, module, mrequest,
             summary={"device_id": sas, "module_id": module, "method_name": "pysdk.module", "payload": {"k": "v"}})

    # -- query, paged --------------------------------------------------------------------------------------------------
    members = [f"{prefix}q{i}" for i in range(5)]
    for device_id in members:
        run.call("create query device", rm.create_device_with_sas, device_id, None, None, "enabled",
                 summary={"device_id": device_id})
        run.call("tag query device", rm.update_twin, device_id, Twin(tags={"pysdkrun": tag}), None,
                 summary={"device_id": device_id, "tags": {"pysdkrun": tag}})
    query = QuerySpecification(query=f"SELECT * FROM devices WHERE tags.pysdkrun = '{tag}'")
    token = None
    for page in range(MAX_PAGES):
        result = run.call(f"query page {page + 1}", rm.query_iot_hub, query, token, 2,
                          summary={"query": query.query, "continuation_token": token is not None, "max_item_count": 2})
        token = getattr(result, "continuation_token", None)
        if not token:
            break

    # -- bulk registry -------------------------------------------------------------------------------------------------
    b1, b2 = prefix + "bulk1", prefix + "bulk2"

    def entry(device_id: str, mode: str, status: str = "enabled") -> ExportImportDevice:
        keys = SymmetricKey(primary_key=run.key("bulk primary"), secondary_key=run.key("bulk secondary"))
        return ExportImportDevice(id=device_id, import_mode=mode, status=status,
                                  authentication=AuthenticationMechanism(type="sas", symmetric_key=keys))

    run.call("bulk create", rm.bulk_create_or_update_devices, [entry(b1, "create"), entry(b2, "create")],
             summary={"create": [b1, b2]})
    run.call("get a bulk-created device", rm.get_device, b1, summary={"device_id": b1})
    run.call("bulk with a partial failure", rm.bulk_create_or_update_devices,
             [entry(b2, "update", "disabled"), entry(b1, "create")], summary={"update": [b2], "create (exists)": [b1]})
    run.call("bulk delete", rm.bulk_create_or_update_devices, [entry(b1, "delete"), entry(b2, "delete")],
             summary={"delete": [b1, b2]})
    run.call("get a bulk-deleted device", rm.get_device, b2, expect=NO_DEVICE, summary={"device_id": b2})

    # -- cloud-to-device purge (the protocol client's call: IoTHubRegistryManager has no method for it) ---------------
    purge = setting("SDK_PURGE_DEVICE")
    run.call("purge the device queue", rm.protocol.cloud_to_device_messages.purge_cloud_to_device_message_queue,
             purge, summary={"device_id": purge})

    # -- deletes -------------------------------------------------------------------------------------------------------
    run.call("delete x509 module", rm.delete_module, sas, "m-x509", None, summary={"module_id": "m-x509", "etag": None})
    run.call("delete ca module with a stale etag", rm.delete_module, sas, "m-ca", getattr(made_ca, "etag", None),
             expect=STALE, summary={"module_id": "m-ca", "etag": getattr(made_ca, "etag", None)})
    current = run.call("get ca module", rm.get_module, sas, "m-ca", summary={"module_id": "m-ca"})
    run.call("delete ca module", rm.delete_module, sas, "m-ca", getattr(current, "etag", None),
             summary={"module_id": "m-ca", "etag": getattr(current, "etag", None)})
    run.call("list modules after the deletes", rm.get_modules, sas, summary={"device_id": sas})
    run.call("delete sas module", rm.delete_module, sas, module, None, summary={"module_id": module})
    run.call("get a deleted module", rm.get_module, sas, module, expect=NO_MODULE, summary={"module_id": module})
    run.call("delete x509 device with a stale etag", rm.delete_device, x509, getattr(created_x509, "etag", None),
             expect=STALE, summary={"device_id": x509, "etag": getattr(created_x509, "etag", None)})
    now = run.call("get x509 device", rm.get_device, x509, summary={"device_id": x509})
    run.call("delete x509 device", rm.delete_device, x509, getattr(now, "etag", None),
             summary={"device_id": x509, "etag": getattr(now, "etag", None)})
    run.call("delete ca device", rm.delete_device, ca, None, summary={"device_id": ca, "etag": None})
    for device_id in members:
        run.call("delete query device", rm.delete_device, device_id, summary={"device_id": device_id})
    run.call("delete sas device", rm.delete_device, sas, getattr(updated, "etag", None),
             summary={"device_id": sas, "etag": getattr(updated, "etag", None)})
    run.call("get a deleted device", rm.get_device, x509, expect=NO_DEVICE, summary={"device_id": x509})
    run.call("registry statistics at the end", rm.get_device_registry_statistics)

    # The uAMQP SendClient IoTHubRegistryManager.__init__ makes (for send_c2d_message) must not have connected.
    client = rm.amqp_svc_client.amqp_client
    run.note("no AMQP connection", {"amqp_host": client._remote_address.hostname,
                                    "connection_opened": client._connection is not None},
             ok=client._connection is None)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
