"""Bad input to the CLI or to `pytest suites` gets one clear line and exit code 2, never a traceback."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

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
])
def test_bad_input_exits_2_with_one_line(args, message):
    done = _cli(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


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
