"""Fixtures of the project's own tests. Helpers live in tests/support/ (test modules never import each other)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import bytecode, scheduling, shared
from tests.support.scheduling import pytest_collection_modifyitems  # noqa: F401 - a hook
from tests.support.served import serving
from tests.support.suite_runs import SuiteRun, run_suite


def pytest_configure(config):
    scheduling.pytest_configure(config)
    bytecode.configure(config)


def pytest_unconfigure(config):
    bytecode.unconfigure(config)


def pytest_sessionstart(session):
    """The controller (or a run without workers) starts the tests' npm installs and the Python SDK's venv build while
    the workers collect."""
    if hasattr(session.config, "workerinput"):
        return
    from tests import azurite
    from tests.support import node_device_sdk, node_sdks, npm, python_sdk

    session.config._npm_prefetch = npm.prefetch([(azurite.HERE, azurite.BINARY, "the job tests (Azurite)"),
                                                 (node_sdks.HERE, node_sdks.MARKER, node_sdks.PURPOSE),
                                                 (node_device_sdk.HERE, node_device_sdk.MARKER, node_device_sdk.PURPOSE)])
    session.config._python_sdk_prefetch = python_sdk.prefetch()


def pytest_sessionfinish(session):
    # An npm ci cut short by the end of the process would leave a node_modules that looks installed; a venv build cut
    # short leaves no marker, but would be redone from scratch.
    for name in ("_npm_prefetch", "_python_sdk_prefetch"):
        prefetch = getattr(session.config, name, None)
        if prefetch is not None:
            prefetch.join(timeout=600)


@pytest.fixture
def suite(tmp_path):
    def run(*args, **kwargs) -> SuiteRun:
        return run_suite(tmp_path / f"report-{len(list(tmp_path.iterdir()))}", *args, **kwargs)

    return run


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """Blob storage on 127.0.0.1 for the job tests (Azurite, installed from tests/azurite on first use)."""
    from tests import azurite as storage

    try:
        running = storage.start(tmp_path_factory.mktemp("azurite"))
    except storage.AzuriteUnavailable as exc:
        pytest.fail(str(exc))
    yield running
    running.stop()


@pytest.fixture
def served_hub():
    with serving() as served:
        yield served


@pytest.fixture
def quick_served_hub():
    """A served reference whose RP operations end at once and whose configurations run every second: a whole-suite
    run on the wall clock need not wait a second per hub nor five minutes for a configuration's next run."""
    with serving("--rp-delay", "0", "--configuration-interval", "1") as served:
        yield served


@pytest.fixture(scope="session")
def failing_identities_run(tmp_path_factory) -> SuiteRun:
    """The device-identity suite with the reference's unquoted-etag fault, run once per test run (the first pytest
    worker to ask runs it, the others read its bundle): for the tests that read what a failing run writes."""

    def make(directory: Path) -> dict:
        run = run_suite(directory / "report", "--iothub-reference-faults", "unquoted-etag",
                        suites="suites/test_device_identities.py")
        return {"code": run.code, "output": run.output, "report_dir": str(run.report_dir)}

    made = shared.once(shared.run_root(tmp_path_factory), "failing-identities-run", make)
    return SuiteRun(made["code"], made["output"], Path(made["report_dir"]))


@pytest.fixture(scope="session")
def certified_run(request, tmp_path_factory) -> SuiteRun:
    """The whole suite through `iothub-conformance run --certify`, profile iothub, blob storage on Azurite, once per
    test run: the certification test and the clean-reference test of that profile both read it."""
    from tests.support.certified import certified

    def make(directory: Path) -> dict:
        run = certified(directory, request.getfixturevalue("azurite").container())
        return {"code": run.code, "output": run.output, "report_dir": str(run.report_dir)}

    made = shared.once(shared.run_root(tmp_path_factory), "certified-run", make)
    return SuiteRun(made["code"], made["output"], Path(made["report_dir"]))


@pytest.fixture(scope="session")
def suite_worker():
    """This pytest worker's suite worker (tests/support/suite_worker.py): the fault proofs' runs and the broken
    targets' run in it, one interpreter for all."""
    from tests.support.proofs import SuiteWorker

    worker = SuiteWorker()
    yield worker
    worker.close()
