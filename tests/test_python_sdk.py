"""The official Python service SDK of api-version 2021-04-12 (azure-iot-hub 2.7.0), unmodified but for its base URL,
against the reference served in this process (tests/support/python_sdk.py runs it; tests/python_sdk/ holds the
pinned requirements and the drivers). Every call the SDK makes over REST for the registry, modules, twins, direct
methods, query, bulk, statistics, purge, jobs, configurations, digital twins and cloud-to-device feedback answers as
the SDK expects, the SDK's own objects say what the calls did, its requests keep every client rule of
`check-traffic --requests`, and no secret reaches its output or recording.

The sources of what is asserted: docs/sources/INVENTORY-2021-04-12.md (§2.1–2.12, what each operation takes and
gives), docs/sources/service-2021-04-12.json (the models), docs/sources/SDKS.md ("Python azure-iot-hub 2.7.0": the
base URL, the If-Match each manager sends, the statuses the SDK accepts), the pages named at each test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from urllib.parse import quote, unquote, urlsplit

import pytest

from iothub_conformance.surfaces.messaging import lock_of
from iothub_conformance.traffic.exchange import RecordedRequest
from iothub_conformance.traffic.matching import match_request
from tests.support import python_sdk
from tests.support.python_sdk import (
    DEVICE_ANSWER_STATUS,
    MODULE_ANSWER_STATUS,
    ONLINE_MODULE,
    PURGED_MESSAGES,
    SdkRun,
    SdkUnavailable,
    sdk_entries,
    shared_runs,
)
from tests.support.served import free_port
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

SIG = re.compile(r"sig=(?!<redacted>)[^&\s\"]", re.IGNORECASE)  # a signature's value, not the placeholder
API = "api-version=2021-04-12"
RECORDINGS = ROOT / "tests" / "recordings" / "sdk"


@pytest.fixture(scope="module")
def runs() -> dict[str, SdkRun]:
    try:
        return shared_runs()
    except SdkUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


def _gaps(run: SdkRun) -> str:
    """Each step that did not come out as expected, with what the SDK got: the message a failing test shows."""
    lines = []
    for line in run.lines:
        if not line["ok"]:
            got = (f"{line.get('error')} {line.get('status') or ''} {line.get('code') or ''} "
                   f"{line.get('body') or line.get('message') or ''}")
            lines.append(f"  {line['step']} ({line['call']}): {got.strip()[:220]}")
    notes = "".join(f"\n  harness: {note}" for note in run.notes)
    return f"{run.name}: {run.last_line}\n" + "\n".join(lines) + notes + ("\n" + run.stderr[-1500:] if run.stderr else "")


def _result(run: SdkRun, step: str):
    line = run.step(step)
    assert line["ok"], _gaps(run)
    return line["result"]


def _desired(twin: dict) -> dict:
    """The desired properties the user set, without the service's $version and $metadata."""
    return {k: v for k, v in (twin.get("properties") or {}).get("desired", {}).items() if not k.startswith("$")}


# -- every call -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", python_sdk.DRIVERS)
def test_every_call_the_sdk_makes_answers_as_it_expects(runs, name):
    run = runs[name]
    assert run.lines and all(line["ok"] for line in run.lines) and run.returncode == 0, _gaps(run)
    assert run.last_line == f"python {name.replace('_', ' ')}: {len(run.lines)} of {len(run.lines)} steps as expected"


# -- the registry manager ------------------------------------------------------------------------------------------------

