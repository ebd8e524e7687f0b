"""Redaction is precise: it takes every secret shape (SAS tokens, sig=, keys, bearer tokens, URL passwords) and never
changes the suite's own words; it redacts data rather than serialised text; and log records are redacted while, and
only while, the suite runs."""

import json
import logging
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iothub_conformance.evidence import redact as redaction
from iothub_conformance.evidence.redact import REDACTED, redact, redact_data
from iothub_conformance.reference import FAULTS
from iothub_conformance.report import logs
from iothub_conformance.rules.profiles import PROFILES
from iothub_conformance.rules.requirements import REQUIREMENTS

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJl"

WORDS = [
    "bearer the endpoint",
    "An RP request with a bearer token the endpoint did not issue is refused with 401 and changes nothing.",
    "Bearer authentication is required; BEARER tokens expire",
    "SharedAccessSignature tokens are signed for the HostName of the connection string",
    "Authorization: Bearer <your AAD token>",
    "curl -H 'Authorization: <your SAS token>'",
    "sig= is the signature field of a SAS token",
    "http://127.0.0.1:8080/devices/conf-1a2b-id-1-:.+%_#*?!(),=@;$'?api-version=2016-02-03",
    "https://myhub.azure-devices.net:443/devices/x@y",
    "etag MjM0NzE5NA== and id 3e371160-a307-4216-b0a9-dd741d4cde50",
]


def _own_words() -> list[str]:
    texts = [text for r in REQUIREMENTS.values() for text in (r.statement, r.source)]
    for profile in PROFILES.values():
        texts.append(profile.description)
        texts += [text for rule in profile.rules.values() for text in (rule.deviation, rule.source) if text]
    return texts + [fault.description for fault in FAULTS.values()]


@pytest.mark.parametrize("text", WORDS)
def test_ordinary_words_are_unchanged(text):
    assert redact(text) == text


def test_none_of_the_suites_own_statements_sources_profiles_or_faults_change():
    changed = [text for text in _own_words() if redact(text) != text]
    assert not changed, changed[:3]
    assert len(_own_words()) > 200  # the registry was read


@pytest.mark.parametrize(("text", "expected"), [
    (f"Authorization: Bearer {JWT}", f"Authorization: Bearer {REDACTED}"),
    (f"authorization: bearer {JWT}", f"authorization: bearer {REDACTED}"),  # the scheme is case-insensitive
    ("Bearer conformance-reference-arm-token", f"Bearer {REDACTED}"),
    ("Bearer abc123def456ghi789==", f"Bearer {REDACTED}"),
    ("SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc%3D&se=1&skn=o", f"SharedAccessSignature {REDACTED}"),
    ("https://s.blob.core.windows.net/c?sv=2021&sig=AbC%2Bdef%3D&sp=rwdl",
     f"https://s.blob.core.windows.net/c?sv=2021&sig={REDACTED}&sp=rwdl"),
    ("?sig%3DAbCdef%26se%3D1", f"?sig%3D{REDACTED}"),
    ("http://user:p%40ss@host:8080/x", f"http://user:{REDACTED}@host:8080/x"),
    ("amqps://:secret@host", f"amqps://:{REDACTED}@host"),
    ("HostName=h;SharedAccessKeyName=o;SharedAccessKey=c2VjcmV0;",
     f"HostName=h;SharedAccessKeyName=o;SharedAccessKey={REDACTED};"),
])
def test_each_secret_shape_is_redacted_and_its_surroundings_kept(text, expected):
    assert redact(text) == expected


# Text built from the patterns' own pieces, so that the generated strings come near every pattern.
_PIECES = st.sampled_from(["sig=", "SIG%3D", "SharedAccessSignature sr=", "SharedAccessKey=", "AccountKey=", "Bearer ",
                           "eyJhbGciOiJIUzI1NiJ9.x", "https://u:p@h/", "primaryKey", '"secondary": "', "=", "==",
                           "@", "ı", "ſ", "İ", "Prımary", "abcdEFGH1234/+" * 2, ";", " ", "&", '"'])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12).map("".join))
