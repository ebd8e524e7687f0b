"""The project's specs and its reference agree: a vanilla `schemathesis run --checks all` of every spec against the
served reference finds nothing but the items listed here, each with the reason the spec cannot express it.

Bounded: a few examples per operation, a fixed seed, a time limit per spec. The command runs in a schemathesis worker
(tests/support/schemathesis_worker.py: its own entry point, one interpreter for a pytest worker's runs). By hand:
    iothub-conformance serve --port P --rp-delay 0
    schemathesis run specs/2016-02-03/device-identities.yaml --url http://127.0.0.1:P --checks all \\
        -H "Authorization: <a SAS token of the printed connection string>" --max-examples 20
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from iothub_conformance.http import sas
from tests.support.line_worker import LineWorker
from tests.support.served import rp_flags, serving
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

SPECS = sorted(str(p.relative_to(ROOT / "specs")) for p in (ROOT / "specs").glob("*/*.yaml") if p.name != "common.yaml")
EXAMPLES, SEED, LIMIT = 3, 1, 120  # three: the stateful phase is most of a run, and grows with it


@dataclass(frozen=True)
class Known:
    spec: str  # the spec file, as in SPECS
    code: str  # schemathesis' failure code (ST201 …)
    status: int  # the reference's answer
    message: str  # a regex the answer's body matches
    reason: str  # why the spec cannot say it


KNOWN = [
    Known("2016-02-03/device-identities.yaml", "ST202", 400, r"body deviceId .* differs from the URI",
          "A create body names its device (create-a-new-device-identity.md: deviceId \"{deviceId}\", the URI's); a body "
          "naming another is refused. OpenAPI 3.0 cannot relate a body member to a path parameter."),
    Known("2016-02-03/device-identities.yaml", "ST202", 400, r"deviceId .* is not 1-128 ASCII",
          "A deviceId may hold '%' (create page's character list). A stateful link copies a listed id into a path "
          "without encoding its '%', so the request names another, invalid id: the client's encoding, not the spec."),
    Known("2016-02-03/device-identities.yaml", "ST202", 412, r"Precondition failed",
          "A well-formed If-Match that is not the device's current etag (or * on a missing device) gets 412 (RFC 7232, "
          "OBSERVED §1, §3). Whether a tag is current is state, not syntax: no schema can say which tags match."),
    Known("2016-02-03/device-messaging.yaml", "ST202", 412, r"DeviceMessageLockLost",
          "Complete, reject and abandon name a message lock in the path; a lock that is not held (never issued, "
          "expired or settled) gets 412 DeviceMessageLockLost (INVENTORY §6). Which locks are held is state."),
    Known("2016-02-03/jobs.yaml", "ST202", 400, r"request body is not valid JSON",
          "GET /importdevices carries a JSON body on the 2016 page; OpenAPI 3.0 gives a GET body no meaning, so the "
          "spec describes it in words and generated requests go without it."),
    Known("2016-02-03/jobs.yaml", "ST301", 200, r'"status":"cancelled"',
          "DELETE /jobs/{jobId} cancels a job (cancel-import-export-job.md); the job is still read afterwards, "
          "status cancelled. The use-after-free check takes any DELETE for a removal."),
    Known("2016-02-03/resource-provider.yaml", "ST202", 412,
          r"does not meet the request's condition|does not match If-Match",
          "The bk_common If-Match / If-None-Match tables answer 412 for a stale If-Match, If-Match on a missing hub, or "
          "If-None-Match * on an existing one: state, not syntax."),
    Known("2016-11-14/device-twins.yaml", "ST202", 400, r"has the key .*: a key is 1 byte to 1 KB",
          "Twin keys hold no control character, '.', '$' or space and are at most 1 KB (device twins devguide). That "
          "is a rule on property names, which OpenAPI 3.0 schemas cannot state (no propertyNames)."),
    Known("2016-11-14/device-twins.yaml", "ST202", 400, r"nests more than 10 levels|would be \d+ bytes",
          "Twins nest at most 10 levels and hold 8 KB of tags, 32 KB of desired properties (device twins devguide): "
          "depth and encoded size are not JSON Schema keywords."),
    Known("2016-02-03/device-identities.yaml", "ST201", 200, r'"deviceId"',
          "The reference takes null for a member left out and ignores members it does not keep (a client may send "
          "back the device it read). The spec says what a client sends, which is what the suite generates for every "
          "target; no page says a hub refuses more, so the spec stays as the create page's table and a lenient hub "
          "is not held to refuse."),
    Known("2016-02-03/jobs.yaml", "ST201", 200, r'"jobId"',
          "As for devices: null for a member left out of a job request (excludeKeysInExport null takes the profile's "
          "default). The spec keeps the page's types for what the suite sends; a hub that accepts more is lenient, "
          "not wrong."),
    Known("2016-11-14/jobs.yaml", "ST202", 400, r"jobId differs from the URI",
          "The body's jobId, when given, is the URI's (JobRequest.jobId); OpenAPI 3.0 cannot relate a body member to "
          "a path parameter."),
    # api-version 2021-04-12 (docs/sources/service-2021-04-12.json, docs/sources/INVENTORY-2021-04-12.md).
    Known("2021-04-12/bulk-registry.yaml", "ST205", 405, r"MethodNotAllowed;OPTIONS is not allowed here",
          "/devices is served by two spec files: its GET (Devices_GetDevices) is in devices.yaml, its POST "
          "(BulkRegistry_UpdateRegistry) here, so the 405's Allow names both. A spec file cannot declare another's "
          "methods without holding their operations (tests/test_specs.py: each file holds exactly its operations)."),
    Known("2021-04-12/bulk-registry.yaml", "ST202", 400,
          r'"isSuccessful":false,"errors":\[\{"deviceId":("[^"]*"|null),"errorCode":"(DeviceAlreadyExists|DeviceNotFound|'
          r'PreconditionFailed)"',
          "Each item's importMode has its rule on the registry as it is (bulk identity page: create of an existing id, "
          "update or delete of a missing one, an eTag that is not the device's): a partial failure, 400 with its "
          "BulkRegistryOperationResult (swagger). Which ids exist and which eTags are current is state, not syntax."),
    Known("2021-04-12/devices.yaml", "ST204", 400, r"IotHubFormatError;the request body is not valid JSON",
          "POST /devices is the bulk registry operation (BulkRegistry_UpdateRegistry, in bulk-registry.yaml): /devices "
          "is served by two spec files, so a POST without a body is a malformed bulk request (400), not an undeclared "
          "method."),
    Known("2021-04-12/devices.yaml", "ST202", 400, r"body deviceId .* differs from the URI",
          "The body's deviceId is the URI's (Devices_CreateOrUpdateIdentity: the id in the path names the device); a "
          "body naming another is refused. OpenAPI 3.0 cannot relate a body member to a path parameter."),
    Known("2021-04-12/devices.yaml", "ST202", 400, r"deviceId .* is not 1-128 ASCII",
          "As for 2016: a deviceId may hold '%' (INVENTORY-2021-04-12.md §9). The generated id's '%' goes into the path "
          "unencoded, so the hub reads another, non-ASCII id: the client's encoding, not the spec."),
    Known("2021-04-12/devices.yaml", "ST202", 412, r"PreconditionFailed;Precondition failed",
          "A well-formed If-Match that is not the device's current etag gets 412 PreconditionFailed "
          "(INVENTORY-2021-04-12.md §6). Whether a tag is current is state, not syntax."),
    Known("2021-04-12/devices.yaml", "ST201", 200, r"^Invalid component: in body - [\w>\s-]+: Incorrect type",
          "As for 2016: the reference takes null for a member left out (capabilities.iotEdge null: no capability). "
          "The spec says what a client sends, which is what the suite generates for every target; no source says a "
          "hub refuses a null, so a lenient hub is not held to refuse it."),
    Known("2021-04-12/cloud-to-device.yaml", "ST202", 412, r"DeviceMessageLockLost",
          "Completing or abandoning a feedback batch names its lock in the path; a lock that is not held (never issued, "
          "expired or settled) gets 412 DeviceMessageLockLost, as a device's message lock does (INVENTORY-2021-04-12.md "
          "§2.11, §3.3; profile rule c2d_lock_lost). Which locks are held is state."),
    Known("2021-04-12/configurations.yaml", "ST201", 200, r"^Invalid component: in body - \w+: Incorrect type",
          "As for the other 2021 bodies: null for a member left out (customMetricQueries null: no metric queries to "
          "test). The spec keeps the swagger's types; no source says the hub refuses a null."),
    Known("2021-04-12/configurations.yaml", "ST202", 400, r"ArgumentInvalid;the body's id differs from the URI's",
          "A configuration body's id, when given, is the URI's (Configuration.id); OpenAPI 3.0 cannot relate a body "
          "member to a path parameter."),
    Known("2021-04-12/configurations.yaml", "ST202", 412, r"PreconditionFailed;Precondition failed",
          "A well-formed If-Match that is not the configuration's current etag gets 412 (RFC 7232; the swagger's "
          "If-Match on update and delete). Whether a tag is current is state, not syntax."),
    Known("2021-04-12/digital-twins.yaml", "ST202", 400, r"responseTimeoutInSeconds must be 5 to 300",
          "The swagger bounds neither timeout; the Node.js service SDK documents [5; 300] for responseTimeoutInSeconds "
          "(INVENTORY-2021-04-12.md §2.12, §9; profile rule pnp_command_timeout_bounds). The spec takes the swagger's "
          "int32; the served reference follows profile iothub and refuses 0 to 4 s."),
    Known("2021-04-12/digital-twins.yaml", "ST202", 400,
          r"ArgumentInvalid;'[^']*' exists within the device twin and is not digital twin conformant",
          "A patch's path names a property or component, whose names are 1-64 characters of [A-Za-z0-9_], neither "
          "starting with a digit or underscore nor ending with one (pnp-howto-manage-digital-twin, INVENTORY-2021-04-12.md "
          "§2.12); a JSON Patch path is a JSON pointer of such names, which one schema pattern over the whole path "
          "cannot say per segment with the $metadata marker rule."),
    Known("2021-04-12/direct-methods.yaml", "ST202", 400, r"responseTimeoutInSeconds must be 5 to 300",
          "The least responseTimeoutInSeconds is disputed (INVENTORY-2021-04-12.md §9, §10 C16; profile rule "
          "method_timeout_bounds): the 2018 page names none, the current page and the .NET docs 5 s. The spec takes "
          "the wider form; the served reference follows profile iothub and refuses 0 to 4 s."),
    Known("2021-04-12/import-export-jobs.yaml", "ST201", 200, r"^Invalid component: in body - \w+: Incorrect type",
          "As for 2016: null for a member left out of a job request (configurationsBlobName null takes "
          "configurations.txt, excludeKeysInExport null false: the swagger's defaults). The spec keeps the swagger's "
          "types for what the suite sends; a hub that accepts more is lenient, not wrong."),
    Known("2021-04-12/import-export-jobs.yaml", "ST301", 200, r'"status":"(cancelled|completed|failed)"',
          "DELETE /jobs/{id} cancels a job (Jobs_CancelImportExportJob); the job is still read afterwards, status "
          "cancelled, or the status it ended with when it had ended. The use-after-free check takes any DELETE for a "
          "removal."),
    Known("2021-04-12/modules.yaml", "ST202", 400, r"body (moduleId|deviceId) .* differs from the URI",
          "The body's moduleId and deviceId are the URI's (Modules_CreateOrUpdateIdentity: \"The moduleId and "
          "generationId cannot be updated by the user\"). OpenAPI 3.0 cannot relate a body member to a path parameter."),
    Known("2021-04-12/query.yaml", "ST202", 400, r"ArgumentInvalid;the query is not in the IoT Hub query language",
          "QuerySpecification.query is a string in the IoT Hub query language (SELECT … FROM devices … WHERE …, "
          "iot-hub-devguide-query-language): a grammar, which no JSON Schema keyword states, so generated strings "
          "are mostly not queries."),
    Known("2021-04-12/query.yaml", "ST204", 200, r'^`\{"deviceId":"query",',
          "/devices/query is also /devices/{id} with the id \"query\", a valid device id (INVENTORY-2021-04-12.md §9): "
          "its PUT is Devices_CreateOrUpdateIdentity (devices.yaml). A path served by two spec files: the method this "
          "file leaves out is the other's, not undeclared."),
    Known("2021-04-12/scheduled-jobs.yaml", "ST202", 400, r"the continuation token is not one this hub gave",
          "A continuation token (x-ms-continuation or continuationToken) is one the hub gave with the page before "
          "(QueryResult.continuationToken): which strings a hub gave is state, not syntax."),
    Known("2021-04-12/scheduled-jobs.yaml", "ST202", 400, r"the body's jobId differs from the URI's",
          "The body's jobId, when given, is the URI's (JobRequest.jobId); OpenAPI 3.0 cannot relate a body member to "
          "a path parameter."),
    Known("2021-04-12/twins.yaml", "ST202", 400, r"the body's (deviceId|moduleId) differs from the URI's",
          "A twin body's deviceId and moduleId, when given, are the URI's (the SDKs send back the whole twin they "
          "read); a body naming another is refused. OpenAPI 3.0 cannot relate a body member to a path parameter."),
    Known("2021-04-12/twins.yaml", "ST202", 400, r"(deviceId|moduleId) .* is not 1-128 ASCII",
          "As for 2016: a device or module id may hold '%' (INVENTORY-2021-04-12.md §9). The generated id's '%' goes into "
          "the path unencoded (e.g. /twins/%EF%BF%BD), so the hub reads another, non-ASCII id: the client's encoding, not "
          "the spec."),
]


@dataclass(frozen=True)
class Finding:
    spec: str
    operation: str
    code: str
    title: str
    status: int | None
    body: str

    def known(self) -> Known | None:
        for item in KNOWN:
            if (item.spec, item.code, item.status) == (self.spec, self.code, self.status) and \
                    re.search(item.message, self.body):
                return item
        return None


HEADER = re.compile(r"^_*\s?((?:[A-Z]+ /\S*)|Stateful tests)\s?_*$")
ENTRY = re.compile(r"^- (ST\d+) (.+)$")
ANSWER = re.compile(r"^\[(\d{3})\] ")


def findings(spec: str, output: str) -> list[Finding]:
    """Every failure schemathesis printed: its operation, code, title, the status answered and the body's first line."""
    lines = output.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if "FAILURES" in line and line.startswith("="))
    except StopIteration:
        return []
    found: list[Finding] = []
    operation, entry, component = "", None, ""
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.startswith("=") and ("SUMMARY" in line or "WARNINGS" in line or "ERRORS" in line):
            break
        if header := HEADER.match(line):
            operation = header.group(1)
        elif match := ENTRY.match(line):
            entry, component = (match.group(1), match.group(2)), ""
            found.append(Finding(spec, operation, *entry, None, ""))
        elif entry and line.strip().startswith("Invalid component:"):
            component = line.strip() + " "
        elif entry and (answer := ANSWER.match(line)) and found[-1].status is None:
            body = next((text.strip() for text in lines[i + 1:i + 4] if text.strip()), "")
            found[-1] = Finding(spec, operation, *entry, int(answer.group(1)), component + body)
    return found