def test_devices_are_created_with_each_authentication_and_their_etag_guards_updates(runs):
    run = runs["registry"]
    sas, x509, ca = (run.prefix + name for name in ("sas", "x509", "ca"))
    created = _result(run, "create sas device")
    assert created["device_id"] == sas and created["status"] == "enabled" and created["etag"]
    assert created["authentication"]["type"] == "sas"
    assert created["authentication"]["symmetric_key"] == {"primary_key": "<sent primary>",
                                                          "secondary_key": "<sent secondary>"}
    made_x509 = _result(run, "create x509 device")
    assert made_x509["device_id"] == x509 and made_x509["status"] == "disabled"
    assert made_x509["authentication"]["type"] == "selfSigned"
    assert made_x509["authentication"]["x509_thumbprint"] == {"primary_thumbprint": "A" * 40,
                                                              "secondary_thumbprint": "B" * 40}
    made_ca = _result(run, "create ca device")
    assert made_ca["device_id"] == ca and made_ca["authentication"]["type"] == "certificateAuthority"

    got = _result(run, "get sas device")
    assert (got["device_id"], got["etag"]) == (sas, created["etag"])
    updated = _result(run, "update sas device")
    assert updated["status"] == "disabled" and updated["etag"] not in (None, created["etag"])
    assert updated["authentication"]["symmetric_key"] == {"primary_key": "<second primary>",
                                                          "secondary_key": "<second secondary>"}
    stale = run.step("update sas device with a stale etag")
    assert (stale["error"], stale["status"]) == ("HttpOperationError", 412), _gaps(run)
    after = _result(run, "get sas device after the updates")
    assert after["status"] == "disabled" and after["etag"] == updated["etag"]  # the stale update changed nothing
    assert after["authentication"]["symmetric_key"]["primary_key"] == "<second primary>"
    assert _result(run, "update x509 device")["authentication"]["x509_thumbprint"]["primary_thumbprint"] == "C" * 40
    assert _result(run, "update ca device")["status"] == "disabled"

    listed = {device["device_id"] for device in _result(run, "list devices")}
    assert {sas, x509, ca} <= listed
    assert len(_result(run, "list one device")) == 1  # top=1 of at least four devices
    assert run.step("get a deleted device")["status"] == 404


def test_registry_statistics_move_with_creates_and_deletes(runs):
    run = runs["registry"]
    before = _result(run, "registry statistics before")
    after = _result(run, "registry statistics after creates")
    end = _result(run, "registry statistics at the end")
    assert after["total_device_count"] == before["total_device_count"] + 3
    assert after["enabled_device_count"] == before["enabled_device_count"] + 2  # sas and ca
    assert after["disabled_device_count"] == before["disabled_device_count"] + 1  # x509
    assert end == before  # everything the driver made, it deleted
    connected = _result(run, "service statistics")["connected_device_count"]
    assert isinstance(connected, int) and connected >= 0


def test_modules_are_created_listed_updated_and_deleted(runs):
    run = runs["registry"]
    sas = run.prefix + "sas"
    made = _result(run, "create sas module")
    assert (made["device_id"], made["module_id"]) == (sas, ONLINE_MODULE) and made["etag"]
    assert made["authentication"]["symmetric_key"] == {"primary_key": "<module primary>",
                                                       "secondary_key": "<module secondary>"}
    assert _result(run, "create x509 module")["authentication"]["type"] == "selfSigned"
    made_ca = _result(run, "create ca module")
    assert made_ca["authentication"]["type"] == "certificateAuthority" and made_ca["managed_by"] == "pysdk"
    assert _result(run, "get sas module")["etag"] == made["etag"]
    assert {m["module_id"] for m in _result(run, "list modules")} == {ONLINE_MODULE, "m-x509", "m-ca"}
    updated = _result(run, "update sas module")
    assert updated["etag"] not in (None, made["etag"])
    assert updated["authentication"]["symmetric_key"]["primary_key"] == "<second module primary>"
    assert run.step("update sas module with a stale etag")["status"] == 412
    assert _result(run, "update x509 module")["authentication"]["x509_thumbprint"]["primary_thumbprint"] == "C" * 40
    assert run.step("delete ca module with a stale etag")["status"] == 412
    assert {m["module_id"] for m in _result(run, "list modules after the deletes")} == {ONLINE_MODULE}
    assert run.step("get a deleted module")["status"] == 404


@pytest.mark.parametrize("kind", ["twin", "module twin"])
def test_twins_are_patched_and_replaced_under_their_etag(runs, kind):
    run = runs["registry"]
    first = _result(run, f"get {kind}")
    assert first["device_id"] == run.prefix + "sas" and first["etag"]
    if kind == "module twin":
        assert first["module_id"] == ONLINE_MODULE
    tags, desired = ({"pysdk": {"role": "sensor"}}, {"interval": 30}) if kind == "twin" else ({"pysdk": "module"},
                                                                                               {"rate": 5})
    patched = _result(run, f"update {kind}")
    assert patched["tags"] == tags and _desired(patched) == desired
    read = _result(run, f"get {kind} after the update")
    assert read["tags"] == tags and _desired(read) == desired and read["etag"] not in (None, first["etag"])
    assert run.step(f"update {kind} with a stale etag")["status"] == 412
    whole_tags, whole_desired = ({"site": "b"}, {"mode": "eco"}) if kind == "twin" else ({"slot": 2}, {"rate": 9})
    replaced = _result(run, f"replace {kind}")
    assert replaced["tags"] == whole_tags and _desired(replaced) == whole_desired  # the patched keys are gone
    final = _result(run, f"get {kind} after the replace")
    assert final["tags"] == whole_tags and _desired(final) == whole_desired


