"""The traffic readers: each format's synthetic sample (tests/traffic_samples/) read into exchanges, what each
recorder hides marked unobservable, and a malformed file of each format refused in one line."""

import base64
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iothub_conformance.checks.observed import observe
from iothub_conformance.config import ConfigError
from iothub_conformance.traffic import cassette, formats, har, proxy_recordings, session_records
from iothub_conformance.traffic.errors import TrafficError
from iothub_conformance.traffic.exchange import UNRECORDED_HOST, Exchange, RecordedRequest

SAMPLES = Path(__file__).parent / "traffic_samples"


def test_traffic_error_is_a_config_error():
    # The CLI turns a ConfigError into one line and exit 2.
    assert issubclass(TrafficError, ConfigError)


# HAR 1.2


def test_har_reads_request_response_and_start_time():
    first, sent, unanswered = har.read(SAMPLES / "devices.har")
    assert (first.format, first.index, first.source) == ("har", 0, str(SAMPLES / "devices.har"))
    assert first.request.method == "GET"  # upper-cased: the HAR wrote "get"
    assert first.request.raw_path == "/devices/dev%2F1" and first.request.path == "/devices/dev/1"
    assert first.request.api_version == "2016-02-03"
    assert first.started == datetime(2016, 12, 16, 17, 49, 57, 123000, tzinfo=UTC)
    assert first.when == first.started
    assert first.response is not None and first.response.status == 200
    assert json.loads(first.response.body) == {"deviceId": "dev/1", "etag": "MA=="}
    assert first.response.header("etag") == '"MA=="'
    # A browser's HTTP/2 pseudo-header is no header of the message.
    assert first.request.header(":authority") is None and first.request.header("accept") == "application/json"
    assert sent.request.body == b"\x00\x01\x02"  # postData with encoding: base64
    assert unanswered.response is None  # status 0: no response


def test_har_placeholders_are_unobservable_but_real_values_are_not():
    first, sent, _ = har.read(SAMPLES / "devices.har")
    assert "[Filtered]" in first.unobservable("authorization", "request")
    assert first.unobservable("accept", "request") is None
    # A zero request id in a HAR is what the target sent: judged, not excused (only Azure recorders write it).
    assert first.unobservable("x-ms-request-id") is None
    # An absent header in a HAR was absent on the wire.
    assert sent.unobservable("authorization", "request") is None


def test_har_exchange_as_httpx_feeds_the_checks():
    first = har.read(SAMPLES / "devices.har")[0]
    request, response = first.as_httpx()
    assert response is not None and response.request is request
    # content.text is the decoded entity; httpx must not try to gunzip it again because of Content-Encoding.
    assert response.json() == {"deviceId": "dev/1", "etag": "MA=="}
    assert "content-encoding" not in response.headers
    observed = observe(response)
    assert (observed.method, observed.path, observed.status) == ("GET", "/devices/dev/1", 200)
    assert observed.header("etag") == '"MA=="'
    assert response.elapsed.total_seconds() == 0


def test_har_unanswered_exchange_as_httpx_has_no_response():
    request, response = har.read(SAMPLES / "devices.har")[2].as_httpx()
    assert request.method == "DELETE" and response is None


# vcrpy cassettes


def test_cassette_reads_python2_tags_collapsed_scheme_and_gzip_bytes():
    put, get = cassette.read(SAMPLES / "registry.yaml")
    assert put.request.method == "PUT"
    assert put.request.url == "https://myhub.azure-devices.net/devices/dev1?api-version=2016-02-03"  # https:/ fixed
    assert put.request.body == b'{"deviceId": "dev1"}'  # !!python/unicode
    assert put.response is not None and put.response.status == 200
    assert put.response.body == b'{"deviceId":"dev1","etag":"MQ=="}'  # the !!binary gzip, undone
    assert put.response.header("etag") == '"MQ=="'
    assert put.started is None and put.when == datetime(2016, 12, 16, 17, 49, 57, tzinfo=UTC)  # Date
    assert get.request.api_version == "2016-11-14" and get.request.body == b""
    _, response = put.as_httpx()
    assert response is not None and response.json()["etag"] == "MQ=="


