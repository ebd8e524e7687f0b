"""Bad input to the CLI or to `pytest suites` gets one clear line and exit code 2, never a traceback."""

import json
import os
import subprocess
import sys

import pytest

from iothub_conformance.rules.sources import REPOSITORY as ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

GOOD_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
CONNECTION_STRING = f"HostName=h.azure-devices.net;SharedAccessKeyName=o;SharedAccessKey={GOOD_KEY}"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args, message", [
    (["run", "--profile", "nope"], "unknown profile 'nope'"),
    (["run", "--connection-string", "garbage"], "malformed connection string"),
    (["run", "--connection-string", "HostName=h.azure-devices.net;SharedAccessKeyName=o"], "missing SharedAccessKey"),
    (["run", "--reference-faults", "no-such-fault"], "unknown fault 'no-such-fault'"),
    (["run", "--target", "http://127.0.0.1:9",
      "--connection-string", f"HostName=h.azure-devices.net;SharedAccessKeyName=o;SharedAccessKey={GOOD_KEY}"],
     "target unreachable"),
    (["run", "--target", "http://127.0.0.1:9"], "needs --connection-string"),
    (["run", "--target", "ftp://x"], "must be an http(s) URL"),
    (["run", "--api-version", "2099-01-01"], "not covered by this suite"),
    (["run", "--blob-container", "ftp://x"], "blob container SAS URI"),
    (["run", "--c2d-feeder", "pigeon"], "unknown C2D feeder"),
    (["run", "--target", "http://[::1", "--connection-string", CONNECTION_STRING], "Invalid IPv6 URL"),
    (["run", "--target", "http://127.0.0.1\x01:8080", "--connection-string", CONNECTION_STRING], "control characters"),
    (["run", "--target", "http://127.0.0.1:8080/a b", "--connection-string", CONNECTION_STRING], "without spaces"),
    (["run", "--target", "http://user:pa/ss@127.0.0.1:8080", "--connection-string", CONNECTION_STRING],
     "must be percent-encoded"),
    (["run", "--target", "http://127.0.0.1:99999", "--connection-string", CONNECTION_STRING], "Port out of range"),
    (["run", "--bundle", "/proc/iothub-conformance-report"], "cannot write to /proc/iothub-conformance-report"),
    (["run", "--reports", "/proc/iothub-conformance-reports"], "cannot write to"),
    (["run", "--max-examples", "-5"], "--max-examples takes a whole number from 1 to 10,000, not '-5'"),
    (["run", "--max-examples", "0"], "--max-examples takes a whole number from 1 to 10,000, not '0'"),
    (["run", "--max-examples", "1000000000000"], "from 1 to 10,000, not '1000000000000'"),
    (["run", "-n", "0"], "-n takes a whole number from 1 to 64"),
    (["run", "--request-timeout", "0"], "--request-timeout is a positive number of seconds"),
    (["run", "--deadline", "soon"], "--deadline is a positive number of seconds"),
    (["run", "--retry-wait", "inf"], "--retry-wait is a positive number of seconds"),
    (["run", "--max-body", "12 parsecs"], "--max-body is a size in bytes"),
    (["run", "--max-body", "1"], "--max-body takes 1KB to 1GB"),
    (["run", "--ca-bundle", "/nonexistent/ca.pem"], "--ca-bundle: cannot read '/nonexistent/ca.pem'"),
    (["run", "--run-id", "Not OK"], "--run-id takes 1–24 lowercase letters"),
    (["run", "--name-prefix", "../x"], "--name-prefix takes 1–16 letters"),
    (["serve", "--port", "9", "--rp-delay", "-1"], "--rp-delay takes 0–3600 seconds, not -1.0"),
    (["serve", "--port", "9", "--configuration-interval", "0"], "--configuration-interval takes 1–3600 seconds"),
    (["serve", "--port", "9", "--configuration-interval", "nan"], "--configuration-interval takes 1–3600 seconds"),
    (["explain", "DI-ETAG-999"], "unknown requirement 'DI-ETAG-999' (did you mean DI-ETAG-"),
    (["requirements", "--check", "/nonexistent/CONFORMANCE.md"], "cannot read /nonexistent/CONFORMANCE.md"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    done = _cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_password_in_the_target_never_reaches_the_error_line():
    done = _cli("run", "--target", "http://user:s3cret%2Fpw@127.0.0.1:9", "--connection-string", CONNECTION_STRING)
    assert done.returncode == 2 and "target unreachable" in done.stderr, done.stderr
    assert "s3cret" not in done.stdout + done.stderr


def test_a_bundle_under_a_file_or_a_file_as_bundle_is_one_line(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for bundle, message in ((a_file / "report", "lies under a file"), (a_file, "is a file, not a report directory")):
        done = _cli("run", "--bundle", str(bundle))
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("variable, value, message", [
    ("IOTHUB_MAX_EXAMPLES", "abc", "IOTHUB_MAX_EXAMPLES takes a whole number from 1 to 10,000, not 'abc'"),
    ("IOTHUB_REQUEST_TIMEOUT", "-1", "IOTHUB_REQUEST_TIMEOUT is a positive number of seconds"),
    ("IOTHUB_NO_PREFLIGHT", "maybe", "IOTHUB_NO_PREFLIGHT is on or off"),
])
def test_a_bad_environment_variable_is_named_in_one_line(variable, value, message):
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, variable: value})
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_plain_pytest_with_bad_connection_string_exits_2():
    done = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "--iothub-connection-string", "garbage"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout[-500:] + done.stderr[-500:]
    assert "malformed connection string" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_faults_command_lists_switches():
    done = _cli("faults")
    assert done.returncode == 0 and "unquoted-etag" in done.stdout