def test_direct_methods_return_what_the_simulated_device_and_module_answered(runs):
    run = runs["registry"]
    assert _result(run, "invoke device method") == {"status": DEVICE_ANSWER_STATUS, "payload": {
        "answeredBy": "device", "method": "pysdk.echo", "received": {"n": 1, "text": "hi"}}}
    assert _result(run, "invoke module method") == {"status": MODULE_ANSWER_STATUS, "payload": {
        "answeredBy": "module", "method": "pysdk.module", "received": {"k": "v"}}}
    offline = run.step("invoke method on a device not online")
    assert (offline["status"], offline["code"]) == (404, "DeviceNotOnline"), _gaps(run)


def test_the_query_pages_through_exactly_the_runs_tagged_twins(runs):
    run = runs["registry"]
    pages = [line for line in run.lines if line["step"].startswith("query page ")]
    assert pages and all(page["ok"] for page in pages), _gaps(run)
    results = [page["result"] for page in pages]
    assert all(len(result["items"]) <= 2 for result in results)  # x-ms-max-item-count: 2
    assert [bool(result["continuation_token"]) for result in results] == [True] * (len(results) - 1) + [False]
    assert [page["args"]["continuation_token"] for page in pages] == [False] + [True] * (len(pages) - 1)
    found = [item["device_id"] for result in results for item in result["items"]]  # the SDK's Twin models
    assert sorted(found) == [f"{run.prefix}q{i}" for i in range(5)]  # each once, across pages, nothing else
    assert {result["type"] for result in results} == {"twin"}
    assert all(item["tags"]["pysdkrun"] == run.tag for result in results for item in result["items"])


def test_bulk_operations_report_success_and_a_partial_failure(runs):
    run = runs["registry"]
    b1 = run.prefix + "bulk1"
    created = _result(run, "bulk create")
    assert created["is_successful"] is True and not created.get("errors")
    assert _result(run, "get a bulk-created device")["device_id"] == b1
    partial = _result(run, "bulk with a partial failure")
    assert partial["is_successful"] is False
    assert [error["device_id"] for error in partial["errors"]] == [b1]  # the create of an existing device
    assert _result(run, "bulk delete")["is_successful"] is True
    assert run.step("get a bulk-deleted device")["status"] == 404


def test_the_purge_empties_the_queue_the_test_filled(runs):
    run = runs["registry"]
    purged = _result(run, "purge the device queue")
    assert purged["device_id"] == run.prefix + "purge" and purged["total_messages_purged"] == PURGED_MESSAGES


def test_the_registry_manager_opens_no_amqp_connection(runs):
    # IoTHubRegistryManager.__init__ makes a uAMQP SendClient for send_c2d_message, which the tests never call.
    line = runs["registry"].step("no AMQP connection")
    assert line["result"] == {"amqp_host": "conformance-hub.azure-devices.net", "connection_opened": False}


def test_the_sdk_quotes_the_etag_it_is_given_and_sends_a_quoted_star_without_one(runs):
    # docs/sources/SDKS.md: the registry manager adds the quotes (`_ensure_quoted`), "*" when no etag is given.
    run = runs["registry"]
    etag = _result(run, "create sas device")["etag"]

    def if_match(method: str, device: str) -> list[str | None]:
        path = f"/devices/{quote(run.prefix + device, safe='')}"
        return [_header(e["request"], "if-match") for e in sdk_entries(run)
                if e["request"]["method"] == method and urlsplit(e["request"]["url"]).path == path]

    # create (none), update with the created etag, the stale update with the same etag
    assert if_match("PUT", "sas") == [None, f'"{etag}"', f'"{etag}"']
    assert if_match("DELETE", "ca") == ['"*"']


# -- the job manager ------------------------------------------------------------------------------------------------

def test_an_export_job_runs_to_its_end_and_a_second_is_cancelled(runs):
    run = runs["jobs"]
    created = _result(run, "create export job")
    assert created["job_id"] and created["type"] == "export" and created["exclude_keys_in_export"] is True
    assert created["job_id"] in [job["job_id"] for job in _result(run, "list import/export jobs")]
    polls = run.steps("poll export job")
    assert polls[-1]["ok"] and polls[-1]["result"]["status"] == "completed", _gaps(run)
    assert polls[-1]["result"]["job_id"] == created["job_id"]
    second = _result(run, "create a second export job")
    assert second["job_id"] != created["job_id"]
    assert run.step("cancel the second export job")["ok"]
    assert _result(run, "get the cancelled export job")["status"] == "cancelled"


