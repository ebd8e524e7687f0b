"""Citations: the forms the project cites its sources in, and where each one resolves.

  page      a page copied into docs/sources/, by file name: `create-a-new-device-identity.md (Response)`,
            `autogen-2016-11-14__JobApi_QueryJobs.yml`, `rp__*.md` (a glob); an upstream name the pages link to
            (`common-error-codes.md`) resolves to its copy (ALIASES)
  note      the research notes, by section: `INVENTORY.md §5`, `INVENTORY §2a, §7 item 10`, `OBSERVED.md §1`,
            `INVENTORY-2021-04-12.md §2.4`, `SDKS.md`, `INDEX-2021-04-12.md`, and `DESIGN.md` (docs/DESIGN.md); each
            section named must be a heading of the note (the whole number `2.4` for the 2021-04-12 notes, whose
            subsections are headings; the leading `7` of `§7.3` for the older notes, whose subsections are not all)
  swagger   the service swagger by the names in it: `docs/sources/service-2021-04-12.json (Devices_GetTwin)`,
            `service-2021-04-12.json (Twin, parameters.api-version)`: each name must be an operationId, a definition
            or a parameter of the file, or a dotted path into it (`Device.etag`, `parameters.api-version`)
  path      a repository path under docs/ or specs/: `docs/sources/create-a-new-device-identity.md`,
            `specs/2016-02-03/*.yaml`
  external  a public page the notes quote by file name (`iot-hub-devguide-messaging.md`): its public URL (EXTERNAL)
  rfc       `RFC 7232 §2.3`: https://www.rfc-editor.org/rfc/rfc7232#section-2.3
  url       a public URL, as written
A path outside the repository (the old forms, see OLD_FORMS) never resolves.

`python -m iothub_conformance.rules.sources [--fix] PATH…` lists the citations in PATH that do not resolve; `--fix`
first rewrites the old forms that pointed outside the repository to their copies here.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Citations are paths from the checkout's root; an installed wheel carries docs/, specs/ and suites/ in _bundled/.
_CHECKOUT = Path(__file__).resolve().parents[2]
REPOSITORY = _CHECKOUT if (_CHECKOUT / "docs" / "sources").is_dir() else _CHECKOUT / "iothub_conformance" / "_bundled"
SOURCES = "docs/sources"
NOTES = {"INVENTORY": f"{SOURCES}/INVENTORY.md", "OBSERVED": f"{SOURCES}/OBSERVED.md", "DESIGN": "docs/DESIGN.md",
         "INVENTORY-2021-04-12": f"{SOURCES}/INVENTORY-2021-04-12.md", "SDKS": f"{SOURCES}/SDKS.md",
         "INDEX-2021-04-12": f"{SOURCES}/INDEX-2021-04-12.md"}
# The notes whose every subsection is a numbered heading ("### 2.4 Device twins"): a section must be one exactly.
WHOLE_SECTIONS = frozenset({"INVENTORY-2021-04-12", "SDKS", "INDEX-2021-04-12"})
# Files of docs/sources/ the project wrote; every other file there is a page copied byte for byte.
PROJECT_NOTES = ("README.md", "INDEX.md", "INVENTORY.md", "OBSERVED.md", "INVENTORY-2021-04-12.md", "SDKS.md",
                 "INDEX-2021-04-12.md", "rest-reference-device-group__learn-summary.md")

# Upstream names the copied pages and the index use for a page, and the copy each means.
ALIASES = {
    "common-error-codes.md": "common-error-codes__v2016-12-27_e5666404f.md",
    "device-identities-rest.md": "device-identities-rest__v2016-12-27_e5666404f.md",
    "device-messaging-rest-apis.md": "device-messaging-rest-apis__v2016-12-27_e5666404f.md",
    "iot-hub-resource-provider-rest.md": "rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md",
    "index.md": "index__SEED_v2017-01-13_be0592db9.md",
}
_GUIDE = "https://learn.microsoft.com/azure/iot-hub/"
# Developer-guide pages INVENTORY.md §8 quotes (MicrosoftDocs/azure-docs, articles/iot-hub/), not copied: their URLs.
EXTERNAL = {
    "iot-hub-devguide-messaging.md": "https://github.com/MicrosoftDocs/azure-docs/blob/051c1bc1/articles/iot-hub/"
                                     "iot-hub-devguide-messaging.md",
    "iot-hub-devguide-messages-construct.md": _GUIDE + "iot-hub-devguide-messages-construct",
    "iot-hub-devguide-messages-c2d.md": _GUIDE + "iot-hub-devguide-messages-c2d",
    "iot-hub-devguide-quotas-throttling.md": _GUIDE + "iot-hub-devguide-quotas-throttling",
    "iot-hub-devguide-security.md": _GUIDE + "authenticate-authorize-sas",
    "authenticate-authorize-sas.md": _GUIDE + "authenticate-authorize-sas",
    "iot-hub-devguide-identity-registry.md": _GUIDE + "iot-hub-devguide-identity-registry",
}
# The old forms, which pointed outside the repository, and what each becomes. Spelled in pieces so that this file
# does not itself hold the strings tests/test_citations.py refuses.
_OUTSIDE = ("..", "/shared/")
OLD_FORMS = (
    ("/" + "work" + _OUTSIDE[1] + "reference/docs/", f"{SOURCES}/"),
    ("/" + "work" + _OUTSIDE[1] + "reference/", f"{SOURCES}/"),
    ("/" + "work" + _OUTSIDE[1] + "DESIGN.md", "docs/DESIGN.md"),
    ("".join(_OUTSIDE) + "reference/docs/", f"{SOURCES}/"),
    ("".join(_OUTSIDE) + "reference/", f"{SOURCES}/"),
    ("".join(_OUTSIDE) + "DESIGN.md", "docs/DESIGN.md"),
)

_PAGE = re.compile(r"(?<![\w/.\-*])([a-z0-9][\w.*\-]*\.(?:md|yml))(?![\w\-])")
_NOTE = re.compile(r"\b(INVENTORY-2021-04-12|INDEX-2021-04-12|INVENTORY|OBSERVED|DESIGN|SDKS)(\.md)?(?![\w\-])")
# The swagger, bare or with its path, and the names that follow it in parentheses.
_SWAGGER = re.compile(r"(?<![\w/.\-])((?:docs/sources/)?service-\d{4}-\d{2}-\d{2}\.json)(?:\s*\(([^()]*)\))?")
_SWAGGER_NAME = re.compile(r"[A-Za-z_$][\w.\-$]*")
_FILE_NAME = re.compile(r"\.(?:md|yml|yaml|json|txt)$")
_PATH = re.compile(r"(?<![\w/.\-])((?:docs|specs)/[\w.*\-/]*)")
_NOTE_PREFIX = re.compile(r"(?<![\w/.\-])(?:docs|specs)/[\w.\-/]*/\Z|(?<![\w/.\-])docs/\Z")
_RFC = re.compile(r"\bRFC ?(\d{3,5})(?:,? ?§ ?(\d+(?:\.\d+)*))?")
_OUTSIDE_FORM = re.compile(re.escape("".join(_OUTSIDE)) + r"[\w./*\-]*|/" + "work" + r"/[\w./*\-]*")
_URL = re.compile(r"https?://[^\s)>\]'\"`|]+")
# What may follow a note's name and belongs to it: sections, "item 9", "items 6, 7, 11", a parenthetical.
_NOTE_TAIL = re.compile(r"(?:,? ?(?:and )?(?:§ ?(\w+(?:\.\w+)*)|items? \d+(?:(?:, | and )\d+)*|\([^()]*\)))")


class Unresolved(LookupError):
    """A citation that names no file of the repository, or a section its note does not have."""


@dataclass(frozen=True)
class Citation:
    text: str  # as written
    kind: str  # page | note | swagger | path | external | rfc | url | outside
    target: str  # a repository path (a glob for `rp__*.md`) or a URL
    sections: tuple[str, ...] = ()  # a note's sections; the swagger's names
    line: int = 0

    @property
    def is_url(self) -> bool:
        return self.kind in ("external", "rfc", "url")


def _page_target(name: str) -> tuple[str, str]:
    if name in EXTERNAL:
        return "external", EXTERNAL[name]
    return "page", f"{SOURCES}/{ALIASES.get(name, name)}"


def _swagger_name(item: str) -> str:
    """The swagger name an item in the parentheses gives: a lone token ("Twin"), or the first of several words when
    it has a name's "_" or "." ("Devices_GetTwin response", "Devices_GetTwin: 200"); other words are prose."""
    words = [word.rstrip(":") for word in item.split()]  # "Devices_GetTwin: 200" names Devices_GetTwin
    if not words or not _SWAGGER_NAME.fullmatch(words[0]) or _FILE_NAME.search(words[0]):
        return ""  # a file named in the parentheses is a page, not a name of the swagger
    return words[0] if len(words) == 1 or "_" in words[0] or "." in words[0] else ""


