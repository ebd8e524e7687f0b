"""The hand-written 2021-04-12 specs cross-checked against the service's swagger (docs/sources/service-2021-04-12.json),
which stays a source and is never loaded in place of them: each of our operations is the swagger's (operationId,
method, path shape), declares no success status the swagger lacks unless it names the profile rule or the
disagreement (INVENTORY-2021-04-12.md §10) for it, and takes every query and header parameter the swagger declares;
each swagger operation is in our specs. Also tests/swagger_coverage.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from iothub_conformance.paths import specs_dir
from iothub_conformance.rules.operation_groups import DEVICE_2021, SERVICE_2021
from iothub_conformance.rules.profiles import PROFILES
from iothub_conformance.rules.sources import REPOSITORY, SOURCES
from tests import swagger_coverage
from tests.swagger_coverage import VERSION, SwaggerOperation, read_swagger, spec_locations, swagger_operations

METHODS = swagger_coverage.METHODS
SWAGGER = {op.operation_id: op for op in swagger_operations(read_swagger())}
_RULE = re.compile(r"profile rules? `?([a-z][a-z0-9_]*)`?")
_DISAGREEMENT = re.compile(r"\bC(\d{1,2})\b")


@cache
def profile_rules() -> frozenset[str]:
    return frozenset(name for profile in PROFILES.values() for name in profile.rules)


@cache
def disagreements() -> frozenset[str]:
    """The rows of INVENTORY-2021-04-12.md §10: "C1" … "C40"."""
    text = (REPOSITORY / SOURCES / "INVENTORY-2021-04-12.md").read_text(encoding="utf-8")
    section = text.split("## 10.", 1)[1].split("\n## ", 1)[0]
    return frozenset(re.findall(r"^\| (C\d+) \|", section, re.M))


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def _resolved(node: dict, spec: Path) -> dict:
    """node with its $ref followed: `#/…` within spec, `common.yaml#/…` beside it (one level, as the specs use)."""
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not ref:
        return node
    file, _, pointer = ref.partition("#")
    target: object = _load(spec.parent / file if file else spec)
    for part in pointer.strip("/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]  # type: ignore[index]
    return _resolved(target, spec.parent / file if file else spec)  # type: ignore[arg-type]


def shape(path: str) -> str:
    """A path with its parameter names left out: /twins/{id}/methods and /twins/{deviceId}/methods are one shape."""
    return re.sub(r"\{[^}/]+\}", "{}", path)


def our_operations(spec: Path) -> list[tuple[str, str, str, dict, dict]]:
    """(operationId, method, path, operation, path item) of every operation of one spec file."""
    return [(operation.get("operationId", f"{method} {path}"), method, path, operation, item)
            for path, item in (_load(spec).get("paths") or {}).items()
            for method, operation in item.items() if method in METHODS]


def _justified(text: str) -> tuple[bool, list[str]]:
    """Whether text names, for an extra status, a profile rule that exists or a disagreement of §10; and the rules it
    names that no profile has."""
    named = _RULE.findall(text)
    unknown = [name for name in named if name not in profile_rules()]
    ok = any(name in profile_rules() for name in named) or any(
        f"C{number}" in disagreements() for number in _DISAGREEMENT.findall(text))
    return ok, unknown


def problems(spec: Path, swagger: dict[str, SwaggerOperation] = SWAGGER) -> dict[str, list[str]]:
    """operationId → how it departs from the swagger (empty: it agrees)."""
    found: dict[str, list[str]] = {}
    for operation_id, method, path, operation, item in our_operations(spec):
        wrong = found.setdefault(operation_id, [])
        theirs = swagger.get(operation_id)
        if theirs is None:
            wrong.append("no operation of the swagger has this operationId")
            continue
        if method != theirs.method:
            wrong.append(f"{method.upper()} here, {theirs.method.upper()} in the swagger")
        if shape(path) != shape(theirs.path):
            wrong.append(f"path {path} here, {theirs.path} in the swagger")
        responses = operation.get("responses") or {}
        ours = {int(s) for s in map(str, responses) if s.isdigit() and s.startswith("2")}
        for status in sorted(ours - theirs.success):
            text = " ".join(str(part) for part in (operation.get("x-source", ""), operation.get("description", ""),
                                                   _resolved(responses.get(str(status)) or responses.get(status) or {},
                                                             spec).get("description", "")))
            ok, unknown = _justified(text)
            if unknown:
                wrong.append(f"{status}: names profile rule {', '.join(unknown)}, which no profile has")
            if not ok:
                wrong.append(f"success status {status} is not the swagger's ({sorted(theirs.success)}) and neither its "
                             "x-source nor its description names a profile rule or a disagreement (§10) for it")
        declared = {}
        for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
            parameter = _resolved(parameter, spec)
            name = parameter.get("name", "")
            declared[(parameter.get("in"), name.lower() if parameter.get("in") == "header" else name)] = parameter
        for parameter in theirs.parameters:
            where, name = parameter.get("in"), parameter.get("name", "")
            if where not in ("query", "header"):
                continue
            mine = declared.get((where, name.lower() if where == "header" else name))
            if mine is None:
                wrong.append(f"the swagger's {where} parameter {name} is not declared")
            elif parameter.get("required") and not mine.get("required"):
                wrong.append(f"the swagger requires the {where} parameter {name}; it is optional here")
    return found


def spec_files(directory: Path | None = None) -> list[Path]:
    return sorted(p for p in ((directory or specs_dir()) / VERSION).glob("*.yaml") if p.name != "common.yaml")


# The device-facing operations are ours to name: the service swagger leaves the device side out.
OURS = [(spec, operation_id) for spec in spec_files() for operation_id, *_ in our_operations(spec)
        if operation_id not in DEVICE_2021]


@pytest.mark.parametrize("spec, operation_id", OURS, ids=[f"{s.stem}:{o}" for s, o in OURS])
def test_each_operation_of_our_specs_is_the_swaggers(spec, operation_id):
    assert problems(spec)[operation_id] == [], f"{spec.name} {operation_id}"


@pytest.mark.parametrize("operation_id", sorted(SWAGGER))
def test_each_swagger_operation_is_in_our_specs(operation_id):
    assert operation_id in spec_locations(), f"{operation_id} is in no spec of specs/{VERSION}/"


def test_our_operation_groups_are_the_whole_swagger_each_operation_once():
    assert sorted(SERVICE_2021) == sorted(SWAGGER) and len(SWAGGER) == 42
    assert not set(DEVICE_2021) & set(SWAGGER)


def _spec(directory: Path, name: str, paths: dict) -> Path:
    folder = directory / VERSION
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(specs_dir() / VERSION / "common.yaml", folder / "common.yaml")
    spec = folder / name
    spec.write_text(yaml.safe_dump({"openapi": "3.0.3", "info": {"title": "t", "version": VERSION}, "paths": paths}),
                    encoding="utf-8")
    return spec


API_VERSION = {"$ref": "common.yaml#/components/parameters/api-version"}
OK = {"200": {"description": "ok"}}


def test_a_fabricated_mismatch_is_named_and_an_agreeing_operation_passes(tmp_path):
    existing = next(iter(profile_rules()))
    spec = _spec(tmp_path, "fabricated.yaml", {
        "/devices": {"get": {"operationId": "Devices_GetDevices", "parameters": [API_VERSION], "responses": OK},
                     "post": {"operationId": "No_SuchOperation", "responses": OK}},
        "/devices/{deviceId}": {
            "parameters": [API_VERSION],
            "get": {"operationId": "Devices_GetIdentity", "responses": OK},  # agrees: {deviceId} is the shape of {id}
            "post": {"operationId": "Devices_DeleteIdentity", "responses": {"204": {"description": "gone"}},
                     "parameters": [{"$ref": "common.yaml#/components/parameters/If-Match"}]},
            "put": {"operationId": "Devices_CreateOrUpdateIdentity", "x-source": "the swagger",
                    "parameters": [{"name": "if-match", "in": "header", "schema": {"type": "string"}}],
                    "responses": {**OK, "201": {"description": "created"}, "202": {"description": "accepted"}}}},
        "/twins/{id}": {"get": {"operationId": "Modules_GetTwin", "parameters": [API_VERSION], "responses": OK}},
        "/devices/query": {"post": {
            "operationId": "Query_GetTwins", "parameters": [{"name": "api-version", "in": "query", "schema": {}}],
            "responses": {**OK, "201": {"description": f"as profile rule `{existing}` has it"},
                          "206": {"description": "profile rule `no_such_rule_anywhere`"}}}},
        "/devices/{id}/modules/{mid}": {"put": {
            "operationId": "Modules_CreateOrUpdateIdentity",
            "parameters": [API_VERSION, {"$ref": "common.yaml#/components/parameters/If-Match"}],
            "description": "202 as INVENTORY-2021-04-12.md §10 C2 says", "responses": {"202": {"description": "x"}}}},
    })
    found = problems(spec)
    assert found["Devices_GetIdentity"] == [] and found["Modules_CreateOrUpdateIdentity"] == []
    assert found["No_SuchOperation"] == ["no operation of the swagger has this operationId"]
    assert found["Devices_GetDevices"] == ["the swagger's query parameter top is not declared"]
    assert found["Devices_DeleteIdentity"] == ["POST here, DELETE in the swagger"]
    assert found["Modules_GetTwin"] == ["path /twins/{id} here, /twins/{id}/modules/{mid} in the swagger"]
    put = found["Devices_CreateOrUpdateIdentity"]  # the header named in another case is the same header
    assert [line.split(" is not")[0] for line in put] == ["success status 201", "success status 202"], put
    query = found["Query_GetTwins"]
    assert "success status 201" not in " ".join(query)  # justified by a rule that exists
    assert "206: names profile rule no_such_rule_anywhere, which no profile has" in query
    assert any(line.startswith("success status 206") for line in query)
    assert "the swagger requires the query parameter api-version; it is optional here" in query
    assert "the swagger's header parameter x-ms-continuation is not declared" in query
    assert "the swagger's header parameter x-ms-max-item-count is not declared" in query


def test_coverage_lists_every_swagger_operation_where_it_is_and_whether_the_run_reached_it(tmp_path):
    located = {"Devices_GetIdentity": "fake/2021-04-12/devices.yaml:57", "Devices_GetTwin": "fake/2021-04-12/twins.yaml:9"}
    reached = {"Devices_GetIdentity": {"reached": True, "requests": 3, "statuses": [200, 404]},
               "Devices_GetTwin": {"reached": False, "why_not": "no test of this run sent it"}}
    out = swagger_coverage.lines(read_swagger(), located, reached)
    assert len(out) == 43 and out[-1] == "total: 2 of 42 swagger operations in our specs, 1 reached by the run"
    row = {line.split()[2]: line for line in out[:-1]}
    assert row["Devices_GetIdentity"].endswith("in fake/2021-04-12/devices.yaml:57  | reached (3 requests; 200, 404)")
    assert row["Devices_GetTwin"].endswith("| not reached: no test of this run sent it")
    assert row["Configuration_Get"].endswith("not in our specs  | -")
    assert row["Query_GetTwins"].endswith("not in our specs  | -")
    assert swagger_coverage.lines(read_swagger(), located)[0].endswith("not in our specs")  # no run: no column


def test_coverage_reads_a_runs_results_json_and_refuses_a_bad_one_in_one_line(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"coverage": [
        {"spec": "specs/2021-04-12/devices.yaml", "operation_id": "Devices_GetIdentity", "reached": True,
         "requests": 2, "statuses": [200]},
        {"spec": "specs/2016-02-03/device-identities.yaml", "operation_id": "Devices_GetIdentity", "reached": False}]}))
    assert swagger_coverage.read_reached(results) == {"Devices_GetIdentity": {
        "spec": "specs/2021-04-12/devices.yaml", "operation_id": "Devices_GetIdentity", "reached": True, "requests": 2,
        "statuses": [200]}}
    monkeypatch.setattr(swagger_coverage, "spec_locations", lambda: {"Devices_GetIdentity": "fake/x.yaml:1"})
    assert swagger_coverage.main([str(results)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 43 and sum("reached (2 requests; 200)" in line for line in printed) == 1
    for bad, why in ((tmp_path / "missing.json", "cannot read"), (tmp_path / "garbage.json", "not JSON"),
                     (tmp_path / "list.json", "no coverage list")):
        if bad.name != "missing.json":
            bad.write_text("{nope" if bad.name == "garbage.json" else "[1, 2]")
        with pytest.raises(swagger_coverage.BadResults, match=why):
            swagger_coverage.read_reached(bad)
    done = subprocess.run([sys.executable, "-m", "tests.swagger_coverage", str(tmp_path / "garbage.json")],
                          cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