def test_the_shortcut_for_texts_no_pattern_can_match_changes_nothing(text):
    assert redact(text) == redaction._redacted(text)


def test_data_is_redacted_not_its_json_text():
    value = {"url": 'https://s/c?sig=abc\\"', "authentication": {"symmetricKey": {"primaryKey": "a2V5", "x": 1}}}
    # Redacting the serialised text can eat the backslash of an escaped quote and break the file.
    with pytest.raises(json.JSONDecodeError):
        json.loads(redact(json.dumps(value)))
    cleaned = redact_data(value)
    assert json.loads(json.dumps(cleaned)) == cleaned
    assert cleaned["url"] == f'https://s/c?sig={REDACTED}"'
    assert cleaned["authentication"]["symmetricKey"] == {"primaryKey": REDACTED, "x": 1}


@pytest.fixture
def redacting_logs():
    before = logging.getLogRecordFactory()
    logs.install()
    try:
        yield
    finally:
        logs.uninstall()
    assert logging.getLogRecordFactory() is before


def _record(*args, **kwargs) -> logging.LogRecord:
    return logging.getLogger("tests.redact").makeRecord("tests.redact", logging.INFO, __file__, 1, *args, **kwargs)


def test_log_records_are_redacted_with_their_arguments_and_traceback(redacting_logs):
    record = _record("HTTP Request: %s %s", ("GET", "https://s/c?sv=1&sig=SeCrEt%3D"), None)
    assert record.getMessage() == f"HTTP Request: GET https://s/c?sv=1&sig={REDACTED}"
    try:
        raise RuntimeError("SharedAccessKey=c2VjcmV0;")
    except RuntimeError:
        record = _record("failed", (), sys.exc_info())
    assert f"SharedAccessKey={REDACTED};" in logging.Formatter().format(record)
    assert "c2VjcmV0" not in logging.Formatter().format(record)
    big = _record("%s", ("x" * 5_000_000,), None)
    assert len(big.getMessage()) < 3000 and "(5,000,000 characters, first 2,048 shown)" in big.getMessage()


def test_uninstalled_the_factory_is_the_one_before_and_records_pass_through(redacting_logs):
    logs.uninstall()
    assert not logs.installed()
    assert _record("sig=%s", ("SeCrEt",), None).getMessage() == "sig=SeCrEt"
    logs.install()  # the fixture uninstalls again


def test_a_factory_someone_wrapped_around_ours_keeps_working_after_uninstall():
    before = logging.getLogRecordFactory()
    logs.install()
    ours = logging.getLogRecordFactory()
    logging.setLogRecordFactory(lambda *a, **k: ours(*a, **k))  # another library wraps ours
    try:
        logs.uninstall()
        assert _record("sig=%s", ("SeCrEt",), None).getMessage() == "sig=SeCrEt"  # ours passes records through
    finally:
        logging.setLogRecordFactory(before)


OTHER_PROJECT_TEST = '''
import logging

def test_logging_is_untouched_by_an_installed_iothub_conformance(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("iothub_conformance.pytest_plugin.plugin")  # loaded through its entry point
    assert logging.getLogRecordFactory() is logging.LogRecord
    assert logging.getLogger().makeRecord("x", 20, "f", 1, "sig=%s", ("SeCrEt",), None).getMessage() == "sig=SeCrEt"
'''


def test_another_projects_pytest_run_keeps_its_logging(tmp_path):
    (tmp_path / "test_other.py").write_text(OTHER_PROJECT_TEST, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout[-2000:]


@pytest.mark.parametrize("text", ["https://user:s3cret@host/x", "(amqps://u:s3cret@h)", "seehttps://u:s3cret@h",
                                  "x-1.2+https://u:s3cret@h"])
def test_a_url_password_goes_wherever_its_scheme_starts(text):
    # The pattern anchors the scheme at the start of a run of scheme characters (so a long run costs linear time);
    # a password behind a scheme glued to other letters is still found.
    assert "s3cret" not in redact(text) and "<redacted>@" in redact(text)
