"""Content-Type of JSON bodies and the 401 for a request without Authorization."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from iothub_conformance.checks import headers
from iothub_conformance.checks.context import Context
from tests.support.failures import only

BASE = "https://hub.example"
API = {"api-version": "2016-02-03"}
DEVICE = json.dumps({"deviceId": "d1", "etag": "e1"}).encode()


def exchange(status: int = 200, content: bytes = b"", response_headers: dict | None = None,
             method: str = "GET", path: str = "/devices/d1") -> httpx.Response:
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path=path).respond(status, headers=response_headers or {}, content=content)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, path, params=API)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json",
                                          "Application/JSON; charset=utf-8"])
def test_json_body_with_json_content_type_passes(content_type):
    assert headers.verify_content_type(exchange(content=DEVICE, response_headers={"Content-Type": content_type}),
                                       Context()) == []


def test_json_body_via_respx_json_passes():
    with respx.mock(base_url=BASE) as mock:
        mock.get("/devices/d1").respond(200, json={"deviceId": "d1"})
        response = httpx.Client(base_url=BASE).get("/devices/d1")
    assert headers.verify_content_type(response, Context()) == []


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "application/xml",
                                          "application/jsonx"])
def test_json_body_with_another_content_type_fails(content_type):
    only(headers.verify_content_type(exchange(content=DEVICE, response_headers={"Content-Type": content_type}), Context()),
         "COMMON-HDR-001")


FEEDBACK = json.dumps([{"originalMessageId": "m1", "statusCode": "Success", "deviceId": "d1"}]).encode()


@pytest.mark.parametrize("path", ["/messages/serviceBound/feedback", "/messages/servicebound/feedback"])
def test_a_feedback_batch_may_declare_the_feedback_media_type(path):
    media = {"Content-Type": "application/vnd.microsoft.iothub.feedback.json"}
    assert headers.verify_content_type(exchange(content=FEEDBACK, response_headers=media, path=path), Context()) == []


def test_the_feedback_media_type_elsewhere_fails():
    media = {"Content-Type": "application/vnd.microsoft.iothub.feedback.json"}
    only(headers.verify_content_type(exchange(content=DEVICE, response_headers=media), Context()), "COMMON-HDR-001")


def test_json_body_without_content_type_fails():
    response = exchange(content=DEVICE)
    assert "content-type" not in response.headers
    only(headers.verify_content_type(response, Context()), "COMMON-HDR-001", r".*None")


def test_json_error_body_with_text_content_type_fails():
    body = json.dumps({"Message": "ErrorCode:DeviceNotFound;x", "ExceptionMessage": "y"}).encode()
    only(headers.verify_content_type(exchange(404, content=body, response_headers={"Content-Type": "text/plain"}),
                                     Context()), "COMMON-HDR-001")


@pytest.mark.parametrize("content", [b"", b"  \r\n"])
def test_empty_body_passes(content):
    assert headers.verify_content_type(exchange(204, content=content, method="DELETE"), Context()) == []
    assert headers.verify_content_type(exchange(200, content=content, response_headers={"Content-Type": "text/plain"}),
                                       Context()) == []


def test_non_json_body_is_not_checked():
    response = exchange(500, content=b"Internal error", response_headers={"Content-Type": "text/plain"})
    assert headers.verify_content_type(response, Context()) == []


def test_unauthenticated_request_answered_401_passes():
    assert headers.verify_unauthenticated(exchange(401, content=b'{"Message":"ErrorCode:IotHubUnauthorizedAccess;x"}',
                                                   response_headers={"Content-Type": "application/json"}), Context()) == []


@pytest.mark.parametrize("status", [200, 403, 404])
def test_unauthenticated_request_not_answered_401_fails(status):
    only(headers.verify_unauthenticated(exchange(status, content=DEVICE), Context()), "COMMON-AUTH-001", f"→ {status}")
