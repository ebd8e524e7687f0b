"""junit.xml is valid JUnit XML in every run, whatever bytes the target sends: markup, `]]>`, `&`, control characters
and invalid UTF-8 are escaped, secrets redacted in the parsed document (never a literal `<redacted>` in markup), and
an incomplete run carries an error testcase so a CI server goes red."""

import base64
import json
import xml.etree.ElementTree as ET
from html import escape

import pytest

from iothub_conformance.evidence.redact import redact
from iothub_conformance.report import junit
from tests.support import junit_schema, nasty_bytes
from tests.support.suite_runs import run_suite

KEY = base64.b64encode(b"junit-xml-test-secret-key-32byte").decode()
CONNECTION_STRING = f"HostName=nasty.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
SAS = "SharedAccessSignature sr=nasty.azure-devices.net&sig=c2VjcmV0c2lnbmF0dXJlMDEyMzQ1Njc4OTA%3D&se=99&skn=o"


def _bundle_texts(directory):
    return {p.name: p.read_text(encoding="utf-8") for p in directory.iterdir() if p.is_file()}


def test_a_target_sending_markup_controls_and_invalid_utf8_leaves_a_valid_redacted_junit(tmp_path):
    with nasty_bytes.serve() as url:
        run = run_suite(tmp_path / "report", "--iothub-target", url, "--iothub-connection-string", CONNECTION_STRING,
                        "--iothub-no-preflight", examples=1, suites="suites/test_error_codes.py")
    assert run.code == 1, run.output[-2000:]
    root = junit_schema.validate(tmp_path / "report" / "junit.xml")
    text = (tmp_path / "report" / "junit.xml").read_text(encoding="utf-8")
    # What the target sent is there, escaped: the failures quote its body.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "]]&gt;" in text
    assert root.find(".//failure") is not None
    files = _bundle_texts(tmp_path / "report")
    assert set(files) >= {"junit.xml", "results.json", "report.html"}
    json.loads(files["results.json"])
    for name, content in [*files.items(), ("the terminal", run.output)]:
        assert nasty_bytes.SIGNATURE not in content, f"the target's sig= in {name}"
        assert KEY not in content, f"the key in {name}"


SUITE = '''
import pytest

@pytest.mark.requirement("COMMON-SPEC-001")
def test_a_failure_quoting_every_byte_that_breaks_xml():
    print("stdout: \\x00\\x1b[31m <b>]]> & \\ud800 {sas}")
    assert False, "[COMMON-SPEC-001] body: <script>]]>&amp;\\x00\\x1b\\x07\\ufffe\\ud800 {sas} SharedAccessKey={key};"

@pytest.mark.requirement("COMMON-SPEC-001")
def test_a_skip_whose_reason_holds_them():
    pytest.skip("reason: <&>]]>\\x00 {sas}")
'''


def test_a_failure_message_with_every_breaking_character_still_makes_valid_junit(tmp_path):
    module = tmp_path / "breaking_suite" / "test_breaking.py"
    module.parent.mkdir()
    module.write_text(SUITE.format(sas=SAS, key=KEY), encoding="utf-8")
    run = run_suite(tmp_path / "report", "-rA", suites=str(module))
    assert run.code == 1, run.output[-2000:]
    path = tmp_path / "report" / "junit.xml"
    root = junit_schema.validate(path)
    failure = root.find(".//failure")
    assert failure is not None and "<script>]]>&amp;" in failure.get("message")
    assert "\\x00" in failure.get("message") or "#x00" in failure.get("message")  # shown, not written raw
    for name, content in [*_bundle_texts(tmp_path / "report").items(), ("the terminal", run.output)]:
        assert KEY not in content and "c2VjcmV0c2lnbmF0dXJl" not in content, f"a secret in {name}"
    assert "SharedAccessSignature <redacted>" in failure.text and "&lt;redacted&gt;" in path.read_text("utf-8")