@contextmanager
def served():
    """`iothub-conformance serve` on a free port: its URL, a SAS token of its owner policy and its bearer token."""
    with serving("--rp-delay", "0") as hub:
        cs = sas.parse_connection_string(hub.connection_string)
        yield hub.url, sas.build_token(cs.host_name, cs.key, cs.key_name, ttl=3600), rp_flags(hub.announced)["--rp-token"]


@pytest.fixture(scope="module")
def schemathesis_worker():
    worker = LineWorker("tests.support.schemathesis_worker")
    yield worker
    worker.close()


def vanilla(worker: LineWorker, spec: str, url: str, authorization: str, workdir: Path) -> tuple[int, str]:
    args = ["run", str(ROOT / "specs" / spec), "--url", url, "--checks", "all", "-H", f"Authorization: {authorization}",
            "--max-examples", str(EXAMPLES), "--seed", str(SEED), "-w", "1", "--no-color"]
    output = workdir / "schemathesis.out"
    answer = worker.ask({"args": args, "cwd": str(workdir), "output": str(output)}, timeout=LIMIT)
    text = output.read_text(errors="replace") if output.is_file() else ""
    return (-1, f"schemathesis did not end within {LIMIT} s\n{text}") if answer is None else (answer["code"], text)


@pytest.mark.parametrize("spec", SPECS)
def test_the_spec_agrees_with_the_reference_but_for_the_listed_items(schemathesis_worker, tmp_path, spec):
    # A reference of its own for each spec: what one run creates cannot change what another finds.
    with served() as (url, token, rp_token):
        authorization = f"Bearer {rp_token}" if "resource-provider" in spec else token
        code, output = vanilla(schemathesis_worker, spec, url, authorization, tmp_path)
    assert code in (0, 1), f"schemathesis on {spec} ended with {code}:\n{output[-3000:]}"
    found = findings(spec, output)
    assert code == 0 or found, f"{spec}: failed, but no failure could be read from its output:\n{output[-3000:]}"
    assert "ERRORS" not in output.replace("0 errors", ""), f"schemathesis met errors on {spec}:\n{output[-3000:]}"
    unexplained = [f"{f.spec} {f.operation}: {f.code} {f.title} → {f.status} {f.body[:300]}"
                   for f in found if f.known() is None]
    assert not unexplained, "spec and reference disagree:\n" + "\n".join(unexplained)