def _note_sections(text: str, end: int) -> tuple[tuple[str, ...], int]:
    sections: list[str] = []
    while match := _NOTE_TAIL.match(text, end):
        if match.group(1):
            sections.append(match.group(1))
        end = match.end()
    return tuple(sections), end


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def citations_in(text: str) -> list[Citation]:
    """Every citation in text, in order of position."""
    found: list[tuple[int, Citation]] = []
    urls = [(m.start(), m.end()) for m in _URL.finditer(text)]

    def in_url(position: int) -> bool:
        return any(start <= position < end for start, end in urls)

    for start, end in urls:
        url = text[start:end].rstrip(".,;:")
        found.append((start, Citation(url, "url", url, line=_line_of(text, start))))
    for m in _PAGE.finditer(text):
        if not in_url(m.start()):
            kind, target = _page_target(m.group(1))
            found.append((m.start(), Citation(m.group(1), kind, target, line=_line_of(text, m.start()))))
    for m in _NOTE.finditer(text):
        sections, end = _note_sections(text, m.end())
        if in_url(m.start()) or not (m.group(2) or sections):
            continue  # a bare "INVENTORY" is a word, not a citation; "INVENTORY §5" is one
        # Written with its path ("docs/sources/INVENTORY.md §5"): one citation, and the path must be the note's.
        prefix = _NOTE_PREFIX.search(text, 0, m.start())
        start, target = (prefix.start(), prefix.group(0) + m.group(0)) if prefix else (m.start(), NOTES[m.group(1)])
        found.append((start, Citation(text[start:end].strip(), "note", target, sections, _line_of(text, start))))
    swaggers = [m for m in _SWAGGER.finditer(text) if not in_url(m.start())]
    for m in swaggers:
        names = tuple(name for item in re.split(r",|;|\band\b", m.group(2) or "") if (name := _swagger_name(item)))
        target = m.group(1) if m.group(1).startswith("docs/") else f"{SOURCES}/{m.group(1)}"
        found.append((m.start(), Citation(m.group(0), "swagger", target, names, _line_of(text, m.start()))))
    for m in _PATH.finditer(text):
        path = m.group(1).rstrip("./")
        if in_url(m.start()) or _NOTE.fullmatch(path.rsplit("/", 1)[-1]):  # a note's path: read above
            continue
        if any(s.start() == m.start() for s in swaggers):  # the swagger's path: read above
            continue
        found.append((m.start(), Citation(path, "path", path, line=_line_of(text, m.start()))))
    for m in _OUTSIDE_FORM.finditer(text):
        found.append((m.start(), Citation(m.group(0), "outside", m.group(0), line=_line_of(text, m.start()))))
    for m in _RFC.finditer(text):
        anchor = f"#section-{m.group(2)}" if m.group(2) else ""
        url = f"https://www.rfc-editor.org/rfc/rfc{m.group(1)}{anchor}"
        found.append((m.start(), Citation(m.group(0), "rfc", url, line=_line_of(text, m.start()))))
    return [citation for _, citation in sorted(found, key=lambda item: item[0])]


