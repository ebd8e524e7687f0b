"""A citation resolves or a test fails: every citation in the project names a file of the repository (and a section
its note has) or a public URL, the copied pages are the ones docs/sources/README.md lists, and nothing points outside
the repository."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from iothub_conformance.rules import sources
from iothub_conformance.rules.sources import Unresolved, citations_in, resolve

ROOT = sources.REPOSITORY
SCANNED = ("iothub_conformance", "specs", "suites", "tests", "docs", "README.md", "CONFORMANCE.md")
TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".md", ".ini", ".toml", ".cfg", ".txt", ".json", ""}
SKIPPED_DIRS = {"__pycache__", "node_modules", ".hypothesis", ".git", ".pytest_cache", ".ruff_cache", ".mypy_cache",
                ".grimp_cache", ".import_linter_cache", ".schemathesis", ".tox", ".venv", "venv", "reports"}
# Spelled in pieces so that this file does not hold the strings it looks for.
OUTSIDE = ("../" + "shared", "/" + "work/")
# This file holds the counterexamples (citations that must not resolve): the one file the scan leaves out.
COUNTEREXAMPLES = Path(__file__).resolve()


def project_files() -> list[Path]:
    """Every file of the project: git's list (tracked and new, not ignored) in a checkout, else a walk."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                                capture_output=True, timeout=30, check=True).stdout.decode().split("\0")
        return sorted(ROOT / name for name in listed if name and (ROOT / name).is_file())
    except (OSError, subprocess.SubprocessError):
        found = []
        for directory, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
            found += [Path(directory) / name for name in names]
        return sorted(found)


def cited_files() -> list[Path]:
    """The files whose citations must resolve: the project's own text. The pages copied into docs/sources/ are the
    sources themselves; the links inside them are upstream's."""
    chosen = []
    for path in project_files():
        relative = path.relative_to(ROOT)
        if relative.parts[0] not in SCANNED or path.suffix not in TEXT_SUFFIXES:
            continue
        if relative.parent == Path(sources.SOURCES) and path.name not in sources.PROJECT_NOTES:
            continue
        if path.resolve() == COUNTEREXAMPLES:
            continue
        chosen.append(path)
    return chosen


def test_every_citation_in_the_project_resolves():
    failing = []
    files = cited_files()
    for path in files:
        for citation, why in sources.unresolved(path.read_text(encoding="utf-8", errors="replace")):
            failing.append(f"{path.relative_to(ROOT)}:{citation.line}: {why}")
    assert len(files) > 100  # the scan saw the project, not an empty list
    assert not failing, ("citations that do not resolve (python -m iothub_conformance.rules.sources --fix PATH… "
                         "rewrites the old forms):\n" + "\n".join(failing))


def test_no_file_of_the_project_points_outside_the_repository():
    hits = []
    for path in project_files():
        data = path.read_bytes()
        for needle in OUTSIDE:
            if needle.encode() in data:
                line = data[:data.index(needle.encode())].count(b"\n") + 1
                hits.append(f"{path.relative_to(ROOT)}:{line}: {needle}")
    assert not hits, "\n".join(hits)


def test_the_scan_covers_the_specs_the_registry_and_the_notes():
    names = {str(path.relative_to(ROOT)) for path in cited_files()}
    assert {"specs/2016-02-03/device-identities.yaml", "iothub_conformance/rules/requirements.py", "README.md",
            "docs/sources/INVENTORY.md", "docs/sources/README.md", "docs/DESIGN.md", "specs/2021-04-12/common.yaml",
            "docs/sources/INVENTORY-2021-04-12.md", "docs/sources/SDKS.md", "docs/sources/INDEX-2021-04-12.md",
            "docs/sources/rest-reference-device-group__learn-summary.md"} <= names
    assert "docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md" not in names
    assert "docs/sources/create-a-new-device-identity.md" not in names and "tests/test_citations.py" not in names