def test_scheduled_jobs_update_twins_are_cancelled_and_queried(runs):
    run = runs["jobs"]
    twin_job, method_job = run.prefix + "twinjob", run.prefix + "methodjob"
    created = _result(run, "create scheduled twin update")
    assert (created["job_id"], created["type"]) == (twin_job, "scheduleUpdateTwin")
    polls = run.steps("poll scheduled twin update")
    assert polls[-1]["ok"] and polls[-1]["result"]["status"] == "completed", _gaps(run)
    statistics = polls[-1]["result"]["device_job_statistics"]
    assert (statistics["device_count"], statistics["succeeded_count"], statistics.get("failed_count", 0)) == (2, 2, 0)
    twins = [line["result"] for line in run.steps("get a job device's twin")]
    assert [twin["tags"] for twin in twins] == [{"pysdkjob": run.tag}] * 2
    assert _result(run, "get the scheduled method job")["status"] == "scheduled"  # its start time is an hour away
    assert _result(run, "cancel the scheduled method job")["status"] == "cancelled"
    completed = _result(run, "query completed twin updates")
    assert twin_job in [item["jobId"] for item in completed["items"]]
    cancelled = _result(run, "query cancelled method jobs")
    assert method_job in [item["jobId"] for item in cancelled["items"]]


# -- the configuration manager ----------------------------------------------------------------------------------------

def _configuration(run: SdkRun, step: str) -> dict:
    found = _result(run, step)
    assert isinstance(found, dict), _gaps(run)
    return found


def test_configuration_queries_are_tested_before_a_configuration_is_made(runs):
    # docs/sources/INVENTORY-2021-04-12.md §2.8: testQueries → {targetConditionError, customMetricQueryErrors{}}.
    run = runs["configurations"]
    good = _configuration(run, "test good queries")
    assert not good.get("target_condition_error")
    assert not any((good.get("custom_metric_query_errors") or {}).values())
    bad = _configuration(run, "test a malformed target condition")
    assert isinstance(bad.get("target_condition_error"), str) and bad["target_condition_error"].strip()


def test_a_configuration_is_created_and_read_with_its_metrics(runs):
    run = runs["configurations"]
    config_id, tag = run.prefix + "config", run.tag
    created = _configuration(run, "create configuration")
    assert created["id"] == config_id and created["etag"] and created["priority"] == 10
    assert created["target_condition"] == f"tags.pysdkcfg = '{tag}'"
    assert created["labels"] == {"run": tag, "kind": "first"}
    assert created["content"]["device_content"] == {"properties.desired.pysdkcfg": {"interval": 30}}
    assert created.get("created_time_utc")
    got = _configuration(run, "get configuration")
    assert (got["id"], got["etag"], got["priority"]) == (config_id, created["etag"], 10)
    # A custom metric is the number of rows its query returns: one device is the run's lead.
    # Source: docs/sources/iot-hub-automatic-device-management__2019-12-13_01a0b363.md
    assert got["metrics"]["queries"] == {"leads": created["metrics"]["queries"]["leads"]}
    assert got["metrics"]["results"] == {"leads": 1}
    # System metrics: the twins targeted (the two tagged devices) and those the configuration modified; their names
    # are not stated in any source here, so only the counts are read.
    system = got["system_metrics"]
    assert system["results"] and all(isinstance(v, int) for v in system["results"].values())
    assert 2 in system["results"].values()


def test_the_configuration_content_reaches_the_targeted_twins_only(runs):
    # "The target content defines the desired properties to be added or updated in the targeted device twins": the
    # configuration (priority 10) sets properties.desired.pysdkcfg on the devices its target condition selects, and on
    # no other. Source: docs/sources/iot-hub-automatic-device-management__2019-12-13_01a0b363.md
    run = runs["configurations"]
    lead, other = (line["result"] for line in run.steps("get a device's twin"))
    assert lead["device_id"] == run.prefix + "cfg1" and other["device_id"] == run.prefix + "cfg3", _gaps(run)
    assert _desired(lead).get("pysdkcfg") == {"interval": 30}, _gaps(run)
    assert "pysdkcfg" not in _desired(other) and "pysdkother" not in _desired(other)


def test_a_configuration_update_is_guarded_by_its_etag(runs):
    run = runs["configurations"]
    created = _configuration(run, "create configuration")
    updated = _configuration(run, "update configuration")
    assert updated["priority"] == 20 and updated["labels"]["updated"] == "yes"
    assert updated["etag"] not in (None, created["etag"])
    stale = run.step("update configuration with a stale etag")
    assert (stale["status"], stale["code"]) == (412, "PreconditionFailed"), _gaps(run)
    after = _configuration(run, "get configuration after the updates")
    assert (after["priority"], after["etag"]) == (20, updated["etag"])  # the stale update changed nothing
    assert after["content"] == created["content"] and after["id"] == created["id"]