def test_the_reader_finds_each_failure_of_an_output():
    # The reader is what the agreement rests on: a failure it missed would pass unseen.
    output = "\n".join([
        "=================================== FAILURES ===================================",
        "___________________________ PUT /devices/{deviceId} ____________________________",
        "1. Test Case ID: abc",
        "- ST202 Schema-valid request rejected",
        "    Valid data should have been accepted",
        "[400] Bad Request:",
        "",
        "    `{\"Message\":\"ErrorCode:ArgumentInvalid;body deviceId '0' differs from the URI's 'a'\"}`",
        " DELETE /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName} ",
        "- ST201 Schema-violating request accepted",
        "[204] No Content:",
        "    <EMPTY>",
        "=================================== SUMMARY ====================================",
        "- ST999 not a failure: after the summary",
    ])
    found = findings("2016-02-03/device-identities.yaml", output)
    assert [(f.operation, f.code, f.status) for f in found] == [
        ("PUT /devices/{deviceId}", "ST202", 400),
        ("DELETE /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}", "ST201", 204)]
    assert found[0].known() is KNOWN[0] and found[1].known() is None


def test_every_known_item_names_its_reason():
    for item in KNOWN:
        assert item.spec in SPECS and re.fullmatch(r"ST\d{3}", item.code) and len(item.reason) > 40
