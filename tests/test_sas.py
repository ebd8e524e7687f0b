"""SAS signing, tokens and connection strings (INVENTORY §5), against vectors computed outside this project.

The expected signatures were computed with openssl:
    printf '<sr>\\n1456973447' | openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex of the key bytes> -binary | base64
"""

from __future__ import annotations

import pytest

from iothub_conformance.config import ConfigError
from iothub_conformance.http import sas

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of b"0123456789abcdef0123456789abcdef"
OTHER_KEY = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="  # base64 of b"fedcba9876543210fedcba9876543210"
EXPIRY = 1456973447
HUB_SIG = "+4qbW21BGBZ7UCVR75bJWdrnbmAJSmNmvEMIDGJxF/Y="
DEVICE_SIG = "F1b1UA9nUNnKmzdX4urLfQcmFS3uT/st0iQzDwTFyPg="
HUB_TOKEN = ("SharedAccessSignature sr=myhub.azure-devices.net&sig=%2B4qbW21BGBZ7UCVR75bJWdrnbmAJSmNmvEMIDGJxF%2FY%3D"
             "&se=1456973447&skn=iothubowner")
DEVICE_TOKEN = ("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdevice1"
                "&sig=F1b1UA9nUNnKmzdX4urLfQcmFS3uT%2Fst0iQzDwTFyPg%3D&se=1456973447")


# -- sign / build_token -----------------------------------------------------------------------------------------------

def test_sign_hub_uri_matches_the_known_vector():
    assert sas.sign("myhub.azure-devices.net", EXPIRY, KEY) == HUB_SIG


def test_sign_device_uri_matches_the_known_vector():
    assert sas.sign("myhub.azure-devices.net%2Fdevices%2Fdevice1", EXPIRY, KEY) == DEVICE_SIG


def test_sign_accepts_the_expiry_as_text():
    assert sas.sign("myhub.azure-devices.net", str(EXPIRY), KEY) == HUB_SIG


def test_sign_depends_on_the_key():
    assert sas.sign("myhub.azure-devices.net", EXPIRY, OTHER_KEY) != HUB_SIG


def test_policy_token_matches_the_known_vector():
    assert sas.build_token("MyHub.azure-devices.net", KEY, "iothubowner", expiry=EXPIRY) == HUB_TOKEN


def test_device_token_matches_the_known_vector():
    token = sas.build_token("myhub.azure-devices.net/devices/device1", KEY, expiry=EXPIRY)
    assert token == DEVICE_TOKEN
    assert "skn=" not in token


def test_device_token_lower_cases_the_resource():
    assert sas.build_token("MyHub.Azure-Devices.net/devices/Device1", KEY, expiry=EXPIRY) == DEVICE_TOKEN


def test_token_without_expiry_expires_after_the_ttl(monkeypatch):
    monkeypatch.setattr(sas.time, "time", lambda: 1000.5)
    assert sas.parse_token(sas.build_token("h", KEY, ttl=60)).se == 1060


# -- parse_token / signature_valid ------------------------------------------------------------------------------------

def test_parse_policy_token():
    token = sas.parse_token(HUB_TOKEN)
    assert token == sas.Token(sr="myhub.azure-devices.net", sig=HUB_SIG, se=EXPIRY, skn="iothubowner")
    assert token.resource_uri == "myhub.azure-devices.net"


def test_parse_device_token():
    token = sas.parse_token(DEVICE_TOKEN)
    assert token.sr == "myhub.azure-devices.net%2Fdevices%2Fdevice1"
    assert token.resource_uri == "myhub.azure-devices.net/devices/device1"
    assert token.sig == DEVICE_SIG
    assert token.se == EXPIRY
    assert token.skn is None


def test_parse_token_accepts_fields_in_any_order():
    reordered = ("SharedAccessSignature sig=%2B4qbW21BGBZ7UCVR75bJWdrnbmAJSmNmvEMIDGJxF%2FY%3D&se=1456973447"
                 "&skn=iothubowner&sr=myhub.azure-devices.net")
    assert sas.parse_token(reordered) == sas.parse_token(HUB_TOKEN)


@pytest.mark.parametrize("token", [HUB_TOKEN, DEVICE_TOKEN])
def test_signature_is_valid_with_the_key(token):
    assert sas.signature_valid(sas.parse_token(token), KEY)


@pytest.mark.parametrize("token", [HUB_TOKEN, DEVICE_TOKEN])
def test_signature_is_invalid_with_another_key(token):
    assert not sas.signature_valid(sas.parse_token(token), OTHER_KEY)


def test_signature_is_invalid_for_another_resource():
    token = sas.parse_token(HUB_TOKEN.replace("sr=myhub.", "sr=otherhub."))
    assert not sas.signature_valid(token, KEY)


def test_signature_is_invalid_for_another_expiry():
    token = sas.parse_token(HUB_TOKEN.replace("se=1456973447", "se=1456973448"))
    assert not sas.signature_valid(token, KEY)


@pytest.mark.parametrize("header", [
    "",
    HUB_TOKEN[len("SharedAccessSignature "):],
    "Bearer " + HUB_TOKEN[len("SharedAccessSignature "):],
    "sharedaccesssignature " + HUB_TOKEN[len("SharedAccessSignature "):],
])
def test_parse_token_rejects_a_missing_prefix(header):
    with pytest.raises(sas.TokenError):
        sas.parse_token(header)


