"""junit.xml checked against the JUnit XML schema (tests/schemas/junit.xsd) with xmlschema."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "junit.xsd"


@cache
def _schema():
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA))


def validate(path: Path) -> ET.Element:
    """Parse junit.xml (well-formed XML 1.0, else ParseError) and validate it (else XMLSchemaValidationError)."""
    root = ET.parse(path).getroot()
    _schema().validate(str(path))
    return root


def run_complete_error(root: ET.Element) -> ET.Element | None:
    """The <error> of the synthetic testcase an incomplete run adds, or None."""
    for case in root.iter("testcase"):
        if case.get("classname") == "iothub_conformance" and case.get("name") == "run_complete":
            return case.find("error")
    return None
