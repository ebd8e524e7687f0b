"""Content-Type of JSON bodies and the 401 for a request without Authorization."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from iothub_conformance.checks import headers

BASE = "https://hub.example"
API = {"api-version": "2016-02-03"}
DEVICE = json.dumps({"deviceId": "d1", "etag": "e1"}).encode()


def exchange(status: int = 200, content: bytes = b"", response_headers: dict | None = None,
             method: str = "GET") -> httpx.Response:
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path="/devices/d1").respond(status, headers=response_headers or {},
                                                              content=content)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, "/devices/d1", params=API)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json",
                                          "Application/JSON; charset=utf-8"])
def test_json_body_with_json_content_type_passes(content_type):
    headers.verify_content_type(exchange(content=DEVICE, response_headers={"Content-Type": content_type}))


def test_json_body_via_respx_json_passes():
    with respx.mock(base_url=BASE) as mock:
        mock.get("/devices/d1").respond(200, json={"deviceId": "d1"})
        response = httpx.Client(base_url=BASE).get("/devices/d1")
    headers.verify_content_type(response)


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "application/xml",
                                          "application/jsonx"])
def test_json_body_with_another_content_type_fails(content_type):
    with pytest.raises(AssertionError, match=r"^\[COMMON-HDR-001\]"):
        headers.verify_content_type(exchange(content=DEVICE, response_headers={"Content-Type": content_type}))


def test_json_body_without_content_type_fails():
    response = exchange(content=DEVICE)
    assert "content-type" not in response.headers
    with pytest.raises(AssertionError, match=r"^\[COMMON-HDR-001\].*None"):
        headers.verify_content_type(response)


def test_json_error_body_with_text_content_type_fails():
    body = json.dumps({"Message": "ErrorCode:DeviceNotFound;x", "ExceptionMessage": "y"}).encode()
    with pytest.raises(AssertionError, match=r"^\[COMMON-HDR-001\]"):
        headers.verify_content_type(exchange(404, content=body, response_headers={"Content-Type": "text/plain"}))


@pytest.mark.parametrize("content", [b"", b"  \r\n"])
def test_empty_body_passes(content):
    headers.verify_content_type(exchange(204, content=content, method="DELETE"))
    headers.verify_content_type(exchange(200, content=content, response_headers={"Content-Type": "text/plain"}))


def test_non_json_body_is_not_checked():
    response = exchange(500, content=b"Internal error", response_headers={"Content-Type": "text/plain"})
    headers.verify_content_type(response)


def test_unauthenticated_request_answered_401_passes():
    assert headers.verify_unauthenticated(exchange(401, content=b'{"Message":"ErrorCode:IotHubUnauthorizedAccess;x"}',
                                                   response_headers={"Content-Type": "application/json"})) == []


@pytest.mark.parametrize("status", [200, 403, 404])
def test_unauthenticated_request_not_answered_401_fails(status):
    failures = headers.verify_unauthenticated(exchange(status, content=DEVICE))
    assert len(failures) == 1
    assert failures[0].startswith("[COMMON-AUTH-001]")
    assert f"→ {status}" in failures[0]