@pytest.mark.parametrize("written, expected", [
    ("create-a-new-device-identity.md (Response)", "docs/sources/create-a-new-device-identity.md"),
    ("docs/sources/create-a-new-device-identity.md (Response)", "docs/sources/create-a-new-device-identity.md"),
    ("autogen-2016-11-14__JobApi_QueryJobs.yml", "docs/sources/autogen-2016-11-14__JobApi_QueryJobs.yml"),
    ("autogen-2016-11-14__JobApi_QueryJobs.yml.md", "docs/sources/autogen-2016-11-14__JobApi_QueryJobs.yml.md"),
    ("INVENTORY.md §5", "docs/sources/INVENTORY.md"),
    ("docs/sources/INVENTORY.md §5", "docs/sources/INVENTORY.md"),
    ("INVENTORY §2a, §7 item 10", "docs/sources/INVENTORY.md"),
    ("OBSERVED.md §1", "docs/sources/OBSERVED.md"),
    ("DESIGN.md", "docs/DESIGN.md"),
    ("specs/2016-02-03/resource-provider.yaml", "specs/2016-02-03/resource-provider.yaml"),
    ("common-error-codes.md", "docs/sources/common-error-codes__v2016-12-27_e5666404f.md"),
    ("iot-hub-devguide-device-twins__2020-02-01_132b418f.md",
     "docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md"),
    ("docs/sources/INVENTORY-2021-04-12.md §2.4", "docs/sources/INVENTORY-2021-04-12.md"),
    ("INVENTORY-2021-04-12.md §1.1, §10 C3", "docs/sources/INVENTORY-2021-04-12.md"),
    ("INVENTORY-2021-04-12.md §10", "docs/sources/INVENTORY-2021-04-12.md"),
    ("docs/sources/SDKS.md", "docs/sources/SDKS.md"),
    ("SDKS.md", "docs/sources/SDKS.md"),
    ("docs/sources/INDEX-2021-04-12.md", "docs/sources/INDEX-2021-04-12.md"),
    ("docs/sources/service-2021-04-12.json (Devices_GetTwin)", "docs/sources/service-2021-04-12.json"),
    ("service-2021-04-12.json (Twin, parameters.api-version)", "docs/sources/service-2021-04-12.json"),
    ("docs/sources/service-2021-04-12.json (Device.etag; Query_GetTwins and DeviceRegistryOperationError.errorCode)",
     "docs/sources/service-2021-04-12.json"),
    ("docs/sources/service-2021-04-12.json (Modules_UpdateTwin: 200; Twin)", "docs/sources/service-2021-04-12.json"),
    ("docs/sources/service-2021-04-12.json (Modules_UpdateTwin response, the swagger's words, README.md)",
     "docs/sources/service-2021-04-12.json"),
])
def test_each_file_form_resolves_to_its_file(written, expected):
    assert resolve(written) == ROOT / expected


def test_a_glob_resolves_to_every_file_it_matches():
    (citation,) = citations_in("rp__*.md")
    assert len(sources.matches(citation)) >= 10 and resolve("rp__*.md").name.startswith("rp__")
    assert len(sources.matches(citations_in("specs/2016-02-03/*.yaml")[0])) == 5


@pytest.mark.parametrize("written, url", [
    ("RFC 7232 §2.3", "https://www.rfc-editor.org/rfc/rfc7232#section-2.3"),
    ("RFC 7232", "https://www.rfc-editor.org/rfc/rfc7232"),
    ("iot-hub-devguide-quotas-throttling.md", "https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-quotas-throttling"),
    ("see https://schemathesis.readthedocs.io.", "https://schemathesis.readthedocs.io"),
])
def test_public_forms_resolve_to_their_url(written, url):
    assert resolve(written) == url


@pytest.mark.parametrize("written, why", [
    ("no-such-page.md", "no file docs/sources/no-such-page.md"),
    ("docs/sources/no-such-page.md", "no file docs/sources/no-such-page.md"),
    ("specs/2016-02-03/no-such-surface.yaml", "no file specs/2016-02-03/no-such-surface.yaml"),
    ("INVENTORY §99", "has no section §99"),
    ("docs/INVENTORY.md §5", "no file docs/INVENTORY.md"),
    ("OBSERVED.md §1, §42", "has no section §42"),
    ("docs/sources/INVENTORY-2021-04-12.md §2.13", "has no section §2.13"),
    ("INVENTORY-2021-04-12.md §2.4, §12", "has no section §12"),
    ("docs/INVENTORY-2021-04-12.md §2.4", "no file docs/INVENTORY-2021-04-12.md"),
    ("docs/sources/service-2021-04-12.json (Devices_GetTwinn)",
     "has no operationId, definition or parameter Devices_GetTwinn"),
    ("service-2021-04-12.json (Devices_GetTwin, Device.nosuchfield)", "parameter Device.nosuchfield"),
    ("docs/sources/service-2021-04-12.json (Devices_GetTwinn: 200)", "parameter Devices_GetTwinn"),
    ("docs/sources/service-2016-02-03.json (Devices_GetTwin)", "no file docs/sources/service-2016-02-03.json"),
    ("../" + "shared/reference/docs/create-a-new-device-identity.md", "points outside the repository"),
    ("just words", "none of the citation forms"),
])
def test_what_does_not_resolve_says_why(written, why):
    with pytest.raises(Unresolved, match=re.escape(why)):
        resolve(written)


def test_a_note_takes_every_section_that_follows_it_parentheticals_and_items_included():
    found = citations_in("INVENTORY.md §8 (iot-hub-devguide-quotas-throttling.md: C2D max 64 KB), §7 item 7; "
                         "OBSERVED.md §1, §4")
    assert [(c.kind, c.sections) for c in found] == [("note", ("8", "7")), ("external", ()), ("note", ("1", "4"))]
    assert [c.kind for c in citations_in("an INVENTORY of pages, SDKS in general")] == []
    assert [(c.kind, c.target) for c in citations_in("INVENTORY-2021-04-12.md, then INVENTORY.md")] == [
        ("note", "docs/sources/INVENTORY-2021-04-12.md"), ("note", "docs/sources/INVENTORY.md")]


