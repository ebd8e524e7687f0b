"""Each fault switch changes the reference's behaviour in the way its description says (and the default does not)."""

from __future__ import annotations

import importlib
import pkgutil
import time
import warnings
from urllib.parse import quote

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from iothub_conformance import reference
from iothub_conformance.config import ConfigError
from iothub_conformance.http import sas
from iothub_conformance.reference import FAULTS, Hub, ResourceProvider, create_app, parse_faults
from iothub_conformance.reference.faults import switch
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.reference_api import SURFACE_PREFIXES, faults_breaking

with warnings.catch_warnings():  # Starlette asks for a newer client package; httpx is what this project uses
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

API = {"api-version": "2016-02-03"}
SPECIAL_ID = "a-:.+%_#*?!(),=@;$'b"


class Api:
    """A TestClient for a hub with the given faults, sending the owner's token and the api-version."""

    def __init__(self, *faults: str, profile=IOTHUB):
        self.hub = Hub.create(profile=profile, faults=faults)
        self.client = TestClient(create_app(self.hub), base_url=f"https://{self.hub.host_name}")
        self.token = sas.build_token(self.hub.host_name, self.hub.policies["iothubowner"].key, "iothubowner")

    def request(self, method, url, headers=None, params=API, token=True, **kwargs) -> httpx.Response:
        headers = {**({"Authorization": self.token} if token is True else {}), **(headers or {})}
        return self.client.request(method, url, params=params, headers=headers, **kwargs)

    def put(self, device_id="d", body=None, if_match=None, **kwargs):
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.request("PUT", path(device_id), headers=headers, json={} if body is None else body, **kwargs)

    def get(self, device_id="d", **kwargs):
        return self.request("GET", path(device_id), **kwargs)

    def delete(self, device_id="d", if_match=None, **kwargs):
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.request("DELETE", path(device_id), headers=headers, **kwargs)


def path(device_id: str) -> str:
    return "/devices/" + quote(device_id, safe="")


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
    for api, kept in ((Api(), True), (Api("drop-request-id"), False)):
        assert ("x-ms-request-id" in api.get("ghost").headers) is kept
        assert "x-ms-request-id" in api.put().headers  # successes keep it either way


def test_fault_repeat_request_id():
    for api, distinct in ((Api(), 3), (Api("repeat-request-id"), 1)):
        ids = {api.put().headers["x-ms-request-id"], api.get().headers["x-ms-request-id"],
               api.get("ghost").headers["x-ms-request-id"]}
        assert len(ids) == distinct


def test_fault_accept_missing_api_version():
    assert Api().request("GET", "/devices", params={}).status_code == 400
    api = Api("accept-missing-api-version")
    assert api.request("GET", "/devices", params={}).status_code == 200
    assert api.request("GET", "/devices", params={"api-version": "1999-01-01"}).status_code == 400


def test_fault_accept_any_api_version():
    other = {"api-version": "2099-01-01"}
    assert Api().request("GET", "/devices", params=other).status_code == 400
    api = Api("accept-any-api-version")
    assert api.request("GET", "/devices", params=other).status_code == 200
    assert api.request("GET", "/devices", params={}).status_code == 400


def test_fault_wrong_api_version_error_code():
    for api, code in ((Api(), "InvalidProtocolVersion"), (Api("wrong-api-version-error-code"), "BadRequest")):
        response = api.request("GET", "/devices", params={})
        assert response.status_code == 400 and response.headers["iothub-errorcode"] == code


def test_fault_no_etag_header():
    assert "ETag" in Api().put().headers
    api = Api("no-etag-header")
    assert "ETag" not in api.put().headers and "ETag" not in api.get().headers
    assert api.get().json()["etag"]


def test_fault_unquoted_etag():
    assert Api().put().headers["ETag"].startswith('"')
    api = Api("unquoted-etag")
    header = api.put().headers["ETag"]
    assert header == api.get().json()["etag"]  # no quotes
    assert api.put(if_match=header).status_code == 200  # a client echoing it back is still understood


def test_fault_etag_header_mismatch():
    api = Api("etag-header-mismatch")
    response = api.put()
    assert response.headers["ETag"] != f'"{response.json()["etag"]}"'
    # Either value still works as If-Match, so only the header-equals-body rule notices.
    assert api.put(if_match=api.get().headers["ETag"]).status_code == 200
    assert api.put(if_match=f'"{api.get().json()["etag"]}"').status_code == 200


def test_fault_etag_unchanged_on_write():
    baseline = Api()
    assert baseline.put().json()["etag"] != baseline.put().json()["etag"]
    api = Api("etag-unchanged-on-write")
    first = api.put().json()["etag"]
    assert api.put(body={"status": "disabled"}).json()["etag"] == first


def test_fault_etag_changes_on_read():
    baseline = Api()
    baseline.put()
    assert baseline.get().headers["ETag"] == baseline.get().headers["ETag"]
    api = Api("etag-changes-on-read")
    api.put()
    first, second = api.get(), api.get()
    assert first.headers["ETag"] != second.headers["ETag"]
    assert second.headers["ETag"] == f'"{second.json()["etag"]}"'
    assert api.put(if_match=second.headers["ETag"]).status_code == 200  # the newest one is current