def test_send_c2d_without_a_device_is_a_usage_error():
    done = _cli("send-c2d", "--target", "http://127.0.0.1:9", "hello")
    assert done.returncode == 2 and "--device" in done.stderr


def test_send_c2d_to_an_unreachable_target_is_one_line_and_exit_2():
    done = _cli("send-c2d", "--target", "http://127.0.0.1:9", "--connection-string", CONNECTION_STRING,
                "--device", "d", "hello")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: target unreachable") and "Traceback" not in done.stderr


def test_send_c2d_with_a_malformed_property_is_exit_2():
    done = _cli("send-c2d", "--target", "http://127.0.0.1:9", "--connection-string", CONNECTION_STRING,
                "--device", "d", "--property", "no-equals-sign", "hello")
    assert done.returncode == 2 and "NAME=VALUE" in done.stderr


def test_unknown_c2d_feeder_is_exit_2():
    done = subprocess.run([sys.executable, "-m", "pytest", "suites", "--iothub-c2d-feeder", "pigeon", "-q"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "unknown C2D feeder" in done.stdout + done.stderr


def test_a_first_nightly_diff_records_its_run_as_the_baseline_and_says_so(tmp_path):
    tonight = tmp_path / "nightly"
    tonight.mkdir()
    (tonight / "results.json").write_text(json.dumps({
        "format": "iothub-conformance/results/1", "profile": "iothub", "api_version": "2016-02-03",
        "target": {"url": None, "embedded": True}, "requirements": [
            {"id": "DI-CREATE-001", "level": "MUST", "statement": "s", "status": "pass", "detail": ""}]}))
    baseline = tmp_path / "baseline"
    done = _cli("diff", "--record-missing", str(baseline), str(tonight))
    assert done.returncode == 0 and "recorded" in done.stdout and "as the baseline" in done.stdout, done.stdout
    assert (baseline / "results.json").read_text() == (tonight / "results.json").read_text()
    again = _cli("diff", "--record-missing", str(baseline), str(tonight))
    assert again.returncode == 0 and "recorded" not in again.stdout  # now a real comparison
    assert _cli("diff", str(tmp_path / "none"), str(tonight)).returncode == 2  # without the flag: bad input


@pytest.mark.parametrize(("arg", "selects"), [
    ("suites/test_twins.py", True), ("suites/test_twins.py::test_anything", True), ("suites", True),
    (str(ROOT / "suites" / "test_query.py"), True), ("-k", False), ("twins and not query", False),
    ("tests/test_cli.py", False), ("suites/test_no_such_module.py", False), ("README.md", False),
])
def test_suite_paths_after_the_double_dash_are_the_selection(arg, selects):
    from iothub_conformance.cli import in_suites

    assert in_suites(arg) is selects


@pytest.mark.parametrize("where", ["checkout", "elsewhere"])
def test_a_run_of_one_suite_module_runs_that_module_only(tmp_path, where):
    # Named as from the checkout's root, from whichever directory the run starts.
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(tmp_path / "b"),
                           "--api-version", "2016-02-03", "--", "suites/test_device_identities.py", "--collect-only",
                           "-q"], cwd=ROOT if where == "checkout" else tmp_path, capture_output=True, text=True,
                          timeout=120)
    collected = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert collected == {"suites/test_device_identities.py"}, done.stdout[-2000:] + done.stderr[-2000:]