@pytest.mark.parametrize("field", ["sr", "sig", "se"])
def test_parse_token_rejects_a_missing_field(field):
    parts = [p for p in HUB_TOKEN[len("SharedAccessSignature "):].split("&") if not p.startswith(f"{field}=")]
    with pytest.raises(sas.TokenError):
        sas.parse_token("SharedAccessSignature " + "&".join(parts))


@pytest.mark.parametrize("se", ["soon", "-1", "1456973447.5", "", "1e9"])
def test_parse_token_rejects_a_non_numeric_expiry(se):
    with pytest.raises(sas.TokenError):
        sas.parse_token(HUB_TOKEN.replace("se=1456973447", f"se={se}"))


@pytest.mark.parametrize("field", ["sr=otherhub.azure-devices.net", "sig=AAAA", "se=1", "skn=device"])
def test_parse_token_rejects_a_duplicate_field(field):
    with pytest.raises(sas.TokenError):
        sas.parse_token(f"{HUB_TOKEN}&{field}")


def test_parse_token_rejects_a_field_without_a_value_separator():
    with pytest.raises(sas.TokenError):
        sas.parse_token(HUB_TOKEN + "&junk")


def test_token_error_is_a_value_error():
    assert issubclass(sas.TokenError, ValueError)


# -- scope_covers -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("scope", "resource"), [
    ("h/a/b", "h/a/b/c"),
    ("h/a/b", "h/a/b"),
    ("h/a/b/", "h/a/b"),
    ("h/a/b", "h/a/b/"),
    ("H/A/B", "h/a/b/c"),
    ("h/a/b", "H/A/B/C"),
    ("myhub.azure-devices.net", "myhub.azure-devices.net/devices/device1"),
])
def test_scope_covers_itself_and_what_lies_below(scope, resource):
    assert sas.scope_covers(scope, resource)


@pytest.mark.parametrize(("scope", "resource"), [
    ("h/a/b", "h/a/bc"),
    ("h/a/b", "h/a"),
    ("h/a/b/c", "h/a/b"),
    ("myhub.azure-devices.net", "myhub.azure-devices.net.evil.example"),
    ("myhub.azure-devices.net/devices/device1", "myhub.azure-devices.net/devices/device10"),
])
def test_scope_does_not_cover_a_sibling_or_a_parent(scope, resource):
    assert not sas.scope_covers(scope, resource)


# -- connection strings -----------------------------------------------------------------------------------------------

SERVICE = f"HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
DEVICE = f"HostName=myhub.azure-devices.net;DeviceId=device1;SharedAccessKey={KEY}"


def test_parse_a_service_connection_string():
    connection = sas.parse_connection_string(SERVICE)
    assert connection == sas.ConnectionString("myhub.azure-devices.net", KEY, "iothubowner", None)
    assert connection.hub_name == "myhub"


def test_parse_a_service_connection_string_in_another_order_with_spaces_and_a_trailing_semicolon():
    text = f" SharedAccessKey={KEY} ; SharedAccessKeyName = iothubowner;HostName=myhub.azure-devices.net; "
    assert sas.parse_connection_string(text) == sas.parse_connection_string(SERVICE)


def test_parse_a_device_connection_string():
    connection = sas.parse_connection_string(DEVICE)
    assert connection.host_name == "myhub.azure-devices.net"
    assert connection.device_id == "device1"
    assert connection.key_name is None
    assert connection.key == KEY


def test_str_round_trips():
    for text in (SERVICE, DEVICE):
        assert sas.parse_connection_string(str(sas.parse_connection_string(text))) == sas.parse_connection_string(text)


@pytest.mark.parametrize("text", [
    "",
    "   ",
    ";;",
    f"SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}",
    f"HostName=;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}",
    "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner",
    "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=",
    f"HostName=myhub.azure-devices.net;SharedAccessKey={KEY}",
    "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=not base64!",
    "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=MDEy*",
    f"HostName=https://myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}",
    f"HostName=myhub.azure-devices.net/devices;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}",
    f"HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;{KEY}",
    f"HostName=myhub.azure-devices.net;=x;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}",
], ids=["empty", "blank", "separators-only", "no-host", "empty-host", "no-key", "empty-key", "no-key-name-or-device",
        "key-not-base64", "key-bad-char", "host-with-scheme", "host-with-path", "segment-without-name",
        "empty-name"])
def test_malformed_connection_strings_are_config_errors(text):
    with pytest.raises(ConfigError, match="malformed connection string"):
        sas.parse_connection_string(text)


def test_none_is_a_config_error():
    with pytest.raises(ConfigError):
        sas.parse_connection_string(None)


@pytest.mark.parametrize("text", [SERVICE, DEVICE])
def test_repr_never_shows_the_key(text):
    connection = sas.parse_connection_string(text)
    assert KEY not in repr(connection)
    assert KEY[:12] not in repr(connection)
    assert "<redacted>" in repr(connection)
    assert "myhub.azure-devices.net" in repr(connection)


def test_repr_of_a_container_never_shows_the_key():
    connection = sas.parse_connection_string(SERVICE)
    assert KEY not in repr([connection]) and KEY not in repr({"c": connection}) and KEY not in f"{connection!r}"


def test_str_is_the_connection_string():
    assert str(sas.parse_connection_string(SERVICE)) == SERVICE
    assert str(sas.parse_connection_string(DEVICE)) == DEVICE
