"""The pytest plugin: options, the Target, fixtures, requirement results, redaction and the run's report files.

It stays inert unless the session collects tests marked with `requirement` (the suites), so the project's own
tests are not affected by it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from . import checks, session  # noqa: F401  (importing checks registers them with schemathesis)
from .errors import ConfigError
from .report import html, summary
from .report.redact import redact
from .target import Settings, new_run_id, resolve

OPTIONS = [
    ("--target", "target_url", "base URL of the endpoint under test (env IOTHUB_TARGET); none: the embedded reference"),
    ("--connection-string", "connection_string",
     "service connection string HostName=…;SharedAccessKeyName=…;SharedAccessKey=… (env IOTHUB_CONNECTION_STRING)"),
    ("--api-version", "api_version", "api-version to test (env IOTHUB_API_VERSION; default 2016-02-03)"),
    ("--profile", "profile", "profile deciding the disputed rules: iothub (default) or docs-strict (env IOTHUB_PROFILE)"),
    ("--reference-faults", "faults", "comma-separated fault switches for the embedded reference "
                                     "(env IOTHUB_REFERENCE_FAULTS)"),
    ("--request-timeout", "timeout", "seconds per request (env IOTHUB_TIMEOUT; default 10)"),
    ("--name-prefix", "prefix", "prefix of everything the run creates (env IOTHUB_PREFIX; default conf-)"),
    ("--c2d-feeder", "c2d_feeder", "how cloud-to-device messages are fed: auto (default), in-process, http "
                                   "(POST /messages/deviceBound), amqp (azure-iot-hub) or none (env IOTHUB_C2D_FEEDER)"),
    ("--c2d-max-delivery-count", "max_delivery_count", "the target hub's cloudToDevice.maxDeliveryCount "
                                                       "(env IOTHUB_C2D_MAX_DELIVERY_COUNT; default 10)"),
    ("--blob-container", "blob_container", "a blob container SAS URI (read, write, list, delete) for import/export "
                                           "jobs (env IOTHUB_BLOB_CONTAINER); without it those tests skip"),
    ("--job-timeout", "job_timeout", "seconds to wait for an import/export job to end (env IOTHUB_JOB_TIMEOUT; "
                                     "default 300)"),
    ("--arm-url", "arm_url", "resource provider (ARM) base URL, e.g. https://management.azure.com (env IOTHUB_ARM_URL); "
                             "none: the embedded reference's, or no RP tests for an external --target"),
    ("--arm-token", "arm_token", "AAD bearer token for --arm-url, without the word Bearer (env IOTHUB_ARM_TOKEN)"),
    ("--arm-subscription", "arm_subscription", "subscription id for --arm-url (env IOTHUB_ARM_SUBSCRIPTION)"),
    ("--arm-resource-group", "arm_resource_group", "an existing resource group the run may create hubs in "
                                                   "(env IOTHUB_ARM_RESOURCE_GROUP)"),
    ("--arm-location", "arm_location", "region for the hubs the run creates (env IOTHUB_ARM_LOCATION; default "
                                       "West US)"),
    ("--arm-timeout", "arm_timeout", "seconds to wait for a long-running RP operation (env IOTHUB_ARM_TIMEOUT; "
                                     "default 900)"),
    ("--only-requirements", "only_requirements", "comma-separated requirement ids: run only the tests that prove "
                                                  "them (e.g. RP-LIST-001,RP-COND-001)"),
    ("--run-id", "run_id", "run id (default: random); names the report directory"),
    ("--report-dir", "report_dir", "write the report bundle (junit.xml, results.json, report.html) here"),
]


def pytest_addoption(parser, pluginmanager):
    pluginmanager.register(_JunitIntoReportDir(), "iothub-conformance-junit")
    group = parser.getgroup("iothub-conformance", "Azure IoT Hub REST conformance")
    for flag, dest, help_text in OPTIONS:
        group.addoption(flag, dest=f"iothub_{dest}", default=None, help=help_text)


def _is_suite_run(config) -> bool:
    from .paths import suites_dir

    try:
        suites = suites_dir().resolve()
    except FileNotFoundError:
        return False
    for arg in config.args:
        candidate = Path(str(arg).split("::")[0]).resolve()
        if candidate == suites or suites in candidate.parents:
            return True
    return False


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "requirement(*ids): the requirement ids this test proves")
    if not _is_suite_run(config):
        return
    option = config.option
    given = {dest: getattr(option, f"iothub_{dest}") for _, dest, _ in OPTIONS}
    try:
        settings = Settings.from_env(**given)
        target = resolve(settings, run_id=given["run_id"] or new_run_id())
        target.worker = getattr(config, "workerinput", {}).get("workerid")
        target.probe()
    except ConfigError as exc:
        pytest.exit(f"error: {exc}", returncode=2)
    session.activate(target)
    config._iothub = summary.Collector(target)
    seed = getattr(option, "hypothesis_seed", None)
    config._iothub.seed = str(seed) if seed is not None else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(target.describe())
    else:
        print(target.describe(), file=sys.stderr)
    if given["report_dir"]:
        config._iothub.report_dir = Path(given["report_dir"])


class _JunitIntoReportDir:
    """Runs before the junitxml plugin configures itself, so junit.xml lands in the report directory."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config):
        report_dir = config.option.iothub_report_dir
        if report_dir and _is_suite_run(config):
            Path(report_dir).mkdir(parents=True, exist_ok=True)
            if not getattr(config.option, "xmlpath", None):
                config.option.xmlpath = str(Path(report_dir) / "junit.xml")