def test_text_redaction_of_xml_breaks_it_and_the_rewrite_does_not(tmp_path):
    # How junit.xml used to be redacted: as text, writing markup into an attribute.
    document = ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="s" tests="1" failures="1" '
                f'errors="0"><testcase classname="c" name="t"><failure message="{escape(SAS)}">{escape(SAS)} &amp; '
                'SharedAccessKey=abc;</failure></testcase></testsuite></testsuites>')
    with pytest.raises(ET.ParseError):
        ET.fromstring(redact(document))
    path = tmp_path / "junit.xml"
    path.write_text(document, encoding="utf-8")
    junit.rewrite(path)
    root = junit_schema.validate(path)
    failure = root.find(".//failure")
    assert failure.get("message") == "SharedAccessSignature <redacted>"
    assert failure.text == "SharedAccessSignature <redacted> & SharedAccessKey=<redacted>;"


def test_an_incomplete_run_adds_an_error_testcase_and_counts_it(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text('<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="0" skipped="0" '
                    'tests="2" time="1.5"><testcase classname="a" name="b" time="0.1"/>'
                    '<testcase classname="a" name="c" time="0.1"/></testsuite></testsuites>', encoding="utf-8")
    junit.rewrite(path, "interrupted (Ctrl-C, SIGINT)")
    root = junit_schema.validate(path)
    error = junit_schema.run_complete_error(root)
    assert error is not None and error.get("message") == "incomplete: interrupted (Ctrl-C, SIGINT)"
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("errors")) == ("3", "1")
    junit.rewrite(path)  # a complete run's file is left as it was (only cleaned)
    assert len(list(root.iter("testcase"))) == 3


def test_a_run_that_wrote_no_junit_gets_one_that_says_why(tmp_path):
    path = tmp_path / "junit.xml"
    junit.write_incomplete(path, "the run stopped before its tests started \x00 <&>")
    root = junit_schema.validate(path)
    assert junit_schema.run_complete_error(root).get("message") == \
        "incomplete: the run stopped before its tests started \\x00 <&>"


def test_xml_text_keeps_what_xml_allows_and_shows_the_rest():
    assert junit.xml_text("tab\tnew\nline é ✓ 😀") == "tab\tnew\nline é ✓ 😀"
    assert junit.xml_text("nul\x00 esc\x1b bell\x07 \ufffe \ud800") == "nul\\x00 esc\\x1b bell\\x07 \\xfffe \\xd800"
    assert junit.xml_text(None) is None


def test_the_schema_refuses_what_a_ci_server_would_misread(tmp_path):
    bad = tmp_path / "bad.xml"
    for document in ('<testsuites><testsuite name="s" tests="x" failures="0" errors="0"/></testsuites>',
                     '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase classname="c"/>'
                     '</testsuite></testsuites>',
                     '<testsuites><testsuite name="s" tests="1" failures="0" errors="0"><testcase classname="c" '
                     'name="t"><failure/><error/><skipped/></testcase></testsuite></testsuites>'):
        bad.write_text(document, encoding="utf-8")
        with pytest.raises(Exception, match="(?i)not valid|invalid|failed validating|missing required"):
            junit_schema.validate(bad)


def test_the_nameless_testcase_pytest_writes_for_an_interrupted_test_is_named_and_marked(tmp_path):
    # pytest's junitxml writes the test a signal cut short as <testcase time="…"/>: no name, invalid JUnit.
    path = tmp_path / "junit.xml"
    path.write_text('<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="0" skipped="0" '
                    'tests="1" time="3"><testcase classname="suites.test_a" name="test_done" time="0.1"/>'
                    '<testcase time="0.001"/></testsuite></testsuites>', encoding="utf-8")
    junit.rewrite(path, "interrupted (signal SIGTERM)", ["suites/test_b.py::test_running[PUT /devices/{id}]"])
    root = junit_schema.validate(path)
    case = root.findall(".//testcase")[1]
    assert (case.get("classname"), case.get("name")) == ("suites.test_b", "test_running[PUT /devices/{id}]")
    assert case.find("skipped").get("message").startswith("not reached: the run ended early (interrupted (signal")
    assert root.find("testsuite").get("tests") == "3"  # the named one and run_complete