def test_fault_ignore_if_match():
    for api, put_status, delete_status in ((Api(), 412, 412), (Api("ignore-if-match"), 200, 204)):
        api.put()
        assert api.put(body={"status": "disabled"}, if_match='"stale"').status_code == put_status
        assert api.delete(if_match='"stale"').status_code == delete_status


def test_fault_write_before_precondition():
    for api, status in ((Api(), "enabled"), (Api("write-before-precondition"), "disabled")):
        api.put()
        assert api.put(body={"status": "disabled"}, if_match='"stale"').status_code == 412
        assert api.get().json()["status"] == status


def test_fault_weak_if_match_matches():
    for api, status in ((Api(), 412), (Api("weak-if-match-matches"), 200)):
        etag = api.put().json()["etag"]
        assert api.put(if_match=f'W/"{etag}"').status_code == status


def test_fault_reject_if_match_star():
    for api, put_status, delete_status in ((Api(), 200, 204), (Api("reject-if-match-star"), 412, 412)):
        api.put()
        assert api.put(if_match="*").status_code == put_status
        assert api.delete(if_match="*").status_code == delete_status


def test_fault_no_content_type():
    assert Api().put().headers["Content-Type"] == "application/json; charset=utf-8"
    api = Api("no-content-type")
    assert "Content-Type" not in api.put().headers
    assert "Content-Type" not in api.get("ghost").headers


def test_fault_no_auth_required():
    assert Api().request("GET", "/devices", token=False).status_code == 401
    api = Api("no-auth-required")
    assert api.request("GET", "/devices", token=False).status_code == 200
    assert api.request("GET", "/devices", token=False, headers={"Authorization": "junk"}).status_code == 401


def expired(api: Api) -> dict:
    token = sas.build_token(api.hub.host_name, api.hub.policies["iothubowner"].key, "iothubowner",
                            expiry=int(time.time()) - 60)
    return {"Authorization": token}


def test_fault_accept_expired_token():
    for api, status in ((Api(), 401), (Api("accept-expired-token"), 200)):
        assert api.request("GET", "/devices", token=False, headers=expired(api)).status_code == status


def test_fault_skip_signature_check():
    for api, status in ((Api(), 401), (Api("skip-signature-check"), 200)):
        token = sas.build_token(api.hub.host_name, api.hub.policies["service"].key, "iothubowner")
        assert api.request("GET", "/devices", token=False, headers={"Authorization": token}).status_code == status


def test_fault_accept_unknown_policy():
    for api, status in ((Api(), 401), (Api("accept-unknown-policy"), 200)):
        token = sas.build_token(api.hub.host_name, api.hub.policies["iothubowner"].key, "nobody")
        assert api.request("GET", "/devices", token=False, headers={"Authorization": token}).status_code == status


def test_fault_ignore_token_audience():
    for api, status in ((Api(), 401), (Api("ignore-token-audience"), 200)):
        token = sas.build_token("other-hub.azure-devices.net", api.hub.policies["iothubowner"].key, "iothubowner")
        assert api.request("GET", "/devices", token=False, headers={"Authorization": token}).status_code == status


def test_fault_create_returns_200():
    assert Api(profile=DOCS_STRICT).put().status_code == 201
    assert Api("create-returns-200", profile=DOCS_STRICT).put().status_code == 200


def test_fault_error_envelope_plain():
    api = Api("error-envelope-plain")
    response = api.get("ghost")
    assert response.status_code == 404 and response.text == "error"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "iothub-errorcode" not in response.headers
    assert "iothub-errorcode" in Api().get("ghost").headers


def test_fault_server_error_on_bad_json():
    for api, status in ((Api(), 400), (Api("server-error-on-bad-json"), 500)):
        assert api.request("PUT", path("d"), content=b"{").status_code == status
        assert api.request("PUT", path("d"), json=[]).status_code == 400  # JSON, just not an object


def test_fault_list_ignores_top():
    for api, count in ((Api(), 1), (Api("list-ignores-top"), 2)):
        api.put("a")
        api.put("b")
        assert len(api.request("GET", "/devices", params={**API, "top": "1"}).json()) == count


def test_fault_update_overwrites_generation_id():
    for api, kept in ((Api(), True), (Api("update-overwrites-generation-id"), False)):
        created = api.put().json()["generationId"]
        assert (api.put(body={"generationId": "mine"}).json()["generationId"] == created) is kept


def test_fault_delete_missing_returns_204():
    assert Api().delete("ghost").status_code == 404
    assert Api("delete-missing-returns-204").delete("ghost").status_code == 204


def test_fault_no_generated_keys():
    assert Api().put().json()["authentication"]["symmetricKey"]["primaryKey"]
    api = Api("no-generated-keys")
    assert api.put().json()["authentication"]["symmetricKey"] == {"primaryKey": None, "secondaryKey": None}


def test_fault_reject_special_device_ids():
    assert Api().put(SPECIAL_ID).status_code == 200
    api = Api("reject-special-device-ids")
    response = api.put(SPECIAL_ID)
    assert response.status_code == 400 and response.headers["iothub-errorcode"] == "ArgumentInvalid"
    assert api.put("plain1").status_code == 200


def test_fault_stats_missing_field():
    assert "totalDeviceCount" in Api().request("GET", "/statistics/devices").json()
    body = Api("stats-missing-field").request("GET", "/statistics/devices").json()
    assert "totalDeviceCount" not in body and "totalDevicesByStatus" in body