def pytest_collection_modifyitems(session, config, items):
    """--only-requirements: keep the tests that claim one of the ids, deselect the rest."""
    wanted = getattr(config.option, "iothub_only_requirements", None)
    if not wanted or getattr(config, "_iothub", None) is None:
        return
    from .requirements import REQUIREMENTS

    ids = {i.strip() for i in wanted.split(",") if i.strip()}
    unknown = sorted(ids - set(REQUIREMENTS))
    if unknown:
        raise pytest.UsageError(f"--only-requirements: unknown requirement ids {', '.join(unknown)}")
    kept, dropped = [], []
    for item in items:
        claimed = {i for m in item.iter_markers("requirement") for i in m.args}
        (kept if claimed & ids else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_unconfigure(config):
    collector = getattr(config, "_iothub", None)
    if collector is None:
        return
    if getattr(config.option, "xmlpath", None):
        _redact_file(Path(config.option.xmlpath))  # the junit writer has finished by now
    session.deactivate()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if getattr(item.config, "_iothub", None) is not None and session.active():
        session.current().journal.transcripts.begin(item.nodeid)


def _redact_file(path: Path) -> None:
    if path.is_file():
        path.write_text(redact(path.read_text(encoding="utf-8")), encoding="utf-8")


# tryfirst: the outermost wrapper, so redaction runs after every other plugin (schemathesis) has shaped the report.
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.longrepr is not None and getattr(item.config, "_iothub", None) is not None:
        if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
            path, line, reason = report.longrepr
            report.longrepr = (path, line, redact(reason))
        else:
            report.longrepr = redact(str(report.longrepr))
        report.sections = [(title, redact(text)) for title, text in report.sections]
    marker_ids = [i for m in item.iter_markers("requirement") for i in m.args]
    report.user_properties.append(("requirements", ",".join(marker_ids)))
    if session.active() and (report.when == "call" or (report.when == "setup" and not report.passed)):
        # The test's last exchanges with the target, kept as evidence when it failed.
        kept = session.current().journal.transcripts.end()
        if report.failed and kept:
            report.user_properties.append(("evidence", json.dumps(kept)))
    if call.excinfo is not None and report.failed:
        # The target departing from a rule is a failure; anything else that broke is an error of the run.
        report.user_properties.append(("outcome", "fail" if _is_check_failure(call.excinfo.value) else "error"))
        # The failure's own messages: the requirement ids they name decide which requirement failed (the longrepr
        # also shows the test's source, whose other assertions name other ids).
        report.user_properties.append(("failure", redact(_messages(call.excinfo.value))))


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node, call, report):
    # schemathesis rewrites a failure's longrepr here, after makereport: redact again, last.
    if getattr(node.config, "_iothub", None) is not None and report.longrepr is not None:
        if not isinstance(report.longrepr, tuple):
            report.longrepr = redact(str(report.longrepr))


