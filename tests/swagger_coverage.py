"""Coverage of the service swagger of api-version 2021-04-12 (docs/sources/service-2021-04-12.json): one line per
swagger operation, saying where our hand-written spec declares it (file:line) or that issue 15 covers it, and, given a
run's results.json, whether the run reached it (results.json `coverage`, iothub_conformance/report/coverage.py).

    python -m tests.swagger_coverage [reports/<run-id>/results.json]

The swagger is read as a source only: the specs stay hand-written (tests/test_swagger_2021.py cross-checks them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from iothub_conformance.paths import specs_dir
from iothub_conformance.rules import spec_operations
from iothub_conformance.rules.sources import REPOSITORY, SOURCES

VERSION = "2021-04-12"
SWAGGER = REPOSITORY / SOURCES / "service-2021-04-12.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# The swagger's operations issue 15 covers (configurations, digital twins, cloud-to-device feedback), not ours to spec
# here; tests/test_swagger_2021.py fails if one of them turns up in our specs.


@dataclass(frozen=True)
class SwaggerOperation:
    operation_id: str
    method: str  # lower case, as the specs key it
    path: str
    parameters: tuple[dict, ...]  # every parameter, $refs to #/parameters/… resolved
    success: frozenset[int]  # the declared 2xx statuses


def read_swagger(path: Path = SWAGGER) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def swagger_operations(document: dict) -> list[SwaggerOperation]:
    """Every operation of a Swagger 2.0 document, in file order."""
    shared = document.get("parameters", {})

    def resolved(parameter: dict) -> dict:
        ref = parameter.get("$ref", "")
        return shared[ref.removeprefix("#/parameters/")] if ref.startswith("#/parameters/") else parameter

    found = []
    for path, item in document.get("paths", {}).items():
        common = [resolved(p) for p in item.get("parameters", [])]
        for method, operation in item.items():
            if method not in METHODS:
                continue
            parameters = tuple(common + [resolved(p) for p in operation.get("parameters", [])])
            success = frozenset(int(s) for s in operation.get("responses", {}) if s.isdigit() and s.startswith("2"))
            found.append(SwaggerOperation(operation["operationId"], method, path, parameters, success))
    return found


def spec_locations(directory: Path | None = None) -> dict[str, str]:
    """operationId → "specs/2021-04-12/<surface>.yaml:<line>" for every operation of our 2021-04-12 specs."""
    base = directory or specs_dir()
    return {op.operation_id: f"{op.spec}:{op.line}"
            for file in sorted((base / VERSION).glob("*.yaml")) if file.name != "common.yaml"
            for op in spec_operations.read(file, f"{base.name}/{VERSION}/{file.name}")}


class BadResults(ValueError):
    """A results.json this script cannot read: one line, exit 2."""


def read_reached(path: Path) -> dict[str, dict]:
    """operationId → its coverage row of a 2021-04-12 spec, from a run's results.json."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadResults(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadResults(f"{path} is not a results.json (not JSON: {exc})") from None
    rows = data.get("coverage") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise BadResults(f"{path} is not a results.json (no coverage list)")
    return {row["operation_id"]: row for row in rows if isinstance(row, dict)
            and str(row.get("spec", "")).startswith(f"specs/{VERSION}/") and "operation_id" in row}


def _reached(row: dict | None) -> str:
    if row is None:
        return "not in the run's coverage"
    if row.get("reached"):
        statuses = ", ".join(str(s) for s in row.get("statuses", []))
        return f"reached ({row.get('requests', 0)} requests; {statuses})"
    return f"not reached: {row.get('why_not') or 'no reason recorded'}"


def lines(document: dict, locations: dict[str, str], reached: dict[str, dict] | None = None) -> list[str]:
    """One line per swagger operation, and a closing total."""
    operations = swagger_operations(document)
    width = min(max((len(op.path) for op in operations), default=0), 48)  # the longest few overflow
    out = []
    for op in operations:
        where = f"in {locations[op.operation_id]}" if op.operation_id in locations else "not in our specs"
        line = f"{op.method.upper():<6} {op.path:<{width}}  {op.operation_id:<52} {where}"
        if reached is not None:
            line += f"  | {_reached(reached.get(op.operation_id)) if op.operation_id in locations else '-'}"
        out.append(line.rstrip())
    in_spec = sum(op.operation_id in locations for op in operations)
    total = f"total: {in_spec} of {len(operations)} swagger operations in our specs"
    if reached is not None:
        total += f", {sum(bool(reached.get(op.operation_id, {}).get('reached')) for op in operations)} reached by the run"
    return [*out, total]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.swagger_coverage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="?", type=Path, help="a run's results.json (reports/<run-id>/results.json)")
    args = parser.parse_args(argv)
    try:
        reached = read_reached(args.results) if args.results else None
    except BadResults as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        print("\n".join(lines(read_swagger(), spec_locations(), reached)), flush=True)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces the closed stream for the interpreter's exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