def test_configurations_are_listed_applied_on_edge_and_deleted(runs):
    run = runs["configurations"]
    mine = {run.prefix + "config", run.prefix + "second"}
    assert {c["id"] for c in _result(run, "list configurations")} >= mine
    assert len(_result(run, "list the top configuration")) == 1  # top=1 of two
    assert _result(run, "apply configuration content on the edge device") is None  # 204, no body
    stale = run.step("delete configuration with a stale etag")
    assert (stale["status"], stale["code"]) == (412, "PreconditionFailed"), _gaps(run)
    assert run.step("delete configuration")["ok"] and run.step("delete the second configuration")["ok"]
    gone = run.step("get a deleted configuration")
    assert (gone["status"], gone["code"]) == (404, "ConfigurationNotFound"), _gaps(run)
    assert not mine & {c["id"] for c in _result(run, "list configurations after the deletes")}


def test_the_configuration_manager_sends_the_etag_as_given_and_a_bare_star_without_one(runs):
    # docs/sources/SDKS.md: the configuration manager sends the etag as given and bare `*` on a delete without one.
    run = runs["configurations"]
    got = _configuration(run, "get configuration")
    updated = _configuration(run, "update configuration")

    def if_match(method: str, name: str) -> list[str | None]:
        path = f"/configurations/{quote(run.prefix + name, safe='')}"
        return [_header(e["request"], "if-match") for e in sdk_entries(run)
                if e["request"]["method"] == method and urlsplit(e["request"]["url"]).path == path]

    assert if_match("PUT", "config") == [None, f'"{got["etag"]}"', f'"{got["etag"]}"']  # create, update, stale
    assert if_match("DELETE", "config") == [f'"{got["etag"]}"', f'"{updated["etag"]}"']
    assert if_match("DELETE", "second") == ["*"]
    edge = [e for e in sdk_entries(run) if urlsplit(e["request"]["url"]).path.endswith("/applyConfigurationContent")]
    assert len(edge) == 1 and edge[0]["response"]["status"] == 204
    sent = json.loads(edge[0]["request"]["postData"]["text"])
    assert sorted(sent["modulesContent"]) == ["$edgeAgent", "$edgeHub"]


# -- the digital twin client -------------------------------------------------------------------------------------------

def test_the_digital_twin_shows_the_model_the_reported_state_and_a_component(runs):
    # docs/sources/pnp-concepts-digital-twin__2020-07-17_00e046fd.md: $dtId, $metadata.$model, root properties, a
    # component as an object with its own $metadata (the device twin's {"__t": "c"} marker is not shown).
    run = runs["digital_twins"]
    device = run.prefix + "pnp"
    twin = _result(run, "get digital twin")
    assert twin["$dtId"] == device and twin["$metadata"]["$model"] == python_sdk.PNP_MODEL, _gaps(run)
    assert twin["serialNumber"] == python_sdk.PNP_REPORTED["serialNumber"]
    component = twin[python_sdk.PNP_COMPONENT]
    assert component["maxTempSinceLastReboot"] == 25.3 and "$metadata" in component and "__t" not in component
    raw = _result(run, "get digital twin, raw")
    assert raw["status"] == 200 and raw["output"] == twin and raw["headers"]["ETag"] == raw["etag"]
    assert raw["etag"]


def test_a_json_patch_under_the_etag_sets_desired_values_and_a_stale_etag_is_refused(runs):
    run = runs["digital_twins"]
    first = _result(run, "get digital twin, raw")
    assert _result(run, "update digital twin") is None  # 202: DigitalTwinClient returns nothing
    stale = run.step("update digital twin with a stale etag")
    assert (stale["status"], stale["code"]) == (412, "PreconditionFailed"), _gaps(run)
    after = _result(run, "get digital twin after the update")
    assert after["$metadata"]["targetTemperature"]["desiredValue"] == 42  # the stale patch's 7 did not land
    assert after[python_sdk.PNP_COMPONENT]["$metadata"]["targetTemperature"]["desiredValue"] == 21.5
    patched = _result(run, "update digital twin, raw")
    assert patched["status"] == 202 and patched["output"] is None
    assert patched["headers"]["ETag"] and patched["headers"]["ETag"] != first["etag"]
    location = urlsplit(patched["headers"]["Location"]).path
    assert location.endswith(f"/digitaltwins/{quote(run.prefix + 'pnp', safe='')}"), location
    read = _result(run, "get digital twin, raw, after the raw update")
    assert read["etag"] == patched["headers"]["ETag"]  # the ETag of the modified resource
    assert read["output"]["$metadata"]["targetTemperature"]["desiredValue"] == 43