def test_cassette_marks_what_the_azure_filters_delete():
    put, get = cassette.read(SAMPLES / "registry.yaml")
    # Absent Authorization: the recording's filter_headers may have removed it.
    assert "FILTER_HEADERS" in put.unobservable("authorization", "request")
    # Present Authorization: observable.
    assert get.unobservable("authorization", "request") is None
    # Absent x-ms-request-id on a response: the Azure frameworks delete it from responses too.
    assert get.unobservable("x-ms-request-id") is not None
    # Present, but the zero GUID the frameworks write over ids: a placeholder.
    assert "placeholder" in put.unobservable("x-ms-request-id")
    # A header no filter touches is observable, present or not.
    assert put.unobservable("etag") is None and get.unobservable("etag") is None


def test_cassette_in_vcrpy_json_serializer_is_detected(tmp_path):
    path = tmp_path / "cassette.json"
    path.write_text(json.dumps({"interactions": [{
        "request": {"method": "GET", "uri": "https://h.azure-devices.net/devices?api-version=2016-02-03", "body": None,
                    "headers": {}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": ["application/json"]},
                     "body": {"string": "[]"}}}], "version": 1}))
    kind, _ = formats.detect(path)
    (exchange,) = formats.read(path)
    assert kind == "vcrpy" and exchange.response is not None and exchange.response.body == b"[]"


# Azure SDK test-proxy recordings


def test_test_proxy_bodies_object_lines_base64_and_null():
    get, post, listing = proxy_recordings.read(SAMPLES / "rp.json")
    assert get.format == "test-proxy" and get.request.body == b""  # null
    assert get.request.headers.count(("Accept", "application/json")) == 1
    assert ("Accept", "text/json") in get.request.headers  # a header written as a list keeps every value
    assert get.response is not None and json.loads(get.response.body)["etag"] == "AAAAAAFD6M4="  # an object body
    assert json.loads(post.request.body) == {"Name": "hub1"}
    assert post.response is not None and post.response.body == b"line one\nline two"  # text split into lines
    assert listing.response is not None and listing.response.body == b"\x00\x01\x02"  # base64 under a binary type


def test_test_proxy_sanitized_values_are_placeholders():
    get, post, _ = proxy_recordings.read(SAMPLES / "rp.json")
    assert "sanitizer" in get.unobservable("authorization", "request")
    assert "sanitizer" in get.unobservable("x-ms-request-id")  # the zero GUID
    assert get.unobservable("x-ms-client-request-id", "request") is None  # a real value
    assert post.unobservable("authorization", "request") is None  # the proxy records what the client sent


def test_sas_signature_sanitized_inside_a_token_is_a_placeholder(tmp_path):
    path = tmp_path / "rec.json"
    path.write_text(json.dumps({"Entries": [{
        "RequestUri": "https://h.azure-devices.net/devices/d?api-version=2016-02-03", "RequestMethod": "GET",
        "RequestHeaders": {"Authorization": "SharedAccessSignature sr=h.azure-devices.net&sig=Sanitized&se=1&skn=p"},
        "RequestBody": None, "StatusCode": 200, "ResponseHeaders": {}, "ResponseBody": None}]}))
    (exchange,) = formats.read(path)
    assert exchange.unobservable("authorization", "request") is not None


# .NET session records


def test_session_record_has_no_host_and_hides_authorization():
    (stats,) = session_records.read(SAMPLES / "rp-session.json")
    assert stats.format == "dotnet-session"
    assert not stats.host_recorded and stats.request.url.startswith(f"https://{UNRECORDED_HOST}/subscriptions/")
    assert stats.request.api_version == "2016-02-03"
    assert stats.request.body == b""
    assert stats.response is not None and json.loads(stats.response.body)["totalDeviceCount"] == 0
    assert stats.request.header("accept-language") == "en-US"
    assert stats.unobservable("authorization", "request") is not None
    assert stats.unobservable("x-ms-request-id") is None
    assert stats.when == datetime(2017, 2, 7, 22, 0, 21, tzinfo=UTC)