@cache
def _headings(path: Path) -> frozenset[str]:
    """The section numbers of a note's headings: "## 2. …", "### 2c. …" and "### 2.4 …" give "2", "2c" and "2.4"."""
    text = path.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^#{1,6} (\w+(?:\.\w+)*)\. ", text, re.M)
                     + re.findall(r"^#{1,6} (\d+(?:\.\d+)+) ", text, re.M))


@cache
def _swagger(path: Path) -> tuple[frozenset[str], dict]:
    """A swagger's operationIds, and the document to walk dotted names in."""
    document = json.loads(path.read_text(encoding="utf-8"))
    ids = frozenset(operation["operationId"] for item in document.get("paths", {}).values()
                    for operation in item.values() if isinstance(operation, dict) and "operationId" in operation)
    return ids, document


def _walk(node: object, parts: list[str]) -> bool:
    """Whether a dotted name leads somewhere in node; a schema's properties may be named without "properties"."""
    for part in parts:
        if not isinstance(node, dict):
            return False
        if part in node:
            node = node[part]
        elif isinstance(node.get("properties"), dict) and part in node["properties"]:
            node = node["properties"][part]
        else:
            return False
    return True


def swagger_has(path: Path, name: str) -> bool:
    """Whether name is an operationId, a definition or a parameter of the swagger, or a dotted path into it."""
    ids, document = _swagger(path)
    if name in ids:
        return True
    parts = name.split(".")
    return _walk(document, parts) or any(_walk(document.get(key, {}), parts) for key in ("definitions", "parameters"))