def test_commands_return_what_the_simulated_device_answered_and_its_status(runs):
    run = runs["digital_twins"]
    component = python_sdk.PNP_COMPONENT
    assert _result(run, "invoke command") == {"answeredBy": "root", "command": "reboot", "received": {"delay": 2}}
    since = {"since": "2021-04-12T00:00:00Z"}
    assert _result(run, "invoke component command") == {"answeredBy": component, "command": "getMaxMinReport",
                                                         "received": since}
    root = _result(run, "invoke command, raw")
    assert root["headers"]["x-ms-command-statuscode"] == python_sdk.ROOT_COMMAND_STATUS and root["headers"][
        "x-ms-request-id"]
    assert root["output"]["answeredBy"] == "root"
    part = _result(run, "invoke component command, raw")
    assert part["headers"]["x-ms-command-statuscode"] == python_sdk.COMPONENT_COMMAND_STATUS
    assert part["output"] == {"answeredBy": component, "command": "getMaxMinReport", "received": since}
    missing = run.step("get the digital twin of a device that does not exist")
    assert (missing["status"], missing["code"]) == (404, "DeviceNotFound"), _gaps(run)
    offline = run.step("invoke command on a device not online")
    assert (offline["status"], offline["code"]) == (404, "DeviceNotOnline"), _gaps(run)


def test_the_digital_twin_client_sends_the_etag_as_given_and_the_command_timeouts(runs):
    run = runs["digital_twins"]
    etag = _result(run, "get digital twin, raw")["etag"]
    patches = [e["request"] for e in sdk_entries(run) if e["request"]["method"] == "PATCH"]
    assert [_header(r, "if-match") for r in patches] == [etag, etag, None]  # update, stale update, raw update
    assert json.loads(patches[0]["postData"]["text"])[0] == {"op": "add", "path": "/targetTemperature", "value": 42}
    commands = [urlsplit(e["request"]["url"]) for e in sdk_entries(run) if "/commands/" in e["request"]["url"]]
    assert [c.path.rsplit("/", 1)[-1] for c in commands] == ["reboot", "getMaxMinReport"] * 2 + ["reboot"]
    assert "connectTimeoutInSeconds=5" in commands[0].query and "responseTimeoutInSeconds=10" in commands[0].query
    assert "/components/thermostat1/" in commands[1].path and "connectTimeoutInSeconds" not in commands[2].query


# -- the HTTP runtime manager (cloud-to-device feedback) ---------------------------------------------------------------

def _field(record: dict, name: str):
    """A feedback record's field in either spelling the pages show (camelCase, 2026; PascalCase, 2018: C36)."""
    for key, value in record.items():
        if key.lower() == name.lower():
            return value
    return None


def test_the_feedback_plan_follows_each_ack_mode():
    # docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md: positive on Completed, negative on Dead
    # lettered (a reject), full on either, none never.
    assert python_sdk.feedback_expected("p-") == {"p-msg0": "Success", "p-msg1": "Rejected", "p-msg2": "Success",
                                                  "p-msg4": "Rejected"}
    assert python_sdk.pnp_answer("thermostat1*getMaxMinReport", {"a": 1}) == (
        python_sdk.COMPONENT_COMMAND_STATUS, {"answeredBy": "thermostat1", "command": "getMaxMinReport",
                                              "received": {"a": 1}})
    assert python_sdk.pnp_answer("reboot", None)[0] == python_sdk.ROOT_COMMAND_STATUS


def _batches(run: SdkRun) -> list[dict]:
    return [line["result"] for line in run.lines if line["step"].startswith("receive feedback batch")]


def test_feedback_records_say_how_each_acknowledged_message_ended(runs):
    run = runs["feedback"]
    first = _result(run, "receive feedback, raw")
    assert first["status"] == 200 and first["etag"], _gaps(run)
    assert (first["content_type"] or "").split(";")[0] == "application/vnd.microsoft.iothub.feedback.json"
    batches = [batch for batch in _batches(run) if batch and batch["status"] == 200]
    assert batches and batches[0]["body"] == first["body"]  # the abandoned batch came back
    records = [record for batch in batches for record in batch["body"]]
    found = {_field(r, "originalMessageId"): _field(r, "statusCode") for r in records}
    assert found == python_sdk.feedback_expected(run.prefix) and len(records) == len(found), records
    assert {_field(r, "deviceId") for r in records} == {run.prefix + "fb"}
    assert all(_field(r, "enqueuedTimeUtc") and _field(r, "deviceGenerationId") for r in records)