def test_session_record_with_only_the_encoded_uri(tmp_path):
    uri = "/subscriptions/s/providers/Microsoft.Devices/IotHubs?api-version=2016-02-03"
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"Entries": [{
        "EncodedRequestUri": base64.b64encode(uri.encode()).decode(), "RequestMethod": "GET", "RequestBody": "",
        "RequestHeaders": {}, "ResponseBody": "", "ResponseHeaders": {}, "StatusCode": 200}], "Names": {}}))
    (exchange,) = formats.read(path)
    assert exchange.format == "dotnet-session" and exchange.request.path.endswith("/IotHubs")


# Format detection


@pytest.mark.parametrize(("name", "kind", "count"), [
    ("devices.har", "har", 3), ("registry.yaml", "vcrpy", 2), ("rp.json", "test-proxy", 3),
    ("rp-session.json", "dotnet-session", 1)])
def test_formats_are_told_by_content_not_name(tmp_path, name, kind, count):
    renamed = tmp_path / "recording.txt"  # the name says nothing
    renamed.write_bytes((SAMPLES / name).read_bytes())
    assert formats.detect(renamed)[0] == kind
    found = formats.read(renamed)
    assert len(found) == count and all(isinstance(e, Exchange) for e in found)


def test_read_all_keeps_file_order():
    found = formats.read_all([SAMPLES / "registry.yaml", SAMPLES / "devices.har"])
    assert [(e.format, e.index) for e in found] == [("vcrpy", 0), ("vcrpy", 1), ("har", 0), ("har", 1), ("har", 2)]


def _one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert text and "\n" not in text and "Traceback" not in text
    return text


@pytest.mark.parametrize(("content", "says"), [
    (b'{"some": "json"}', "not a recording"),
    (b"just: yaml\n", "not a recording"),
    (b"\xff\xfe\x00binary", "not UTF-8"),
    (b'{"log": {"entries": [', "JSON does not parse"),
    (b"", "not a recording"),
])
def test_unknown_or_unreadable_formats_are_one_line(tmp_path, content, says):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(TrafficError) as error:
        formats.read(path)
    assert says in _one_line(error) and str(path) in str(error.value)


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(TrafficError) as error:
        formats.read(tmp_path / "absent.har")
    assert "cannot read" in _one_line(error)


MALFORMED = [
    # HAR: entries not a list; a request without a URL; a status that is no status; base64 that is not
    ("har", {"log": {"entries": {}}}, "log.entries is not a list"),
    ("har", {"log": {"entries": [{"request": {"method": "GET", "headers": []}, "response": {"status": 200}}]}},
     "URL is missing"),
    ("har", {"log": {"entries": [{"request": {"method": "GET", "url": "https://h/x", "headers": []},
                                  "response": {"status": "two hundred", "headers": []}}]}}, "not an HTTP status"),
    ("har", {"log": {"entries": [{"request": {"method": "GET", "url": "https://h/x", "headers": []},
                                  "response": {"status": 200, "headers": [],
                                               "content": {"text": "@@@", "encoding": "base64"}}}]}},
     "not base64"),
    ("har", {"log": {"entries": [{"request": {"method": "GET", "url": "https://h/x", "headers": [{"name": "a"}]},
                                  "response": {"status": 200}}]}}, "not a {name, value} pair"),
    # vcrpy: an interaction without a response; headers of the wrong shape
    ("vcrpy", {"interactions": [{"request": {"method": "GET", "uri": "https://h/x"}}]}, "response is not an object"),
    ("vcrpy", {"interactions": [{"request": {"method": "GET", "uri": "https://h/x", "headers": "Accept: */*"},
                                 "response": {"status": {"code": 200}}}]}, "neither a mapping nor a list"),
    # test-proxy: a method that is no method; a body of the wrong kind
    ("test-proxy", {"Entries": [{"RequestUri": "https://h/x", "RequestMethod": "G E T", "StatusCode": 200}]},
     "not an HTTP method"),
    ("test-proxy", {"Entries": [{"RequestUri": "https://h/x", "RequestMethod": "GET", "StatusCode": 200,
                                 "ResponseHeaders": {"Content-Type": "application/json"}, "ResponseBody": [1, 2]}]},
     "not text"),
    # .NET session records: EncodedRequestUri that is not base64
    ("dotnet-session", {"Entries": [{"EncodedRequestUri": "%%%", "RequestMethod": "GET", "StatusCode": 200}]},
     "EncodedRequestUri is not base64"),
]