def matches(citation: Citation, root: Path = REPOSITORY) -> list[Path]:
    """The repository files a citation names (several for a glob); none for a URL."""
    if citation.is_url or citation.kind == "outside":
        return []
    return sorted(path for path in root.glob(citation.target) if path.exists())


def check(citation: Citation, root: Path = REPOSITORY) -> Path | str:
    """Where a citation resolves: a repository file or a URL. Raises Unresolved."""
    if citation.is_url:
        return citation.target
    if citation.kind == "outside":
        raise Unresolved(f"{citation.text!r} points outside the repository (`--fix` rewrites it to docs/)")
    found = matches(citation, root)
    if not found:
        raise Unresolved(f"{citation.text!r}: no file {citation.target} in the repository")
    if citation.kind == "note":
        whole = Path(citation.target).stem in WHOLE_SECTIONS
        missing = [s for s in citation.sections if (s if whole else s.split(".")[0]) not in _headings(found[0])]
        if missing:
            raise Unresolved(f"{citation.text!r}: {citation.target} has no section {', '.join('§' + s for s in missing)}")
    if citation.kind == "swagger":
        try:
            unknown = [name for name in citation.sections if not swagger_has(found[0], name)]
        except (OSError, ValueError) as exc:
            raise Unresolved(f"{citation.text!r}: {citation.target} is not a readable swagger ({exc})") from exc
        if unknown:
            raise Unresolved(f"{citation.text!r}: {citation.target} has no operationId, definition or parameter "
                             f"{', '.join(unknown)}")
    return found[0]


def resolve(citation: str, root: Path = REPOSITORY) -> Path | str:
    """Where one written citation resolves (`"INVENTORY §5"` → docs/sources/INVENTORY.md). Raises Unresolved."""
    found = citations_in(citation)
    if not found:
        raise Unresolved(f"{citation!r} is none of the citation forms (iothub_conformance/rules/sources.py)")
    return check(found[0], root)


def unresolved(text: str, root: Path = REPOSITORY) -> Iterator[tuple[Citation, str]]:
    """The citations in text that do not resolve, with why."""
    for citation in citations_in(text):
        try:
            check(citation, root)
        except Unresolved as exc:
            yield citation, str(exc)


def fix(text: str) -> str:
    """text with every old form that pointed outside the repository rewritten to its copy here."""
    for old, new in OLD_FORMS:
        text = text.replace(old, new)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iothub_conformance.rules.sources", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fix", action="store_true", help="rewrite old-form citations in place first")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    args = parser.parse_args(argv)
    failing = 0
    for name in args.paths:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read {name}: {exc}", file=sys.stderr)
            return 2
        if args.fix and (fixed := fix(text)) != text:
            path.write_text(fixed, encoding="utf-8")
            print(f"{name}: rewrote the citations that pointed outside the repository")
            text = fixed
        for citation, why in unresolved(text):
            failing += 1
            print(f"{name}:{citation.line}: {why}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