def test_each_feedback_batch_is_completed_and_the_queue_ends_empty(runs):
    run = runs["feedback"]
    assert run.step("abandon feedback")["ok"], _gaps(run)
    completes = [line for line in run.lines if line["step"].startswith("complete feedback batch")]
    assert completes and all(line["ok"] and line["result"] is None for line in completes), _gaps(run)
    assert _result(run, "receive feedback of an empty queue, raw")["status"] == 204
    assert _result(run, "receive feedback of an empty queue") is None  # 204 is one of the statuses the SDK takes
    # The lock tokens went where the swagger puts them: abandon POSTs …/{lockToken}/abandon, complete DELETEs it.
    locks = [lock_of(batch["etag"]) for batch in [_result(run, "receive feedback, raw")] + _batches(run)
             if batch["status"] == 200]
    paths = [(e["request"]["method"], unquote(urlsplit(e["request"]["url"]).path)) for e in sdk_entries(run)
             if e["request"]["method"] != "GET"]
    assert paths == [("POST", f"/messages/serviceBound/feedback/{locks[0]}/abandon")] + [
        ("DELETE", f"/messages/serviceBound/feedback/{lock}") for lock in locks[1:] + locks[:1]]
    lost = run.step("complete the abandoned lock")
    assert (lost["status"], lost["code"]) == (412, "DeviceMessageLockLost"), _gaps(run)


