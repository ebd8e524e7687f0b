"""The spec side of the requirement ↔ operation links: the `x-requirements` each operation of specs/ carries.

An operation names the requirements that concern it in `x-requirements: [ID, …]`; a spec file's top-level
`x-requirements` names those that concern every operation in it. The registry (rules/requirements.py) names the same
links from the other side, in `Requirement.operations`; tests/test_specs.py checks that both agree.
Read with `yaml.compose` to keep line numbers: `explain` prints where each operation and each link is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from iothub_conformance.paths import specs_dir

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
KEY = "x-requirements"


@dataclass(frozen=True)
class SpecOperation:
    spec: str  # the spec file, relative to the directory above specs/: "specs/2016-02-03/jobs.yaml"
    line: int  # of the operation's method key
    method: str
    path: str
    operation_id: str
    own: tuple[tuple[str, int], ...]  # (requirement id, line) from the operation's x-requirements
    shared: tuple[tuple[str, int], ...]  # (requirement id, line) from the file's top-level x-requirements

    @property
    def requirements(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rid for rid, _ in self.shared + self.own))

    def carried_at(self, requirement_id: str) -> int | None:
        """The line of the x-requirements entry that names requirement_id for this operation."""
        return next((line for rid, line in self.own + self.shared if rid == requirement_id), None)


def _get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    return next((value for k, value in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _ids(node: yaml.Node | None) -> tuple[tuple[str, int], ...]:
    if not isinstance(node, yaml.SequenceNode):
        return ()
    return tuple((item.value, item.start_mark.line + 1) for item in node.value if isinstance(item, yaml.ScalarNode))


def read(path: Path, name: str) -> list[SpecOperation]:
    """The operations of one spec file, in file order."""
    # libyaml's loader where PyYAML has it: the same nodes and line marks, several times faster.
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(root, yaml.MappingNode):
        return []
    shared = _ids(_get(root, KEY))
    paths = _get(root, "paths")
    found = []
    for path_key, item in paths.value if isinstance(paths, yaml.MappingNode) else ():
        if not isinstance(item, yaml.MappingNode):
            continue
        for method_key, operation in item.value:
            if method_key.value not in METHODS or not isinstance(operation, yaml.MappingNode):
                continue
            operation_id = _get(operation, "operationId")
            found.append(SpecOperation(name, method_key.start_mark.line + 1, method_key.value, path_key.value,
                                       getattr(operation_id, "value", ""), _ids(_get(operation, KEY)), shared))
    return found


@cache
def operations(directory: Path | None = None) -> tuple[SpecOperation, ...]:
    """Every operation of every spec under specs/."""
    base = directory or specs_dir()
    return tuple(operation for path in sorted(base.glob("*/*.yaml"))
                 for operation in read(path, f"{base.name}/{path.relative_to(base)}"))


def versions(directory: Path | None = None) -> frozenset[str]:
    """The api-versions the specs document (their folders: specs/<api-version>/)."""
    return frozenset(Path(operation.spec).parts[1] for operation in operations(directory))


def by_requirement(directory: Path | None = None) -> dict[str, list[SpecOperation]]:
    """Requirement id → the operations whose x-requirements (their own or their file's) name it."""
    found: dict[str, list[SpecOperation]] = {}
    for operation in operations(directory):
        for rid in operation.requirements:
            found.setdefault(rid, []).append(operation)
    return found


def run_versions(operation_ids: Iterable[str], directory: Path | None = None) -> frozenset[str]:
    """The run api-versions (config.SPEC_VERSIONS) whose specs hold any of these operations."""
    return _run_versions(frozenset(operation_ids), directory)


@cache  # asked for every requirement each time a run writes its results
def _run_versions(wanted: frozenset[str], directory: Path | None) -> frozenset[str]:
    from iothub_conformance.config import SPEC_VERSIONS

    folders = {Path(op.spec).parts[1] for op in operations(directory) if op.operation_id in wanted}
    return frozenset(version for version, read in SPEC_VERSIONS.items() if folders & set(read))
