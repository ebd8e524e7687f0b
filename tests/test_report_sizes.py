"""What a target sends is cut before it reaches a message, the evidence, the terminal or the bundle: 2 KB of a body or
line, with its full size said, and about 64 KB of a whole message or captured section."""

import base64
import json

import pytest

from iothub_conformance.evidence.text import LIMIT, bounded, excerpt
from tests.support import hostile, junit_schema
from tests.support.suite_runs import run_suite

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

KEY = base64.b64encode(b"report-sizes-test-secret-key-32b").decode()
CONNECTION_STRING = f"HostName=big.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
MB = 1024 * 1024


def test_excerpt_keeps_2_kb_and_says_the_full_size():
    body = b"a" * (50 * MB)
    cut = excerpt(body)
    assert cut == "a" * LIMIT + "… (52,428,800 bytes, first 2,048 shown)"
    assert excerpt("é" * 3000, 10) == "é" * 10 + "… (3,000 characters, first 10 shown)"
    assert excerpt(b"short") == "short" and excerpt(b"") == "" and excerpt(None) == ""
    assert excerpt(b"\xff\xfe ok") == "\ufffd\ufffd ok"  # invalid UTF-8 is never an exception


def test_excerpt_redacts_before_it_cuts_so_no_part_of_a_secret_shows():
    text = "a" * (LIMIT - 8) + f"SharedAccessKey={KEY};" + "b" * 5000
    cut = excerpt(text)
    assert KEY[:6] not in cut and cut.startswith("a" * (LIMIT - 8) + "SharedAc")
    assert excerpt(f"x {KEY} y") == "x <redacted> y"


def test_bounded_cuts_each_line_and_the_whole_keeping_both_ends():
    one_line = bounded("E   AssertionError: " + "x" * (50 * MB))
    assert len(one_line) < 3 * LIMIT and "(52,428,820 characters, first 2,048 shown)" in one_line
    many = "\n".join(f"line {n}" for n in range(200_000))
    cut = bounded(many)
    assert len(cut) < 70 * 1024 and cut.startswith("line 0\n") and cut.endswith("line 199999")
    assert "lines cut" in cut
    assert bounded("a\nb") == "a\nb" and bounded("") == "" and bounded(None) == ""


BIG_SUITE = '''
import logging

import pytest

BIG = "x" * 50_000_000


@pytest.mark.requirement("COMMON-SPEC-001")
def test_a_failure_that_quotes_a_50_mb_body():
    print(BIG)
    logging.getLogger("suite").warning("a body: %s", BIG)
    assert False, f"[COMMON-SPEC-001] the body: {{BIG}} SharedAccessKey={key};"
'''


def test_a_failure_quoting_50_mb_reaches_no_file_and_no_terminal_whole(tmp_path):
    module = tmp_path / "big_suite" / "test_big.py"
    module.parent.mkdir()
    module.write_text(BIG_SUITE.format(key=KEY), encoding="utf-8")
    run = run_suite(tmp_path / "report", "-rA", "--log-level=INFO", suites=str(module))
    assert run.code == 1, run.output[-2000:]
    sizes = {p.name: p.stat().st_size for p in (tmp_path / "report").iterdir()}
    print(f"bundle bytes {sizes}, terminal characters {len(run.output):,}")
    assert all(size < 1 * MB for size in sizes.values()), sizes
    assert len(run.output) < 1 * MB
    assert "(50,000,000 characters, first 2,048 shown)" in run.output
    data = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    detail = next(r["detail"] for r in data["requirements"] if r["id"] == "COMMON-SPEC-001")
    assert detail.startswith("[COMMON-SPEC-001] the body: xxx") and "characters, first 2,048 shown)" in detail
    junit_schema.validate(tmp_path / "report" / "junit.xml")
    for name in sizes:
        assert KEY not in (tmp_path / "report" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("max_body", [None, "64MB"], ids=["default-cap", "64MB-cap"])
def test_a_target_sending_50_mb_bodies_leaves_a_small_bundle(tmp_path, max_body):
    extra = ["--iothub-max-body", max_body] if max_body else []
    with hostile.serve("bodies-50mb") as url:
        run = run_suite(tmp_path / "report", "--iothub-target", url, "--iothub-connection-string", CONNECTION_STRING,
                        "--iothub-no-preflight", "-k", "create or round_trip", *extra, examples=1,
                        suites="suites/test_device_identities.py")
    assert run.code == 1, run.output[-2000:]
    files = [p for p in (tmp_path / "report").rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    print(f"max body {max_body or 'default'}: bundle {total:,} bytes in {len(files)} files, "
          f"terminal {len(run.output):,} characters")
    assert total < 20 * MB and len(run.output) < 2 * MB
    data = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    bodies = [e["response_body"] for r in data["requirements"] for ev in r["evidence"] for e in ev["exchanges"]]
    assert all(len(b) < LIMIT + 100 for b in bodies)
    if max_body:  # the bodies were read: the evidence shows their beginning and says their size
        assert any("(52,428,800 bytes, first 2,048 shown)" in b for b in bodies), bodies[:2]
