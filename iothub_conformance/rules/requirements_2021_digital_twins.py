"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
IoT Plug and Play digital twins and their commands."""

from __future__ import annotations

from .operation_groups import DIGITAL_TWINS_2021
from .requirement import V2021_RELEASE, Requirement

_CONCEPTS = "docs/sources/pnp-concepts-digital-twin__2020-07-17_00e046fd.md"
_HOWTO = "docs/sources/pnp-howto-manage-digital-twin__2020-12-17_354e0e7a.md"
_DM = "docs/sources/iot-hub-devguide-direct-methods__2018-07-17_1e2689b4.md"
_ERR = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
_SW = "docs/sources/service-2021-04-12.json"
_INV = "docs/sources/INVENTORY-2021-04-12.md"
_GET = ("DigitalTwin_GetDigitalTwin",)
_PATCH = ("DigitalTwin_UpdateDigitalTwin",)
_ROOT_COMMAND = ("DigitalTwin_InvokeRootLevelCommand",)
_COMPONENT_COMMAND = ("DigitalTwin_InvokeComponentCommand",)
_COMMANDS = _ROOT_COMMAND + _COMPONENT_COMMAND


def _r(rid: str, statement: str, source: str, operations: tuple[str, ...], rule: str | None = None,
       level: str = "MUST") -> Requirement:
    return Requirement(rid, level, statement, source, operations=operations, since=V2021_RELEASE, profile_rule=rule)


REQUIREMENTS: list[Requirement] = [
    # -- the digital twin view -------------------------------------------------------------------------------------
    _r("PNP-GET-001",
       "GET /digitaltwins/{id} of a Plug and Play device answers 200 with the digital twin: $dtId is the device id and "
       "$metadata.$model the model id the device announced.",
       f"{_SW} (DigitalTwin_GetDigitalTwin); {_CONCEPTS} (Digital twin JSON format); {_INV} §2.12", _GET),
    _r("PNP-GET-002",
       "A digital-twin request (get, update or command) for a device that is not registered answers 404 "
       "DeviceNotFound.",
       f"{_ERR} (404001 DeviceNotFound); {_INV} §7", DIGITAL_TWINS_2021),
    _r("PNP-PROP-001",
       "A read-only property the device reports at the root of its twin is a root property of the digital twin with "
       "the reported value, and $metadata.{property}.lastUpdateTime stamps it (UTC, ISO 8601).",
       f"{_CONCEPTS} (Digital twin JSON format: {{propertyName}}, $metadata.{{propertyName}}.lastUpdateTime; "
       "Properties)", _GET),
    _r("PNP-COMPONENT-001",
       "A component (marked {\"__t\": \"c\"} in the device twin) is an object of the digital twin holding its "
       "properties' values and its own $metadata, without the __t marker.",
       f"{_CONCEPTS} (Digital twin JSON format: {{componentName}}, {{componentName}}.$metadata; Components)", _GET),
    _r("PNP-WRITABLE-001",
       "A writable property the device acknowledged ({value, ac, av, ad} in the reported section) shows the reported "
       "value, and its $metadata entry holds desiredValue, desiredVersion, ackVersion, ackCode, ackDescription and "
       "lastUpdateTime as the device twin says them.",
       f"{_CONCEPTS} (Digital twin JSON format; Writable Property)", _GET),
    # -- updates ---------------------------------------------------------------------------------------------------
    _r("PNP-PATCH-001",
       "A JSON Patch add or replace of a root or component property answers 202 with a Location naming the digital "
       "twin, sets that desired property in the device twin (a component's inside its {\"__t\": \"c\"} object) and "
       "shows it as the property's desiredValue, with the desired $version as desiredVersion.",
       f"{_SW} (DigitalTwin_UpdateDigitalTwin); {_INV} §1.2 (its ETag and Location); "
       f"{_HOWTO} (Update a digital twin; Add, replace, or remove a property); {_INV} §10 (C28)", _PATCH),
    _r("PNP-PATCH-002",
       "A JSON Patch remove of a property clears its desired value: the device twin's desired section no longer holds "
       "it and the digital twin shows no desiredValue for it.",
       f"{_HOWTO} (Add, replace, or remove a property: removing a property clears the desired value)", _PATCH),
    _r("PNP-PATCH-003",
       "A component add or replace without the empty $metadata marker is refused with 400 and changes nothing; with "
       "it, it sets the given properties' desired values and clears those of the component's other writable "
       "properties.",
       f"{_HOWTO} (Add, replace, or remove a component; Troubleshoot update digital twin API errors)", _PATCH),
    _r("PNP-PATCH-004",
       "A patch naming a property that is not a DTDL name, or a value holding an array or nested more than five "
       "levels deep, is refused with 400 and changes nothing.",
       f"{_HOWTO} (Rules for setting the desired value of a digital twin property: Name, Property value); {_INV} §9; "
       f"{_INV} §10 (C23)", _PATCH),
    _r("PNP-COND-001",
       "A patch whose If-Match is the ETag the digital twin last answered, sent back as given, is applied; one whose "
       "If-Match names an earlier ETag answers 412 and changes nothing.",
       f"{_SW} (DigitalTwin_UpdateDigitalTwin: If-Match); {_INV} §6 (the digital-twin client sends the etag as "
       f"given); {_INV} §10 (C4); docs/sources/SDKS.md", _PATCH),
    _r("PNP-ETAG-001",
       "GET and PATCH carry an ETag header that is an RFC 7232 entity-tag (weak or strong as the profile says), stays "
       "the same across reads, changes with every applied patch, and is, after a patch, what the next GET answers.",
       f"{_SW} (DigitalTwin_GetDigitalTwin, DigitalTwin_UpdateDigitalTwin: ETag, Weak Etag); {_INV} §1.2; "
       f"{_INV} §6; {_INV} §10 (C6); RFC 7232 §2.3", _GET + _PATCH, rule="digital_twin_etag"),
    # -- commands --------------------------------------------------------------------------------------------------
    _r("PNP-CMD-001",
       "A root-level command reaches the online device as the method of the command's name with the request body as "
       "payload, and answers 200 with the device's payload as the body, its status in x-ms-command-statuscode and an "
       "x-ms-request-id.",
       f"{_SW} (DigitalTwin_InvokeRootLevelCommand); {_INV} §1.2 (its x-ms-command-statuscode and x-ms-request-id); "
       f"{_INV} §2.12; {_DM} (Both status and body are provided by the device)", _ROOT_COMMAND),
    _r("PNP-CMD-002",
       "A component command reaches the device as the method {componentName}*{commandName} and answers as a "
       "root-level command does.",
       f"{_INV} §2.12 (component commands arrive as {{componentName}}*{{commandName}}); {_SW} "
       "(DigitalTwin_InvokeComponentCommand)", _COMPONENT_COMMAND),
    _r("PNP-CMD-003",
       "A command for a registered device that is not online answers 404 with the code the profile gives (iothub: "
       "DeviceNotOnline).",
       f"{_DM} (Response: a 404 error for devices not currently connected); {_ERR} (404103 DeviceNotOnline); "
       f"{_INV} §10 (C37)", _COMMANDS, rule="method_offline"),
    _r("PNP-CMD-004",
       "A command whose responseTimeoutInSeconds is outside the profile's bounds is refused with 400 and the device "
       "is not called.",
       f"{_INV} §2.12 (the Node.js service SDK: within [5; 300]); {_INV} §9; {_SW} (responseTimeoutInSeconds: int32, "
       "no bounds)", _COMMANDS, rule="pnp_command_timeout_bounds"),
    _r("PNP-CMD-005",
       "A device that does not answer a command within responseTimeoutInSeconds makes the call answer 504 "
       "GatewayTimeout.",
       f"{_SW} (responseTimeoutInSeconds: the interval the command waits for the answer); {_DM} (Method lifecycle: "
       f"succeed or fail after the timeout period); {_ERR} (504101 GatewayTimeout)", _COMMANDS),
]
