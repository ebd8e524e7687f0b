"""Installing the package changes nothing for other projects in the same environment: a neighbour's schemathesis tests
see none of the suite's checks, pytest-profiling's --profile does not collide with ours, `iothub-conformance run`
ignores the pytest configuration of the directory it starts from, and a user's own tests can use the fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

NEIGHBOUR_APP = '''
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

SPEC = {"openapi": "3.0.3", "info": {"title": "neighbour", "version": "1"},
        "paths": {"/items/{id}": {"get": {"parameters": [{"name": "id", "in": "path", "required": True,
                                                          "schema": {"type": "integer"}}],
                                          "responses": {"200": {"description": "an item", "content": {
                                              "application/json": {"schema": {"type": "object"}}}},
                                                        "404": {"description": "no such item"}}}}}}


async def item(request):
    return JSONResponse({"id": request.path_params["id"]})


async def spec(request):
    return JSONResponse(SPEC)


app = Starlette(routes=[Route("/items/{id:int}", item), Route("/openapi.json", spec)])
'''

NEIGHBOUR_TEST = '''
import schemathesis

from app import app

schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
def test_api(case):
    case.call_and_validate()


def test_no_iothub_check_is_registered():
    from schemathesis.checks import CHECKS

    assert not [name for name in CHECKS.get_all_names() if name in ("x_ms_request_id", "etag_rfc7232")]
'''


def _pytest(cwd, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def neighbour(tmp_path):
    (tmp_path / "app.py").write_text(NEIGHBOUR_APP)
    (tmp_path / "test_neighbour.py").write_text(NEIGHBOUR_TEST)
    return tmp_path


def test_a_neighbours_schemathesis_tests_see_none_of_the_suites_checks(neighbour):
    done = _pytest(neighbour, "-q")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "no active target" not in done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_pytest_profilings_profile_option_does_not_collide(neighbour):
    pytest.importorskip("pytest_profiling")
    done = _pytest(neighbour, "-q", "--profile", "-k", "no_iothub_check")  # profiling is slow: one test will do
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout and "--iothub-profile" in _pytest(neighbour, "--help").stdout


def test_run_ignores_the_pytest_configuration_of_its_directory(tmp_path):
    # A configuration that would collect nothing of the suite, add a failing option and pick other files.
    (tmp_path / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\naddopts = --strict-markers -x\n"
                                         "testpaths = elsewhere\n")
    (tmp_path / "conftest.py").write_text("raise RuntimeError('a neighbour conftest must not be loaded')\n")
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--max-examples", "2",
                           "--bundle", str(tmp_path / "bundle"), "--only-requirements", "DI-CREATE-001"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    statuses = {r["id"]: r["status"] for r in json.loads((tmp_path / "bundle" / "results.json").read_text())
                ["requirements"]}
    assert statuses["DI-CREATE-001"] == "pass"


def test_a_users_own_tests_use_the_fixtures_against_the_embedded_reference(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\niothub_conformance = true\n")
    (tmp_path / "conftest.py").write_text(textwrap.dedent('''
        import pytest


        @pytest.fixture
        def my_device(registry):
            device_id, created = registry.create("mine")
            assert created.status_code in (200, 201)
            return device_id
    '''))
    (tmp_path / "test_mine.py").write_text(textwrap.dedent('''
        def test_my_device_can_be_read(my_device, registry, target):
            assert target.embedded and my_device.startswith(target.name_prefix)
            assert registry.get(my_device).status_code == 200
    '''))
    done = _pytest(tmp_path, "-q")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_a_users_own_tests_use_the_fixtures_against_a_served_target(tmp_path, served_hub):
    (tmp_path / "test_mine.py").write_text(textwrap.dedent('''
        def test_a_device_round_trip(registry, target):
            assert not target.embedded
            device_id, created = registry.create("mine")
            assert created.status_code in (200, 201)
            assert registry.get(device_id).json()["deviceId"] == device_id
    '''))
    done = _pytest(tmp_path, "-q", "--iothub-target", served_hub.url, "--iothub-connection-string",
                   served_hub.connection_string)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_without_iothub_options_the_plugin_offers_no_fixtures(tmp_path):
    (tmp_path / "test_other.py").write_text("def test_uses_client(client):\n    pass\n")
    done = _pytest(tmp_path, "-q")
    assert done.returncode == 1 and "fixture 'client' not found" in done.stdout, done.stdout[-2000:]


def test_plain_pytest_at_the_checkout_root_collects_the_projects_own_tests():
    # Two file names: this module's, and one that only suites/ holds (collecting it would fail the test). Matching
    # all of them would import every test module of both directories for the same answer.
    assert (ROOT / "suites" / "test_api_version.py").is_file() and not (ROOT / "tests" / "test_api_version.py").exists()
    done = _pytest(ROOT, "--collect-only", "-q", "-o", "python_files=test_good_neighbour.py test_api_version.py",
                   timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected and all(line.startswith("tests/") for line in collected), collected[:5]


def test_run_loads_only_the_plugins_the_suite_needs_and_takes_more_by_name(tmp_path):
    # Installed plugins (here respx and pytest-profiling, from the test extra) could change what a suite run does or
    # costs; `run` loads none of them unless asked with `-- -p NAME`. One small module's collection shows which.
    def plugins(*extra: str) -> str:
        done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(tmp_path / "b"),
                               "--", "suites/test_api_version.py", "-k", "nothing_matches", "--trace-config", *extra],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        return "\n".join(line for line in done.stdout.splitlines() if line.startswith("PLUGIN registered:"))

    default = plugins()
    assert "schemathesis.pytest.plugin" in default and "_hypothesis_pytestplugin" in default
    assert "respx" not in default and "pytest_profiling" not in default
    assert "pytest_profiling" in plugins("-p", "pytest_profiling")
