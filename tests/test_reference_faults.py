"""Each fault switch changes the reference's behaviour in the way its description says (and the default does not)."""

from __future__ import annotations

import importlib
import pkgutil
import time

import pytest

from iothub_conformance import reference
from iothub_conformance.config import ConfigError
from iothub_conformance.http import sas
from iothub_conformance.reference import FAULTS, Hub, ResourceProvider, parse_faults
from iothub_conformance.reference.faults import switch
from iothub_conformance.rules.profiles import DOCS_STRICT
from tests.support.reference_api import API, OWNER, SURFACE_PREFIXES, ReferenceApi, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

SPECIAL_ID = "a-:.+%_#*?!(),=@;$'b"


def test_every_fault_has_a_test_here():
    # A surface's faults (by the requirements they break) are proven in that surface's own *_faults module; the rest here.
    elsewhere = faults_breaking(*(prefix for prefixes in SURFACE_PREFIXES.values() for prefix in prefixes))
    missing = [name for name in FAULTS if name not in elsewhere and f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def test_an_undeclared_fault_name_is_an_error_in_switch_and_in_has():
    with pytest.raises(LookupError, match="undeclared fault switch 'unquoted-etags'"):
        switch("unquoted-etags")
    hub = Hub.create(faults=["unquoted-etag"])
    for holder in (hub, ResourceProvider.beside(hub)):
        assert holder.has("unquoted-etag") is True and holder.has("no-etag-header") is False
        with pytest.raises(LookupError, match="undeclared fault switch"):
            holder.has("unquoted-etags")


def test_every_declared_fault_is_bound_by_a_reference_module():
    # Each switch site names a constant bound with switch() at import; a declared fault no module binds does nothing.
    bound = set()
    for info in pkgutil.iter_modules(reference.__path__):
        module = importlib.import_module(f"{reference.__name__}.{info.name}")
        bound |= {value for name, value in vars(module).items()
                  if name.isupper() and isinstance(value, str) and value in FAULTS}
    assert bound == set(FAULTS)


def test_parse_faults():
    assert parse_faults(None) == frozenset()
    assert parse_faults("") == frozenset()
    assert parse_faults("no-etag-header, unquoted-etag  drop-request-id") == {
        "no-etag-header", "unquoted-etag", "drop-request-id"}
    assert parse_faults(["no-etag-header"]) == {"no-etag-header"}
    with pytest.raises(ConfigError, match=r"unknown fault 'nope' \(known: abandon-keeps-delivery-count, "):
        parse_faults("no-etag-header,nope")
    with pytest.raises(ConfigError):
        Hub.create(faults=["nope"])


def test_fault_drop_request_id():
    for api, kept in ((ReferenceApi(), True), (ReferenceApi("drop-request-id"), False)):
        assert ("x-ms-request-id" in api.get_device("ghost").headers) is kept
        assert "x-ms-request-id" in api.put_device().headers  # successes keep it either way


def test_fault_repeat_request_id():
    for api, distinct in ((ReferenceApi(), 3), (ReferenceApi("repeat-request-id"), 1)):
        ids = {api.put_device().headers["x-ms-request-id"], api.get_device().headers["x-ms-request-id"],
               api.get_device("ghost").headers["x-ms-request-id"]}
        assert len(ids) == distinct


def test_fault_accept_missing_api_version():
    assert ReferenceApi().request("GET", "/devices", params={}).status_code == 400
    api = ReferenceApi("accept-missing-api-version")
    assert api.request("GET", "/devices", params={}).status_code == 200
    assert api.request("GET", "/devices", params={"api-version": "1999-01-01"}).status_code == 400


def test_fault_accept_any_api_version():
    other = {"api-version": "2099-01-01"}
    assert ReferenceApi().request("GET", "/devices", params=other).status_code == 400
    api = ReferenceApi("accept-any-api-version")
    assert api.request("GET", "/devices", params=other).status_code == 200
    assert api.request("GET", "/devices", params={}).status_code == 400


def test_fault_wrong_api_version_error_code():
    for api, code in ((ReferenceApi(), "InvalidProtocolVersion"),
                      (ReferenceApi("wrong-api-version-error-code"), "BadRequest")):
        response = api.request("GET", "/devices", params={})
        assert response.status_code == 400 and response.headers["iothub-errorcode"] == code


def test_fault_no_etag_header():
    assert "ETag" in ReferenceApi().put_device().headers
    api = ReferenceApi("no-etag-header")
    assert "ETag" not in api.put_device().headers and "ETag" not in api.get_device().headers
    assert api.get_device().json()["etag"]


def test_fault_unquoted_etag():
    assert ReferenceApi().put_device().headers["ETag"].startswith('"')
    api = ReferenceApi("unquoted-etag")
    header = api.put_device().headers["ETag"]
    assert header == api.get_device().json()["etag"]  # no quotes
    assert api.put_device(if_match=header).status_code == 200  # a client echoing it back is still understood


def test_fault_etag_header_mismatch():
    api = ReferenceApi("etag-header-mismatch")
    response = api.put_device()
    assert response.headers["ETag"] != f'"{response.json()["etag"]}"'
    # Either value still works as If-Match, so only the header-equals-body rule notices.
    assert api.put_device(if_match=api.get_device().headers["ETag"]).status_code == 200
    assert api.put_device(if_match=f'"{api.get_device().json()["etag"]}"').status_code == 200


def test_fault_etag_unchanged_on_write():
    baseline = ReferenceApi()
    assert baseline.put_device().json()["etag"] != baseline.put_device().json()["etag"]
    api = ReferenceApi("etag-unchanged-on-write")
    first = api.put_device().json()["etag"]
    assert api.put_device(body={"status": "disabled"}).json()["etag"] == first


def test_fault_etag_changes_on_read():
    baseline = ReferenceApi()
    baseline.put_device()
    assert baseline.get_device().headers["ETag"] == baseline.get_device().headers["ETag"]
    api = ReferenceApi("etag-changes-on-read")
    api.put_device()
    first, second = api.get_device(), api.get_device()
    assert first.headers["ETag"] != second.headers["ETag"]
    assert second.headers["ETag"] == f'"{second.json()["etag"]}"'
    assert api.put_device(if_match=second.headers["ETag"]).status_code == 200  # the newest one is current


def test_fault_ignore_if_match():
    for api, put_status, delete_status in ((ReferenceApi(), 412, 412), (ReferenceApi("ignore-if-match"), 200, 204)):
        api.put_device()
        assert api.put_device(body={"status": "disabled"}, if_match='"stale"').status_code == put_status
        assert api.delete_device(if_match='"stale"').status_code == delete_status


def test_fault_write_before_precondition():
    for api, status in ((ReferenceApi(), "enabled"), (ReferenceApi("write-before-precondition"), "disabled")):
        api.put_device()
        assert api.put_device(body={"status": "disabled"}, if_match='"stale"').status_code == 412
        assert api.get_device().json()["status"] == status


def test_fault_weak_if_match_matches():
    for api, status in ((ReferenceApi(), 412), (ReferenceApi("weak-if-match-matches"), 200)):
        etag = api.put_device().json()["etag"]
        assert api.put_device(if_match=f'W/"{etag}"').status_code == status


def test_fault_reject_if_match_star():
    for api, put_status, delete_status in ((ReferenceApi(), 200, 204), (ReferenceApi("reject-if-match-star"), 412, 412)):
        api.put_device()
        assert api.put_device(if_match="*").status_code == put_status
        assert api.delete_device(if_match="*").status_code == delete_status


def test_fault_no_content_type():
    assert ReferenceApi().put_device().headers["Content-Type"] == "application/json; charset=utf-8"
    api = ReferenceApi("no-content-type")
    assert "Content-Type" not in api.put_device().headers
    assert "Content-Type" not in api.get_device("ghost").headers


def test_fault_no_auth_required():
    assert ReferenceApi().request("GET", "/devices", token=None).status_code == 401
    api = ReferenceApi("no-auth-required")
    assert api.request("GET", "/devices", token=None).status_code == 200
    assert api.request("GET", "/devices", token="junk").status_code == 401


def expired(api: ReferenceApi) -> str:
    return sas.build_token(api.hub.host_name, api.hub.policies[OWNER].key, OWNER, expiry=int(time.time()) - 60)


def test_fault_accept_expired_token():
    for api, status in ((ReferenceApi(), 401), (ReferenceApi("accept-expired-token"), 200)):
        assert api.request("GET", "/devices", token=expired(api)).status_code == status


def test_fault_skip_signature_check():
    for api, status in ((ReferenceApi(), 401), (ReferenceApi("skip-signature-check"), 200)):
        token = sas.build_token(api.hub.host_name, api.hub.policies["service"].key, "iothubowner")
        assert api.request("GET", "/devices", token=token).status_code == status


def test_fault_accept_unknown_policy():
    for api, status in ((ReferenceApi(), 401), (ReferenceApi("accept-unknown-policy"), 200)):
        token = sas.build_token(api.hub.host_name, api.hub.policies["iothubowner"].key, "nobody")
        assert api.request("GET", "/devices", token=token).status_code == status


def test_fault_ignore_token_audience():
    for api, status in ((ReferenceApi(), 401), (ReferenceApi("ignore-token-audience"), 200)):
        token = sas.build_token("other-hub.azure-devices.net", api.hub.policies["iothubowner"].key, "iothubowner")
        assert api.request("GET", "/devices", token=token).status_code == status


def test_fault_create_returns_200():
    assert ReferenceApi(profile=DOCS_STRICT).put_device().status_code == 201
    assert ReferenceApi("create-returns-200", profile=DOCS_STRICT).put_device().status_code == 200


def test_fault_error_envelope_plain():
    api = ReferenceApi("error-envelope-plain")
    response = api.get_device("ghost")
    assert response.status_code == 404 and response.text == "error"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "iothub-errorcode" not in response.headers
    assert "iothub-errorcode" in ReferenceApi().get_device("ghost").headers


def test_fault_server_error_on_bad_json():
    for api, status in ((ReferenceApi(), 400), (ReferenceApi("server-error-on-bad-json"), 500)):
        assert api.request("PUT", "/devices/d", content=b"{").status_code == status
        assert api.request("PUT", "/devices/d", json=[]).status_code == 400  # JSON, just not an object


def test_fault_list_ignores_top():
    for api, count in ((ReferenceApi(), 1), (ReferenceApi("list-ignores-top"), 2)):
        api.put_device("a")
        api.put_device("b")
        assert len(api.request("GET", "/devices", params={**API, "top": "1"}).json()) == count


def test_fault_update_overwrites_generation_id():
    for api, kept in ((ReferenceApi(), True), (ReferenceApi("update-overwrites-generation-id"), False)):
        created = api.put_device().json()["generationId"]
        assert (api.put_device(body={"generationId": "mine"}).json()["generationId"] == created) is kept


def test_fault_delete_missing_returns_204():
    assert ReferenceApi().delete_device("ghost").status_code == 404
    assert ReferenceApi("delete-missing-returns-204").delete_device("ghost").status_code == 204


def test_fault_no_generated_keys():
    assert ReferenceApi().put_device().json()["authentication"]["symmetricKey"]["primaryKey"]
    api = ReferenceApi("no-generated-keys")
    assert api.put_device().json()["authentication"]["symmetricKey"] == {"primaryKey": None, "secondaryKey": None}


def test_fault_reject_special_device_ids():
    assert ReferenceApi().put_device(SPECIAL_ID).status_code == 200
    api = ReferenceApi("reject-special-device-ids")
    response = api.put_device(SPECIAL_ID)
    assert response.status_code == 400 and response.headers["iothub-errorcode"] == "ArgumentInvalid"
    assert api.put_device("plain1").status_code == 200


def test_fault_stats_missing_field():
    assert "totalDeviceCount" in ReferenceApi().request("GET", "/statistics/devices").json()
    body = ReferenceApi("stats-missing-field").request("GET", "/statistics/devices").json()
    assert "totalDeviceCount" not in body and "totalDevicesByStatus" in body
