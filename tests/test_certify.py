"""Certification runs: the product is named, a MUST requirement skipped for a reason the profile does not give is
refused, and the bundle is sealed with a digest of every file in it."""

import hashlib
import json

import pytest

from iothub_conformance.config import ConfigError
from iothub_conformance.report import certify
from tests.support.certified import PRODUCT, cli

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)



def results(*rows) -> dict:
    return {"profile": "iothub", "api_version": "2016-02-03",
            "requirements": [{"id": i, "level": level, "status": status, "detail": detail}
                             for i, level, status, detail in rows]}


def test_a_skip_the_profile_decides_is_allowed_and_any_other_must_skip_is_refused():
    judged = certify.judge(results(
        ("A-X-001", "MUST", "pass", ""),
        ("A-X-002", "MUST", "skip", "profile iothub takes no position on create_if_match_star: …"),
        ("A-X-003", "MUST", "skip", "import/export jobs need a blob container: pass --blob-container …"),
        ("A-X-004", "SHOULD", "skip", "no test ran"),
    ))
    assert judged.verdict == "refused" and [r["id"] for r in judged.refused] == ["A-X-003"]
    assert judged.must == {"pass": 1, "fail": 0, "error": 0, "skip (profile)": 1, "skip (refused)": 1,
                           "not reached": 0}


def test_a_skip_named_for_another_profile_is_not_this_profiles_reason():
    judged = certify.judge(results(("A-X-001", "MUST", "skip", "profile docs-strict takes no position on x")))
    assert judged.verdict == "refused"


@pytest.mark.parametrize(("rows", "verdict"), [
    ((("A-X-001", "MUST", "pass", ""),), "conformant"),
    ((("A-X-001", "MUST", "fail", "[A-X-001] …"),), "not conformant"),
    ((("A-X-001", "SHOULD", "fail", "[A-X-001] …"),), "conformant"),
])
def test_verdict_follows_the_must_requirements(rows, verdict):
    assert certify.judge(results(*rows)).verdict == verdict


def test_an_incomplete_run_is_never_conformant_and_counts_what_it_did_not_reach():
    data = results(("A-X-001", "MUST", "pass", ""),
                   ("A-X-002", "MUST", "skip", "not reached: the run ended early (interrupted (signal SIGTERM))"))
    assert certify.judge(data).verdict == "refused"  # a complete-looking file with an untested MUST: refused
    data.update(complete=False, incomplete="interrupted (signal SIGTERM)")
    judged = certify.judge(data)
    assert judged.verdict == "incomplete" and judged.incomplete == "interrupted (signal SIGTERM)"
    assert judged.unreached == ["A-X-002"] and judged.refused == []
    assert judged.must["pass"] == 1 and judged.must["not reached"] == 1
    data["requirements"].pop()  # even when everything it reached passed
    assert certify.judge(data).verdict == "incomplete"


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"), ("not json", "not a JSON file"), ("[]", "JSON object"),
    (json.dumps({**PRODUCT, "vendor": " "}), "fill in vendor"),
])
def test_a_bad_product_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "product.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        certify.read_product(path)


def test_without_a_product_file_a_template_is_left_and_never_over_the_users_file(tmp_path):
    with pytest.raises(ConfigError, match="fill in the template"):
        certify.start(None, "https://hub", tmp_path)
    written = json.loads((tmp_path / "product.json").read_text())
    assert set(certify.FIELDS) <= set(written) and written["endpoint"] == "https://hub"
    (tmp_path / "product.json").write_text("mine")
    with pytest.raises(ConfigError, match="--product"):
        certify.start(None, "https://hub", tmp_path)
    assert (tmp_path / "product.json").read_text() == "mine"


def test_seal_lists_every_file_so_a_change_shows(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_text("x")
    lines = certify.seal(tmp_path).read_text().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == {"results.json", "sub/x.txt"}
    assert listed["results.json"] == hashlib.sha256(b"{}").hexdigest()
    (tmp_path / "results.json").write_text('{"tampered": 1}')
    assert hashlib.sha256((tmp_path / "results.json").read_bytes()).hexdigest() != listed["results.json"]


def test_certify_run_on_the_reference_is_conformant_and_sealed(certified_run):
    # The whole suite, certified, on Azurite storage: tests/support/certified.py (made once, also read by
    # tests/test_suite_on_reference.py).
    assert certified_run.code == 0, certified_run.output[-4000:]
    assert "certification: conformant" in certified_run.output
    bundle = certified_run.report_dir
    record = json.loads((bundle / "certification.json").read_text())
    assert record["verdict"] == "conformant" and record["must"]["skip (refused)"] == 0
    assert json.loads((bundle / "product.json").read_text()) == PRODUCT
    # `run` fixes a hypothesis seed of its own and records it, so the cases can be replayed.
    assert json.loads((bundle / "results.json").read_text())["hypothesis"]["seed"].isdigit()
    assert (bundle / "report.html").is_file()
    sums = dict(reversed(line.split("  ", 1)) for line in (bundle / "SHA256SUMS").read_text().splitlines())
    assert {"results.json", "junit.xml", "product.json", "certification.json"} <= set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((bundle / name).read_bytes()).hexdigest() == digest, name


def test_certify_refuses_a_run_that_left_must_requirements_untested(tmp_path):
    (tmp_path / "product.json").write_text(json.dumps(PRODUCT))
    done = cli("--certify", "--product", "product.json", "--reports", str(tmp_path / "r"), "--", "suites/test_auth.py",
               cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "certification refused" in done.stderr and "no test ran" in done.stderr
    bundle = next((tmp_path / "r").iterdir())
    assert json.loads((bundle / "certification.json").read_text())["verdict"] == "refused"


def test_certify_without_product_exits_2_in_one_line(tmp_path):
    done = cli("--certify", cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert (tmp_path / "product.json").is_file()


def test_a_bundle_directory_used_again_keeps_no_earlier_seal(tmp_path):
    bundle = tmp_path / "nightly"
    bundle.mkdir()
    for name in ("SHA256SUMS", "certification.json", "product.json"):
        (bundle / name).write_text("from an earlier run")
    done = cli("--bundle", str(bundle), "--", "suites/test_auth.py", "-k", "missing", cwd=tmp_path)
    assert (bundle / "results.json").is_file(), done.stdout[-1500:] + done.stderr[-1500:]
    assert not any((bundle / name).exists() for name in ("SHA256SUMS", "certification.json", "product.json"))