def test_a_2021_section_must_be_a_heading_as_written_while_the_older_notes_check_its_leading_number():
    assert resolve("INVENTORY-2021-04-12.md §2.4").name == "INVENTORY-2021-04-12.md"  # "### 2.4 Device twins"
    with pytest.raises(Unresolved, match="no section §2.99"):
        resolve("INVENTORY-2021-04-12.md §2.99")  # §2 exists: the whole number is what is checked
    assert resolve("INVENTORY.md §2.99").name == "INVENTORY.md"  # the older notes: §2 only, as before


def test_the_swagger_takes_the_names_that_follow_it_and_is_one_citation():
    found = citations_in("see docs/sources/service-2021-04-12.json (Devices_GetTwin, parameters.api-version) and "
                         "INVENTORY-2021-04-12.md §2.4")
    assert [(c.kind, c.sections) for c in found] == [("swagger", ("Devices_GetTwin", "parameters.api-version")),
                                                     ("note", ("2.4",))]
    assert sources.swagger_has(ROOT / "docs/sources/service-2021-04-12.json", "Twin.properties")
    assert not sources.swagger_has(ROOT / "docs/sources/service-2021-04-12.json", "Twin.nothing")


def test_a_note_written_with_its_path_is_one_citation():
    found = citations_in("RFC 7232 §2.3 (docs/sources/OBSERVED.md §3)")
    assert [(c.kind, c.text, c.sections) for c in found] == [("rfc", "RFC 7232 §2.3", ()),
                                                             ("note", "docs/sources/OBSERVED.md §3", ("3",))]


def test_citations_carry_their_line():
    found = citations_in("first line\nsee OBSERVED §2\n\nand retrieve-a-device-identity.md")
    assert [(c.text, c.line) for c in found] == [("OBSERVED §2", 2), ("retrieve-a-device-identity.md", 4)]


def test_fix_rewrites_every_old_form_to_one_that_resolves():
    old = ("../" + "shared/reference/docs/create-a-new-device-identity.md; /" + "work/shared/reference/INVENTORY.md §5; "
           "../" + "shared/DESIGN.md")
    fixed = sources.fix(old)
    assert fixed == "docs/sources/create-a-new-device-identity.md; docs/sources/INVENTORY.md §5; docs/DESIGN.md"
    assert not list(sources.unresolved(fixed))


def _module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iothub_conformance.rules.sources", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_the_script_lists_what_does_not_resolve_and_fix_rewrites_the_old_forms(tmp_path):
    note = tmp_path / "note.py"
    note.write_text('SOURCE = "../' + 'shared/reference/docs/retrieve-a-device-identity.md"\n# see INVENTORY §99\n')
    listed = _module(str(note))
    assert listed.returncode == 1
    assert f"{note}:1: " in listed.stdout and f"{note}:2: 'INVENTORY §99'" in listed.stdout
    fixed = _module("--fix", str(note))
    assert fixed.returncode == 1 and "rewrote" in fixed.stdout  # §99 is not mechanical: it stays listed
    assert note.read_text().startswith('SOURCE = "docs/sources/retrieve-a-device-identity.md"')
    note.write_text(note.read_text().replace("§99", "§5"))
    assert _module(str(note)).returncode == 0


def test_the_script_refuses_an_unreadable_file_in_one_line(tmp_path):
    done = _module(str(tmp_path / "missing.md"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def _listed_pages() -> dict[str, str]:
    text = (ROOT / sources.SOURCES / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([^`]+)` \| [^|]+ \| [^|]+ \| [^|]+ \| `([0-9a-f]{64})` \|$", text, re.M))


def test_every_copied_page_is_listed_with_its_origin_and_unchanged():
    listed = _listed_pages()
    copied = {path.name for path in (ROOT / sources.SOURCES).iterdir() if path.name not in sources.PROJECT_NOTES}
    assert copied and set(listed) == copied
    for name, digest in listed.items():
        assert hashlib.sha256((ROOT / sources.SOURCES / name).read_bytes()).hexdigest() == digest, name


# The digests the origin records for the swagger and its licence (Azure/azure-iot-hub-python at 5f2f1ba).
UPSTREAM_2021 = {
    "service-2021-04-12.json": "455b5d987ddf8d109f917e0db76f6d0c1f2919124c8f96f2e7b99d8f412ab196",
    "LICENSE-service-2021-04-12.txt": "27ebda9d51f0a56b7e281ccd8230a27236dcb51c05f64b07869ecf6e965d68b0",
}


def test_the_2021_material_is_copied_listed_and_the_swagger_is_upstreams_bytes():
    listed = _listed_pages()
    pages = {name for name in listed if name.endswith(".md") and "__20" in name}
    assert len(pages) == 17 and all(name.split("__")[1][:4] in ("2017", "2018", "2019", "2020", "2021", "2022", "2023")
                                    for name in pages)
    for name, digest in UPSTREAM_2021.items():
        assert listed[name] == digest, name  # the README's digest is upstream's, and the file matches it (above)
    for note in ("INVENTORY-2021-04-12.md", "SDKS.md", "INDEX-2021-04-12.md",
                 "rest-reference-device-group__learn-summary.md"):
        assert note in sources.PROJECT_NOTES and note not in listed
        assert (ROOT / sources.SOURCES / note).is_file()