@pytest.mark.parametrize(("kind", "document", "says"), MALFORMED, ids=[f"{k}-{i}" for i, (k, _, _) in
                                                                         enumerate(MALFORMED)])
def test_malformed_files_of_each_format_are_one_line(tmp_path, kind, document, says):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    assert formats.detect(path)[0] == kind
    with pytest.raises(TrafficError) as error:
        formats.read(path)
    assert says in _one_line(error), error.value
    assert str(path) in str(error.value)


def test_malformed_yaml_cassette_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("interactions:\n- request: {method: GET\n  uri: [unclosed\n")
    with pytest.raises(TrafficError) as error:
        formats.read(path)
    assert "not a readable cassette" in _one_line(error)


def test_yaml_that_would_build_objects_is_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("interactions: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(TrafficError):
        formats.read(path)


def _gzip_cassette(tmp_path, body: bytes):
    """A cassette whose one response says Content-Encoding gzip and holds `body`."""
    path = tmp_path / "bad-gzip.yaml"
    path.write_text("interactions:\n- request: {method: GET, uri: 'https://h/x', headers: {}, body: null}\n"
                    "  response:\n    status: {code: 200}\n    headers: {Content-Encoding: [gzip]}\n"
                    f"    body: {{string: !!binary '{base64.b64encode(body).decode()}'}}\n")
    return path


@pytest.mark.parametrize(("body", "said"), [(gzip.compress(b"{}")[:12], "cut short"),
                                           (b"\x1f\x8b" + b"not deflate at all", "does not decompress")],
                         ids=["cut short", "not gzip inside"])
def test_a_gzip_body_that_does_not_unpack_is_one_line(tmp_path, body, said):
    with pytest.raises(TrafficError) as error:
        formats.read(_gzip_cassette(tmp_path, body))
    assert said in _one_line(error)


def test_a_gzip_bomb_is_refused_not_unpacked(tmp_path, monkeypatch):
    from iothub_conformance.traffic import bodies

    monkeypatch.setattr(bodies, "MAX_DECODED", 1024)
    path = tmp_path / "bomb.yaml"
    packed = base64.b64encode(gzip.compress(b"0" * 100_000)).decode()
    path.write_text("interactions:\n- request: {method: GET, uri: 'https://h/x', headers: {}, body: null}\n"
                    "  response:\n    status: {code: 200}\n    headers: {Content-Encoding: [gzip]}\n"
                    f"    body: {{string: !!binary '{packed}'}}\n")
    with pytest.raises(TrafficError) as error:
        formats.read(path)
    assert "more than" in _one_line(error)


def test_request_query_and_path_helpers():
    request = RecordedRequest("GET", "https://h/devices/a%20b?api-version=2016-02-03&top=5&api-version=x")
    assert request.path == "/devices/a b" and request.raw_path == "/devices/a%20b"
    assert request.api_version == "2016-02-03" and request.query["top"] == ["5"]
    assert RecordedRequest("GET", "https://h/devices").api_version is None


def _entries_file(tmp_path, entry: dict, older: bool) -> Path:
    if older:
        entry = {**entry, "EncodedRequestUri": base64.b64encode(b"/devices/d?api-version=2016-02-03").decode(),
                 "RequestUri": "/devices/d?api-version=2016-02-03"}
    path = tmp_path / "rec.json"
    path.write_text(json.dumps({"Entries": [{"RequestMethod": "POST", "RequestUri": "https://h/devices/d",
                                             "StatusCode": 204, **entry}]}))
    return path


@pytest.mark.parametrize(("older", "content_type", "recorded", "body"), [
    (False, None, "YWJjZA==", b"abcd"),  # the proxy: no text Content-Type → base64
    (False, "text/plain", "YWJjZA==", b"YWJjZA=="),  # text stays text
    (True, None, "abcd", b"abcd"),  # the .NET recorder: anything not binary is text
    (True, "application/octet-stream", "YWJjZA==", b"abcd"),  # its binary types are base64
])
def test_each_azure_recorder_keeps_its_own_text_rule(tmp_path, older, content_type, recorded, body):
    headers = {"Content-Type": content_type} if content_type else {}
    path = _entries_file(tmp_path, {"RequestHeaders": headers, "RequestBody": recorded}, older)
    (exchange,) = formats.read(path)
    assert exchange.format == ("dotnet-session" if older else "test-proxy")
    assert exchange.request.body == body


def _har(tmp_path, request: dict, response: dict) -> Path:
    path = tmp_path / "rec.har"
    entry = {"startedDateTime": "2026-01-01T00:00:00.000+00:00", "request": {"url": "http://127.0.0.1:1/devices/d",
                                                                           "headers": [], **request},
             "response": {"headers": [], **response}}
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))
    return path


