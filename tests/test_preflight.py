"""The preflight: one read with the connection string's own credentials before any test. Refused credentials, a
redirect, throttling or a 5xx end the run in one line (exit 2); a plain 404 for the unknown device lets it go on."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import respx

from iothub_conformance.config import Settings
from iothub_conformance.targets.preflight import PreflightError
from iothub_conformance.targets.resolve import resolve
from tests.support.suite_runs import ROOT

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
CS = f"HostName=myhub.azure-devices.net;SharedAccessKeyName=registryReadWrite;SharedAccessKey={KEY}"
URL = "http://127.0.0.1:8080"


def _preflight(response: httpx.Response | Exception, **settings):
    target = resolve(Settings(target_url=URL, connection_string=CS, retry_wait=1, **settings), run_id="r1")
    try:
        with respx.mock(base_url=URL) as mock:
            route = mock.get(path__startswith="/devices/")
            route.mock(side_effect=response) if isinstance(response, Exception) else route.mock(return_value=response)
            target.probe()
        return route
    finally:
        target.close()


def test_a_404_for_the_unknown_device_passes_and_is_the_only_request():
    route = _preflight(httpx.Response(404, json={"Message": "ErrorCode:DeviceNotFound;…"}))
    assert route.call_count == 1
    request = route.calls[0].request
    assert request.method == "GET" and request.url.path == "/devices/conf-r1-preflight"
    assert request.headers["Authorization"].startswith("SharedAccessSignature ")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_name_the_policy(status):
    with pytest.raises(PreflightError, match=rf"refused the connection string's credentials \(policy "
                                             rf"'registryReadWrite'\).*→ {status}, IotHubUnauthorizedAccess"):
        _preflight(httpx.Response(status, headers={"iothub-errorcode": "IotHubUnauthorizedAccess"}))


def test_a_redirect_names_where_it_points():
    with pytest.raises(PreflightError, match="redirects .*→ 302 to https://login.example/.*give --target the URL"):
        _preflight(httpx.Response(302, headers={"Location": "https://login.example/sso"}))


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_ends_the_run(status):
    with pytest.raises(PreflightError, match=f"fails a plain read .*→ {status}"):
        _preflight(httpx.Response(status))


def test_an_unreachable_target_is_one_line():
    with pytest.raises(PreflightError, match=r"target unreachable: http://127.0.0.1:8080 \(ConnectError"):
        _preflight(httpx.ConnectError("refused"))


def test_the_resource_provider_is_probed_with_its_token():
    target = resolve(Settings(target_url=URL, connection_string=CS, rp_url="https://arm.example", rp_token="t0k",
                              rp_subscription="s", rp_resource_group="g"), run_id="r1")
    try:
        with respx.mock() as mock:
            mock.get(url__startswith=f"{URL}/devices/").respond(404)
            arm = mock.get(url__startswith="https://arm.example/subscriptions/s/resourceGroups/g/").respond(401)
            with pytest.raises(PreflightError, match=r"resource provider https://arm.example refused the --rp-token"):
                target.probe()
        assert arm.calls[0].request.headers["Authorization"] == "Bearer t0k"
    finally:
        target.close()


def test_a_wrong_key_against_a_served_reference_is_one_line_and_exit_2(served_hub):
    wrong = served_hub.connection_string.replace("SharedAccessKey=", "SharedAccessKey=AAAA", 1)
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--target", served_hub.url,
                           "--connection-string", wrong], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "refused the connection string's credentials (policy 'iothubowner')" in done.stderr
