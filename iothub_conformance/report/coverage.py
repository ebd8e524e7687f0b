"""Coverage: which documented operations (from the specs) the run exercised, how many requests and generated cases
each got, the statuses it saw, and why an operation was not reached."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import yaml

from ..config import SPEC_VERSIONS
from ..paths import specs_dir

METHODS = ("get", "put", "post", "patch", "delete")
# libyaml's safe loader where PyYAML has it: the same documents, read several times faster (every run reads the specs).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Operation:
    spec: str  # specs/<api-version>/<surface>.yaml
    operation_id: str
    method: str
    path: str
    pattern: re.Pattern
    source: str

    @property
    def version(self) -> str:
        """The api-version of its spec (the folder: specs/<api-version>/…)."""
        return self.spec.split("/")[1]

    @property
    def resource_provider(self) -> bool:
        return self.path.startswith("/subscriptions/")


@cache
def operations() -> tuple[Operation, ...]:
    found = []
    root = specs_dir()
    for file in sorted(root.rglob("*.yaml")):
        document = yaml.load(file.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}  # noqa: S506 - a safe loader
        for path, item in (document.get("paths") or {}).items():
            # A template segment {name} matches one path segment; literal segments compare case-insensitively
            # (ARM does, and the data plane's own spellings differ: devicebound / deviceBound).
            pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$", re.IGNORECASE)
            for method in METHODS:
                operation = item.get(method)
                if operation:
                    found.append(Operation(f"specs/{file.relative_to(root).as_posix()}",
                                           operation.get("operationId", f"{method} {path}"), method.upper(), path,
                                           pattern, str(operation.get("x-source", ""))))
    return tuple(found)


def match(method: str, path: str, folders: Iterable[str] | None = None) -> list[Operation]:
    """The operations a request (its decoded path, as the journal keeps it) could be, among the specs of `folders`
    (api-versions; None: every spec): literal paths win over templated ones (/jobs/v2/query over /jobs/v2/{jobId}),
    and the same path in two specs counts for both."""
    wanted = None if folders is None else set(folders)
    candidates = [op for op in operations() if op.method == method and op.pattern.match(path)
                  and (wanted is None or op.version in wanted)]
    if not candidates:
        return []
    fewest = min(op.path.count("{") for op in candidates)
    return [op for op in candidates if op.path.count("{") == fewest]


def why_not(operation: Operation, target) -> str:
    versions = tuple(getattr(target, "api_versions", ()) or ())
    if versions and not any(operation.version in SPEC_VERSIONS.get(v, ()) for v in versions):
        return f"not in this run: api-version {operation.version} (the run tests {', '.join(versions)}; --api-version)"
    rp = getattr(target, "rp", None)
    if operation.resource_provider and rp is None:
        return "no resource provider to test (--rp-url)"
    dialect = target.profile.value("rp_dialect") if target.profile and "rp_dialect" in target.profile.rules else None
    if operation.resource_provider and operation.operation_id.startswith("Docs_") and dialect == "arm16":
        return f"profile {target.profile.name} speaks the ARM16 dialect (rule rp_dialect); this is a docs path"
    if operation.path == "/importdevices" and target.profile.value("job_start") != "importdevices":
        return f"profile {target.profile.name} starts jobs with POST /jobs/create (rule job_start)"
    return "no test of this run sent it (see the requirements that were skipped)"


def coverage(exchanges: Iterable, target) -> list[dict]:
    counted: dict[Operation, dict] = {op: {"requests": 0, "generated": 0, "statuses": set()} for op in operations()}
    known = {op.version for op in operations()}
    # An exchange counts for the operations of its own api-version; one without a documented api-version (a test of
    # api-version handling) for the same path in every spec the run tests.
    run = {folder for version in getattr(target, "api_versions", ()) or () for folder in SPEC_VERSIONS.get(version, ())}
    for exchange in exchanges:
        version = getattr(exchange, "api_version", None)
        folders = [version] if version in known else (sorted(run) or None)
        for op in match(exchange.method, exchange.path, folders):
            entry = counted[op]
            entry["requests"] += 1
            entry["generated"] += int(bool(getattr(exchange, "generated", False)))
            entry["statuses"].add(exchange.status)
    rows = []
    for op, entry in counted.items():
        reached = entry["requests"] > 0
        rows.append({"spec": op.spec, "operation_id": op.operation_id, "method": op.method, "path": op.path,
                     "source": op.source, "requests": entry["requests"], "generated_cases": entry["generated"],
                     "statuses": sorted(entry["statuses"]), "reached": reached,
                     "why_not": None if reached else why_not(op, target)})
    return rows