def test_har_redacted_credentials_are_placeholders(tmp_path):
    # As serve --record writes them: the whole token replaced after its scheme.
    path = _har(tmp_path, {"method": "GET", "headers": [{"name": "Authorization",
                                                         "value": "SharedAccessSignature <redacted>"}]},
                {"status": 200, "content": {"size": 0, "text": ""}})
    (exchange,) = formats.read(path)
    assert exchange.unobservable("authorization", "request") is not None
    assert exchange.cut == frozenset()


def test_har_bodies_shorter_than_their_size_are_cut(tmp_path):
    path = _har(tmp_path, {"method": "PUT", "bodySize": 10, "postData": {"mimeType": "application/json", "text": "{"}},
                {"status": 200, "content": {"size": 5000, "text": '{"a":'}})
    (exchange,) = formats.read(path)
    assert exchange.cut == {"request", "response"}
    whole = _har(tmp_path, {"method": "PUT", "bodySize": 2, "postData": {"mimeType": "application/json", "text": "{}"}},
                 {"status": 200, "content": {"size": 2, "text": "{}"}})
    assert formats.read(whole)[0].cut == frozenset()


def test_placeholder_words_and_parts():
    from iothub_conformance.traffic.exchange import is_placeholder

    assert is_placeholder("Sanitized", {"sanitized"})
    assert is_placeholder("Bearer [Filtered]", {"[filtered]"})
    assert is_placeholder("SharedAccessSignature sr=h&sig=Sanitized&se=1", {"sanitized"})
    assert not is_placeholder("SharedAccessSignature sr=h&sig=abc%3D&se=1&skn=p", {"sanitized", "[filtered]"})


def test_har_start_time_without_offset_is_utc_and_a_bad_one_is_one_line(tmp_path):
    path = tmp_path / "t.har"
    entry = {"startedDateTime": "2026-01-01T10:00:00", "request": {"method": "GET", "url": "https://h/x", "headers": []},
             "response": {"status": 204, "headers": []}}
    path.write_text(json.dumps({"log": {"entries": [entry]}}))
    assert formats.read(path)[0].started == datetime(2026, 1, 1, 10, tzinfo=UTC)
    path.write_text(json.dumps({"log": {"entries": [{**entry, "startedDateTime": "yesterday"}]}}))
    with pytest.raises(TrafficError) as error:
        formats.read(path)
    assert "not an ISO 8601 time" in _one_line(error)
