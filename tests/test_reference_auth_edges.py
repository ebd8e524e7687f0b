"""Hostile Authorization headers: the reference answers 401 and logs nothing at ERROR, whatever the token holds."""

from __future__ import annotations

import logging
import time
from urllib.parse import quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iothub_conformance.http import sas
from tests.support.reference_api import OWNER, ReferenceApi

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

# One hub for the module: EDGE_CASES are signed with its owner key when the module is collected.
REFERENCE = ReferenceApi()
HUB = REFERENCE.hub
OWNER_KEY = HUB.policies[OWNER].key


def good_fields() -> dict[str, str]:
    se = str(int(time.time()) + 3600)
    sr = quote_plus(HUB.host_name)
    return {"sr": sr, "sig": quote_plus(sas.sign(sr, se, OWNER_KEY)), "se": se, "skn": OWNER}


def token_of(fields: list[tuple[str, str]]) -> str:
    return sas.PREFIX + "&".join(f"{name}={value}" for name, value in fields)


def answer(header: bytes | str) -> int:
    raw = header if isinstance(header, bytes) else header.encode("latin-1", "replace")
    # Headers go as bytes, so a value that is not latin-1 text reaches the server as the bytes a client would send.
    return REFERENCE.request("GET", "/devices", token=None, headers={"authorization": raw}).status_code


@pytest.fixture
def errors_logged(caplog):
    caplog.set_level(logging.WARNING)
    yield lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_good_token_is_accepted():
    # The baseline the edge cases below depart from: without it every 401 would prove nothing.
    assert answer(token_of(list(good_fields().items()))) == 200


def edge(**changes: str) -> str:
    fields = good_fields()
    fields.update(changes)
    return token_of(list(fields.items()))


EDGE_CASES = {
    "se of 5,000 digits": edge(se="9" * 5000),
    "se of 20 digits": edge(se="9" * 20),
    "se negative": edge(se="-1"),
    "se fractional": edge(se="1.5"),
    "se in exponent form": edge(se="1e12"),
    "se with non-ASCII digits": edge(se="\u0663\u0664"),
    "se empty": edge(se=""),
    "sig percent-encoded non-ASCII": edge(sig="%C3%A9%C3%A9"),
    "sig latin-1 text": edge(sig="\xe9\xe9\xe9"),
    "sig not base64": edge(sig="!!!not-base64!!!"),
    "sig empty": edge(sig=""),
    "sr percent garbage": edge(sr="%ZZ%%%"),
    "sr empty": edge(sr=""),
    "skn percent garbage": edge(skn="%ff%fe%"),
    "skn empty": edge(skn=""),
    "a duplicated field": edge() + "&se=1",
    "an empty field": edge() + "&",
    "a field without =": edge() + "&sig",
    "a 64 KB sig": edge(sig="A" * 65536),
    "a 64 KB sr": edge(sr="a" * 65536),
    "nothing after the prefix": sas.PREFIX,
    "only separators": sas.PREFIX + "&&&===",
}


@pytest.mark.parametrize("header", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_a_malformed_token_is_401_and_logs_no_error(header, errors_logged):
    assert answer(header) == 401
    assert errors_logged() == []


def test_utf8_bytes_in_the_header_are_401(errors_logged):
    fields = good_fields()
    raw = token_of(list(fields.items())).replace("sig=", "sig=\u00e9\u4e2d").encode("utf-8")
    assert answer(raw) == 401
    assert errors_logged() == []


def test_a_long_expiry_is_a_token_error_not_a_crash():
    with pytest.raises(sas.TokenError, match="digits"):
        sas.parse_token(edge(se="1" * (sas.MAX_EXPIRY_DIGITS + 1)))
    assert sas.parse_token(edge(se="1" * sas.MAX_EXPIRY_DIGITS)).se == int("1" * sas.MAX_EXPIRY_DIGITS)


def test_a_non_ascii_signature_is_simply_invalid():
    token = sas.parse_token(edge(sig="%C3%A9"))
    assert sas.signature_valid(token, OWNER_KEY) is False


# -- fuzzing: every field valid, garbage, missing or repeated --------------------------------------------------------

GARBAGE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="&"), max_size=40)
LONG_DIGITS = st.integers(min_value=20, max_value=6000).map(lambda n: "9" * n)


@st.composite
def tokens(draw) -> tuple[str, bool]:
    """A header and whether it is the good token (each field exactly once, unchanged, in any order)."""
    good = good_fields()
    fields: list[tuple[str, str]] = []
    intact = True
    for name, value in good.items():
        how = draw(st.sampled_from(["keep", "keep", "garbage", "drop", "repeat", "long"]))
        if how == "keep":
            fields.append((name, value))
        elif how == "garbage":
            junk = draw(GARBAGE)
            fields.append((name, junk))
            intact = intact and junk == value
        elif how == "long":
            fields.append((name, draw(LONG_DIGITS)))
            intact = False
        elif how == "repeat":
            fields += [(name, value), (name, draw(GARBAGE))]
            intact = False
        else:
            intact = False
    order = draw(st.permutations(range(len(fields))))
    return token_of([fields[i] for i in order]), intact


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens())
def test_fuzzed_tokens_are_401_unless_intact(errors_logged, case):
    header, intact = case
    assert answer(header) == (200 if intact else 401)
    assert errors_logged() == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300).filter(lambda raw: b"\r" not in raw and b"\n" not in raw and b"\0" not in raw))
def test_any_header_bytes_are_401(errors_logged, raw):
    # httpx refuses header values with surrounding whitespace; the server would strip them anyway.
    raw = raw.strip(b" \t") or b"x"
    assert answer(raw) == 401
    assert errors_logged() == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300).filter(lambda raw: b"\r" not in raw and b"\n" not in raw and b"\0" not in raw))
def test_any_bytes_after_the_prefix_are_401(errors_logged, raw):
    assert answer(sas.PREFIX.encode() + raw.strip(b" \t")) == 401
    assert errors_logged() == []
