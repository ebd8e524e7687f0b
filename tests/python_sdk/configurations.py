"""IoTHubConfigurationManager of azure-iot-hub 2.7.0, unmodified, against the served reference: the queries tested
first (a good pair and a refused target condition), two configurations targeting the run's tagged devices, read with
their metrics, one updated under its etag (and once with a stale one), both listed, all and the top one; configuration
content applied to an Edge device; the deletes, one with a stale etag.

Runs inside .cache/python-sdk-venv; the harness (tests/support/python_sdk.py) sets IOTHUB_CONNECTION_STRING,
IOTHUB_BASE_URL, SDK_PREFIX and SDK_TAG. The devices (two tagged with the run's tag, one not, one Edge device) are made,
tagged and deleted with IoTHubRegistryManager.

The configuration manager sends the etag it is given as If-Match unchanged (docs/sources/SDKS.md): this driver gives
it the RFC 7232 form of the configuration's etag ("<etag>", as the registry manager would send it), and a delete
without an etag sends a bare *.
"""

from __future__ import annotations

import sys

from azure.iot.hub import IoTHubConfigurationManager, IoTHubRegistryManager
from azure.iot.hub.models import (
    Configuration,
    ConfigurationContent,
    ConfigurationMetrics,
    ConfigurationQueriesTestInput,
    Twin,
)
from steps import Steps, aim, setting

# docs/sources/service-2021-04-12.json (Configuration_Get, Configuration_CreateOrUpdate: the error names);
# docs/sources/INVENTORY-2021-04-12.md §2.8 and §7 (412 PreconditionFailed).
STALE = (412, "PreconditionFailed")
NOT_FOUND = (404, "ConfigurationNotFound")
METRIC = "leads"
EDGE_CONTENT = {
    "$edgeAgent": {"properties.desired": {"schemaVersion": "1.1", "runtime": {"type": "docker"}, "modules": {}}},
    "$edgeHub": {"properties.desired": {"schemaVersion": "1.1", "routes": {}}},
}


def quoted(etag):
    return None if etag is None else f'"{etag}"'


def main() -> int:
    run = Steps("python configurations")
    connection, base_url = setting("IOTHUB_CONNECTION_STRING"), setting("IOTHUB_BASE_URL")
    cm = IoTHubConfigurationManager.from_connection_string(connection)
    rm = IoTHubRegistryManager.from_connection_string(connection)
    aim(cm, base_url)
    aim(rm, base_url)
    prefix, tag = setting("SDK_PREFIX"), setting("SDK_TAG")
    lead, follower, other, edge = (prefix + name for name in ("cfg1", "cfg2", "cfg3", "edge"))

    # -- the devices the configurations target (two), one they do not, and an Edge device ----------------------------
    for device_id, tags in ((lead, {"pysdkcfg": tag, "role": "lead"}), (follower, {"pysdkcfg": tag, "role": "follower"}),
                            (other, None)):
        run.call("create device", rm.create_device_with_sas, device_id, None, None, "enabled",
                 summary={"device_id": device_id})
        if tags:
            run.call("tag device", rm.update_twin, device_id, Twin(tags=tags), None,
                     summary={"device_id": device_id, "tags": tags})
    run.call("create edge device", rm.create_device_with_sas, edge, None, None, "enabled", True,
             summary={"device_id": edge, "iot_edge": True})

    condition = f"tags.pysdkcfg = '{tag}'"
    metric = f"SELECT deviceId FROM devices WHERE tags.pysdkcfg = '{tag}' AND tags.role = 'lead'"

    # -- testQueries ---------------------------------------------------------------------------------------------------
    good = ConfigurationQueriesTestInput(target_condition=condition, custom_metric_queries={METRIC: metric})
    run.call("test good queries", cm.test_configuration_queries, good,
             summary={"target_condition": condition, "custom_metric_queries": {METRIC: metric}})
    bad = ConfigurationQueriesTestInput(target_condition="tags.pysdkcfg = = 'x'", custom_metric_queries={})
    run.call("test a malformed target condition", cm.test_configuration_queries, bad,
             summary={"target_condition": bad.target_condition})

    # -- create, read ----------------------------------------------------------------------------------------------------
    config_id, second_id = prefix + "config", prefix + "second"
    desired = {"properties.desired.pysdkcfg": {"interval": 30}}
    config = Configuration(id=config_id, schema_version="1.0", labels={"run": tag, "kind": "first"},
                           content=ConfigurationContent(device_content=desired), target_condition=condition,
                           priority=10, metrics=ConfigurationMetrics(queries={METRIC: metric}))
    created = run.call("create configuration", cm.create_configuration, config,
                       summary={"id": config_id, "target_condition": condition, "priority": 10,
                                "device_content": desired, "metric": {METRIC: metric}})
    second = Configuration(id=second_id, labels={"run": tag, "kind": "second"}, target_condition=condition, priority=5,
                           content=ConfigurationContent(device_content={"properties.desired.pysdkother": {"on": True}}))
    run.call("create a second configuration", cm.create_configuration, second,
             summary={"id": second_id, "target_condition": condition, "priority": 5})
    got = run.call("get configuration", cm.get_configuration, config_id, summary={"id": config_id})
    for device_id in (lead, other):
        run.call("get a device's twin", rm.get_twin, device_id, summary={"device_id": device_id})

    # -- update under the etag, then with the stale one -----------------------------------------------------------------
    etag = getattr(got, "etag", None) or getattr(created, "etag", None)
    if got is not None:
        got.priority, got.labels = 20, {"run": tag, "kind": "first", "updated": "yes"}
    updated = run.call("update configuration", cm.update_configuration, got or config, quoted(etag),
                       summary={"id": config_id, "priority": 20, "etag": quoted(etag)})
    if got is not None:
        got.priority = 30
    run.call("update configuration with a stale etag", cm.update_configuration, got or config, quoted(etag),
             expect=STALE, summary={"id": config_id, "priority": 30, "etag": quoted(etag)})
    run.call("get configuration after the updates", cm.get_configuration, config_id, summary={"id": config_id})

    # -- list ------------------------------------------------------------------------------------------------------------
    run.call("list configurations", cm.get_configurations)
    run.call("list the top configuration", cm.get_configurations, 1, summary={"max_count": 1})

    # -- Edge ------------------------------------------------------------------------------------------------------------
    run.call("apply configuration content on the edge device", cm.apply_configuration_on_edge_device, edge,
             ConfigurationContent(modules_content=EDGE_CONTENT), summary={"device_id": edge,
                                                                           "modules": sorted(EDGE_CONTENT)})

    # -- deletes ---------------------------------------------------------------------------------------------------------
    now_etag = getattr(updated, "etag", None)
    run.call("delete configuration with a stale etag", cm.delete_configuration, config_id, quoted(etag),
             expect=STALE, summary={"id": config_id, "etag": quoted(etag)})
    run.call("delete configuration", cm.delete_configuration, config_id, quoted(now_etag),
             summary={"id": config_id, "etag": quoted(now_etag)})
    run.call("delete the second configuration", cm.delete_configuration, second_id, summary={"id": second_id,
                                                                                             "etag": None})
    run.call("get a deleted configuration", cm.get_configuration, config_id, expect=NOT_FOUND,
             summary={"id": config_id})
    run.call("list configurations after the deletes", cm.get_configurations)
    for device_id in (lead, follower, other, edge):
        run.call("delete device", rm.delete_device, device_id, summary={"device_id": device_id})
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