# -- traffic and secrets ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", python_sdk.DRIVERS)
def test_check_traffic_requests_raises_nothing_on_the_sdks_exchanges(runs, name, tmp_path):
    run = runs[name]
    har = json.loads(run.har.read_text(encoding="utf-8"))
    har["log"]["entries"] = sdk_entries(run)  # the harness's own setup requests are not the SDK's
    assert len(har["log"]["entries"]) >= len(run.lines) - 1
    mine = tmp_path / f"{name}.har"
    mine.write_text(json.dumps(har), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "check-traffic", "--requests", str(mine),
                           "--bundle", str(tmp_path / "bundle")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    results = json.loads((tmp_path / "bundle" / "results.json").read_text(encoding="utf-8"))
    failing = sorted(f"{r['id']}: {r['detail'][:160]}" for r in results["requirements"] if r["status"] in ("fail", "error"))
    undocumented = sorted({f"{u['method']} {urlsplit(u['url']).path} ({u['why'][:120]})" for u in results["undocumented"]})
    assert done.returncode == 0 and not failing and not undocumented, (
        f"{done.stdout}{done.stderr[-800:]}\nfailing: {failing}\nundocumented: {undocumented}")


@pytest.mark.parametrize("name", python_sdk.DRIVERS)
def test_no_secret_reaches_the_recording_or_the_output(runs, name):
    run = runs[name]
    har = run.har.read_text(encoding="utf-8")
    assert run.secrets and all(run.secrets)
    for text in (har, run.stdout, run.stderr):
        for secret in run.secrets:
            assert secret not in text and quote(secret, safe="") not in text and json.dumps(secret)[1:-1] not in text
        assert not SIG.search(unquote(text))
    # The keys the driver made up reach the recording as base64 of zero bytes (recording.py), and its output by label.
    keys = re.findall(r'\\"(?:primaryKey|secondaryKey)\\": \\"([^"\\]*)\\"', har)
    assert keys and all(set(key.rstrip("=")) <= {"A"} for key in keys)
    assert not re.search(r'"(primary|secondary)_key": "(?!<)', run.stdout)
    calls = [line for line in run.lines if line["call"]]
    assert len(sdk_entries(run)) >= len(calls) >= 5  # the checks above read a recording of the run, not an empty file


# -- the committed recording ------------------------------------------------------------------------------------------

def _operations(entries: list[dict]) -> list[tuple[str, str, str | None]]:
    """(method, the spec's path template, api-version) of each exchange in order; a request sent again at once to the
    same URL (a job poll, whose count follows the clock) counts once. An exchange no spec documents keeps its path."""
    found: list[tuple[str, str, str | None]] = []
    last = None
    for entry in entries:
        request = RecordedRequest(entry["request"]["method"].upper(), entry["request"]["url"])
        if (request.method, request.url) == last:
            continue
        last = (request.method, request.url)
        match = match_request(request)
        found.append((request.method, match.path if match else f"undocumented {request.raw_path}", request.api_version))
    return found


@pytest.mark.parametrize("name", python_sdk.DRIVERS)
def test_the_committed_recording_makes_the_operations_a_fresh_run_makes(runs, name):
    # tests/recordings/sdk/ is regenerated by `python -m tests.python_sdk.record`: the SDK's exchanges only.
    run = runs[name]
    path = RECORDINGS / python_sdk.recording_name(name)
    committed = json.loads(path.read_text(encoding="utf-8"))["log"]
    assert "only the exchanges the SDK made" in committed["comment"]
    recorded = _operations(committed["entries"])
    assert recorded == _operations(sdk_entries(run)), f"{path.name} is stale: run python -m tests.python_sdk.record"
    assert len(recorded) >= 5 and all(not template.startswith("undocumented") for _, template, _ in recorded)
    assert {version for _, _, version in recorded} == {"2021-04-12"}
    assert all(python_sdk.USER_AGENT in (_header(e["request"], "user-agent") or "") for e in committed["entries"])
    assert all(_header(e["request"], "authorization") == "SharedAccessSignature <redacted>" for e in committed["entries"])
    text = path.read_text(encoding="utf-8")
    assert not SIG.search(unquote(text)) and not re.search(r"SharedAccessKey=[A-Za-z0-9+/]", text)


def test_a_recording_that_left_out_or_reordered_an_operation_differs():
    entries = json.loads((RECORDINGS / "python-jobs-2021-04-12.har").read_text(encoding="utf-8"))["log"]["entries"]
    whole = _operations(entries)
    assert _operations(entries + [entries[-1]]) == whole  # the same request again at once: a poll
    assert _operations(entries[1:]) != whole and _operations(entries[::-1]) != whole
    moved = json.loads(json.dumps(entries[0]))
    moved["request"]["url"] = moved["request"]["url"].replace("2021-04-12", "2016-02-03")
    assert _operations([moved] + entries[1:]) != whole


# -- the harness ------------------------------------------------------------------------------------------------

def test_a_driver_takes_only_a_plain_http_port_of_127_0_0_1():
    done = _driver("registry.py", {"IOTHUB_BASE_URL": "https://example.com"})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == "the base URL must be http://127.0.0.1:<port>, not 'https://example.com'"


def test_a_driver_whose_hub_does_not_answer_says_so_and_stops_at_the_first_call():
    done = _driver("jobs.py", {"IOTHUB_BASE_URL": f"http://127.0.0.1:{free_port()}"})  # nothing listens there
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 1
    assert [(line["step"], line["ok"], line["error"]) for line in lines] == [
        ("create job device", False, "ClientRequestError")]
    assert done.stdout.strip().splitlines()[-2:] == ["python jobs: the hub did not answer; stopping",
                                                     "python jobs: 0 of 1 steps as expected"]


def test_without_an_index_the_venv_build_is_one_clear_line(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("azure-iot-hub==2.7.0\n", encoding="utf-8")
    monkeypatch.setattr(python_sdk, "HERE", tmp_path)
    monkeypatch.setattr(python_sdk, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(python_sdk, "REQUIREMENTS", requirements)
    monkeypatch.setattr(python_sdk, "MARKER", tmp_path / ".venv" / "built")
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # as without network: nothing to install from
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    with pytest.raises(SdkUnavailable) as raised:
        python_sdk.install(timeout=120)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(
        "pip install -r tests/python_sdk/requirements.txt failed: the Python SDK tests (tests/python_sdk) need PyPI")
    assert "azure-iot-hub==2.7.0" in message
    assert not python_sdk.built()  # a later run tries again


def _driver(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    try:
        python = python_sdk.install()
    except SdkUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    base = {"PATH": "/usr/bin:/bin", "IOTHUB_CONNECTION_STRING": "HostName=h.azure-devices.net;SharedAccessKeyName=o;"
            "SharedAccessKey=a2V5", "SDK_PREFIX": "p-", "SDK_TAG": "t", "SDK_CONTAINER": "https://s/c",
            "SDK_PURGE_DEVICE": "p-purge", "SDK_ONLINE_MODULE": "m"}
    return subprocess.run([str(python), script], cwd=python_sdk.HERE, env={**base, **env}, capture_output=True,
                          text=True, timeout=60)


def _header(message: dict, name: str) -> str | None:
    return next((h["value"] for h in message["headers"] if h["name"].lower() == name), None)
