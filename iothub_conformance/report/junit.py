"""junit.xml made safe after pytest wrote it: redacted, cut and valid XML whatever the target sent, and marked
incomplete when the run ended early, so a CI server goes red.

Redaction works on the parsed document (text and attribute values), never on the XML text: a replacement such as
`<redacted>` written into markup would break it. Characters XML 1.0 does not allow (NUL, ESC, lone surrogates) are
written as `\\xNN`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import overload

from iothub_conformance.evidence.text import bounded

from .bundle import NOT_REACHED

CLASSNAME = "iothub_conformance"
RUN_COMPLETE = "run_complete"
# XML 1.0 §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@overload
def xml_text(value: str) -> str: ...
@overload
def xml_text(value: None) -> None: ...
def xml_text(value: str | None) -> str | None:
    """Text that can stand in an XML 1.0 document: redacted, cut, every character it may not hold made visible."""
    if value is None:
        return None
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group(0)):02x}", bounded(value))


def _clean(element: ET.Element) -> None:
    for node in element.iter():
        node.text = xml_text(node.text)
        node.tail = xml_text(node.tail)
        for name, value in list(node.attrib.items()):
            node.set(name, xml_text(value))


def _suite(root: ET.Element) -> ET.Element:
    if root.tag == "testsuite":
        return root
    suite = root.find("testsuite")
    if suite is None:
        suite = ET.SubElement(root, "testsuite", {"name": "pytest", "errors": "0", "failures": "0", "skipped": "0",
                                                  "tests": "0", "time": "0"})
    return suite


def _count(element: ET.Element, name: str) -> None:
    try:
        element.set(name, str(int(element.get(name, "0")) + 1))
    except ValueError:
        element.set(name, "1")


def _address(nodeid: str) -> tuple[str, str]:
    """classname and name as pytest's junitxml makes them from a node id (suites/test_x.py::test_y[a])."""
    address, bracket, params = nodeid.partition("[")
    path, *names = address.split("::")
    parts = path.removesuffix(".py").replace("\\", "/").split("/") + names
    return ".".join(part for part in parts[:-1] if part), parts[-1] + bracket + params


def _name_interrupted(root: ET.Element, unfinished: list[str], reason: str | None) -> None:
    """pytest writes the test a signal cut short as a testcase without a name (invalid JUnit): name it after the
    test that was running, and say it was not reached."""
    left = list(unfinished)
    for suite in root.iter("testsuite"):
        for case in suite.findall("testcase"):
            if case.get("name"):
                continue
            classname, name = _address(left.pop(0)) if left else (CLASSNAME, "a test the run ended while it ran")
            case.set("classname", case.get("classname") or classname)
            case.set("name", name)
            if not any(child.tag in ("failure", "error", "skipped") for child in case):
                ET.SubElement(case, "skipped", {"type": "incomplete", "message": xml_text(
                    f"{NOT_REACHED} ({reason or 'interrupted'}) while this test ran")})
                _count(suite, "tests")
                _count(suite, "skipped")


def _mark_incomplete(root: ET.Element, reason: str) -> None:
    """A testcase that errors: CI servers count it, so the run shows red even when every test that ran passed."""
    suite = _suite(root)
    case = ET.SubElement(suite, "testcase", {"classname": CLASSNAME, "name": RUN_COMPLETE, "time": "0"})
    error = ET.SubElement(case, "error", {"type": "incomplete", "message": xml_text(f"incomplete: {reason}")})
    error.text = xml_text(f"The run is incomplete: {reason}. Requirements no test reached are marked "
                          "\"not reached\" in results.json and report.html.")
    totals = [suite] + ([root] if root is not suite and root.get("tests") is not None else [])
    for element in totals:
        _count(element, "tests")
        _count(element, "errors")


def rewrite(path: Path, incomplete: str | None = None, unfinished: list[str] | None = None) -> None:
    """Redact and cut the junit.xml at `path` in place; name the tests a signal cut short (`unfinished`: their node
    ids) and add the run_complete error when `incomplete` says why the run ended early."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        # pytest escapes what it writes, so this is not expected; never leave a file a CI server cannot read.
        root = ET.Element("testsuites")
        suite = _suite(root)
        case = ET.SubElement(suite, "testcase", {"classname": CLASSNAME, "name": "junit_xml", "time": "0"})
        ET.SubElement(case, "error", {"type": "invalid", "message": f"pytest wrote an unreadable junit.xml ({exc})"})
        _count(suite, "tests")
        _count(suite, "errors")
    _clean(root)
    _name_interrupted(root, unfinished or [], incomplete)
    if incomplete:
        _mark_incomplete(root, incomplete)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_incomplete(path: Path, reason: str) -> None:
    """A junit.xml for a run that ended before pytest could write one (stopped during its start)."""
    root = ET.Element("testsuites", {"name": "iothub-conformance"})
    _suite(root)
    _mark_incomplete(root, reason)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