def _messages(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "\n".join(_messages(e) for e in exc.exceptions)
    return str(exc)


def _is_check_failure(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_check_failure(e) for e in exc.exceptions)
    return isinstance(exc, AssertionError)


def pytest_runtest_logreport(report):
    collector = _collector_for(report)
    if collector is not None:
        collector.record(report)


_ACTIVE: list = []


def _collector_for(report):
    return _ACTIVE[0] if _ACTIVE else None


def pytest_sessionstart(session):
    collector = getattr(session.config, "_iothub", None)
    _ACTIVE.clear()
    if collector is not None:
        _ACTIVE.append(collector)


def pytest_sessionfinish(session, exitstatus):
    collector = getattr(session.config, "_iothub", None)
    if collector is None:
        return
    _cleanup_leftovers()
    if hasattr(session.config, "workeroutput"):
        # An xdist worker: its results reach the controller as test reports, and its exchanges (for coverage) go
        # with its output. Only the controller writes the bundle, once.
        session.config.workeroutput["iothub_exchanges"] = _exchanges()
        return
    if collector.report_dir is not None:
        results = collector.report_dir / "results.json"
        collector.write(results)
        # The page is rendered from the file just written, so it shows exactly what results.json holds (redacted).
        html.write(json.loads(results.read_text(encoding="utf-8")), collector.report_dir / "report.html")


def _exchanges() -> list[list]:
    """This process's exchanges with the target, in a form xdist can send to the controller."""
    if not session.active():
        return []
    return [[e.method, e.path, e.status, e.generated] for e in session.current().journal.exchanges]


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent when pytest-xdist is not installed
def pytest_testnodedown(node, error):
    """The controller takes a finished worker's exchanges, so the merged bundle's coverage counts every worker's."""
    collector = getattr(node.config, "_iothub", None)
    output = getattr(node, "workeroutput", None) or {}
    if collector is not None:
        collector.add_exchanges(output.get("iothub_exchanges", []))


def _cleanup_leftovers() -> None:
    """Delete every device this run created (a successful PUT under its prefix) that is still there."""
    if not session.active():
        return
    target = session.current()
    created = {e.path for e in target.journal.exchanges if e.method == "PUT" and e.status in (200, 201)}
    client = session.client()
    from .devices import path as device_path

    for p in sorted(created):
        device_id = unquote(p.split("/", 2)[2]) if p.count("/") >= 2 else ""
        if device_id.startswith(target.name_prefix):
            client.delete(device_path(device_id), params={"api-version": target.api_version},
                          headers={"If-Match": "*"})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    collector = getattr(config, "_iothub", None)
    if collector is not None and collector.results:
        for line in collector.table():
            terminalreporter.write_line(line)


# -- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target():
    return session.current()


@pytest.fixture(scope="session")
def client():
    return session.client()


@pytest.fixture(scope="session")
def profile(target):
    return target.profile


@pytest.fixture(scope="session")
def api_version(target):
    return target.api_version


@pytest.fixture
def registry(target, client):
    """Creates devices under the run prefix and deletes them afterwards."""
    from .devices import Registry

    registry = Registry(client, target.api_version, target.name_prefix)
    yield registry
    registry.cleanup()


@pytest.fixture
def profile_rule(profile):
    """The profile's decision on a disputed rule; skips the test when the profile takes no position."""

    def rule(name: str):
        decided = profile[name]
        if decided.value is None:
            pytest.skip(f"profile {profile.name} takes no position on {name}: {decided.source}")
        return decided.value

    return rule


@pytest.fixture(scope="session")
def feeder(target):
    """Enqueues cloud-to-device messages; skips the test, with the reason, when the target cannot be fed."""
    from .feeders import choose

    chosen, reason = choose(target, target.c2d_feeder)
    if chosen is None:
        pytest.skip(reason)
    return chosen


@pytest.fixture
def devices(registry, target, client):
    """Creates a device under the run prefix and returns its messaging client, signed with the device's key."""
    from .messaging import DeviceClient

    def create(label: str = "msg", **fields) -> DeviceClient:
        device_id, created = registry.create(label, **fields)
        return DeviceClient.of_created(client, target, device_id, created)

    return create


@pytest.fixture
def device(devices):
    return devices()


@pytest.fixture
def clock_if_any(target):
    """The embedded reference's clock, for waits that advance it instead of sleeping; None for other targets."""
    return target.hub.clock if target.hub is not None else None


@pytest.fixture
def clock(target):
    """The target's clock, for lock timeouts: only the embedded reference's can be advanced."""
    if target.hub is None:
        pytest.skip("the target's clock cannot be advanced: lock and delivery timing is tested on the embedded "
                    "reference, where no test waits out a timeout")
    return target.hub.clock


@pytest.fixture(scope="session")
def container(target):
    """The blob container import/export jobs read and write; skips the test, with the reason, when none is given.
    The embedded reference brings its own in-memory storage unless --blob-container names real storage."""
    import httpx

    from .blobs import Container

    if not target.blob_container:
        pytest.skip("import/export jobs need a blob container: pass --blob-container <container SAS URI with read, "
                    "write, list and delete> (env IOTHUB_BLOB_CONTAINER)")
    client = httpx.Client(transport=target.blob_transport, timeout=30) if target.blob_transport else None
    with Container(target.blob_container, client=client) as opened:
        yield opened
    if client is not None:
        client.close()


@pytest.fixture
def jobs(target, client):
    """Starts, reads, cancels and waits for import/export jobs; deletes the blobs the test wrote."""
    from .jobs import Jobs

    made = Jobs(client, target)
    yield made
    made.cleanup()


@pytest.fixture
def scheduled(target, client):
    """Scheduled jobs and twins (api-version 2016-11-14)."""
    from .scheduled import Scheduled

    return Scheduled(client, target)


@pytest.fixture
def method_responder(target):
    """Makes a device of this run answer direct methods. Only the embedded reference has devices the suite can
    bring online; elsewhere the test skips and says why."""
    if target.hub is None:
        pytest.skip("no device of this run is online to answer direct methods: the reference simulates one in-process "
                    "(embedded reference only)")
    handlers = target.hub.method_handlers
    answered: list[str] = []

    def respond(device_id: str, status: int = 200) -> None:
        def handler(method_name, payload):
            answered.append(device_id)
            return status, {"method": method_name, "echo": payload}

        handlers[device_id] = handler

    yield respond
    for device_id in set(answered) | {d for d in list(handlers) if d.startswith(target.name_prefix)}:
        handlers.pop(device_id, None)


@pytest.fixture(scope="session")
def arm_client(target):
    """The resource provider's client; skips the test, with the reason, when the run has no resource provider."""
    if target.arm is None:
        pytest.skip("the resource provider needs --arm-url, --arm-token, --arm-subscription and --arm-resource-group "
                    "(env IOTHUB_ARM_URL, IOTHUB_ARM_TOKEN, IOTHUB_ARM_SUBSCRIPTION, IOTHUB_ARM_RESOURCE_GROUP)")
    return target.arm_client()


@pytest.fixture
def rp(target, arm_client):
    """Creates hubs under the run prefix through the resource provider and deletes them afterwards."""
    from .arm import ResourceManager

    manager = ResourceManager(arm_client, target)
    yield manager
    manager.cleanup()
