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

from iothub_conformance.config import API_VERSIONS, OPTIONS, ConfigError, Settings
from iothub_conformance.evidence.redact import redact
from iothub_conformance.evidence.text import bounded
from iothub_conformance.pytest_plugin.items import item_api_version
from iothub_conformance.report import html, junit, logs, summary
from iothub_conformance.targets import session
from iothub_conformance.targets import session as session_module  # hooks take an argument named session
from iothub_conformance.targets.resolve import new_run_id, resolve


def pytest_addoption(parser, pluginmanager):
    pluginmanager.register(_JunitIntoReportDir(), "iothub-conformance-junit")
    group = parser.getgroup("iothub-conformance", "Azure IoT Hub REST conformance (iothub-conformance)")
    for option in OPTIONS:
        env = f" (env {option.env})" if option.env else ""
        if option.switch:
            group.addoption(option.pytest_flag, dest=f"iothub_{option.field}", action="store_true", default=None,
                            help=option.help + env)
        else:
            group.addoption(option.pytest_flag, dest=f"iothub_{option.field}", default=None, help=option.help + env)
    parser.addini("iothub_conformance", "true: the iothub-conformance fixtures and target serve this project's tests "
                  "even without --iothub-* options", type="bool", default=False)


def _given(config) -> dict:
    return {option.field: getattr(config.option, f"iothub_{option.field}", None) for option in OPTIONS}


def _is_suite_run(config) -> bool:
    """Active for the suites, for a run given any --iothub-* option, or for a project whose ini says
    `iothub_conformance = true`; inert (no target, no fixtures, no checks) for everything else."""
    if any(value not in (None, False) for value in _given(config).values()):
        return True
    try:
        if config.getini("iothub_conformance"):
            return True
    except ValueError:
        pass
    from iothub_conformance.paths import suites_dir

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
    config.addinivalue_line("markers", "api_version(version): the api-version a suite module tests (unmarked: "
                                       f"{API_VERSIONS[0]}); a run runs the modules of its --api-version list")
    if not _is_suite_run(config):
        return
    given = _given(config)
    try:
        settings = Settings.from_sources(given, flag=lambda o: o.pytest_flag)
        target = resolve(settings, run_id=settings.run_id or new_run_id())
        target.worker = getattr(config, "workerinput", {}).get("workerid")
        if not settings.no_preflight and not hasattr(config, "workerinput"):
            target.probe()
    except ConfigError as exc:
        pytest.exit(redact(f"error: {exc}"), returncode=2)
    from iothub_conformance import checks
    from iothub_conformance.pytest_plugin import fixtures

    checks.register()  # only now: other projects' schemathesis runs never see the suite's checks
    config.pluginmanager.register(fixtures, "iothub-conformance-fixtures")
    session.activate(target)
    config._iothub = summary.Collector(target)
    config._iothub_settings = settings
    seed = getattr(config.option, "hypothesis_seed", None)
    config._iothub.seed = str(seed) if seed is not None else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(redact(target.describe()))
    else:
        print(redact(target.describe()), file=sys.stderr)
    if settings.bundle:
        config._iothub.report_dir = Path(settings.bundle)


class _JunitIntoReportDir:
    """Runs before the junitxml plugin configures itself, so junit.xml lands in the report directory; and before
    any other plugin logs, so every log record of a suite run is redacted (report/logs.py) until it ends."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config):
        if not _is_suite_run(config):
            return
        logs.install()
        config._iothub_logs = True
        report_dir = getattr(config.option, "iothub_bundle", None)
        if report_dir:
            Path(report_dir).mkdir(parents=True, exist_ok=True)
            if not getattr(config.option, "xmlpath", None):
                config.option.xmlpath = str(Path(report_dir) / "junit.xml")

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        if getattr(config, "_iothub_logs", False):
            logs.uninstall()


def pytest_ignore_collect(collection_path, config):
    """A suite module none of whose tests the run would keep is not collected at all: one of an api-version outside
    the run, or, under --only-requirements, one whose tests claim none of the ids. Its source says so (the claims are
    literal, tests/test_suite_assertions.py), and collecting a property-test module costs seconds of generation."""
    collector = getattr(config, "_iothub", None)
    if collector is None or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    from iothub_conformance.report.conformance import module_claims

    claims = module_claims(Path(collection_path))
    if claims.api_version is not None and claims.api_version not in collector.target.api_versions:
        return True
    wanted = getattr(config.option, "iothub_only_requirements", None)
    if wanted and not claims.requirements & {i.strip() for i in wanted.split(",") if i.strip()}:
        return True
    return None


# A wrapper, and the outermost: schemathesis' own wrapper swaps in its collector for a generated test.
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """Under --only-requirements a test function that claims none of the ids is not built at all: building a
    schemathesis test generates its coverage cases, seconds a narrowed run would spend on tests it then deselects.
    Under --only-operations a generated test is built for those of its operations named only."""
    outcome = yield
    if getattr(collector.config, "_iothub", None) is None or not collector.istestfunction(obj, name):
        return
    wanted = getattr(collector.config.option, "iothub_only_requirements", None)
    if wanted:
        from _pytest.mark.structures import get_unpacked_marks

        marks = [*get_unpacked_marks(obj), *collector.iter_markers("requirement")]
        claimed = {i for mark in marks if mark.name == "requirement" for i in mark.args}
        if claimed and not claimed & {i.strip() for i in wanted.split(",")}:
            outcome.force_result([])
            return
    operations = getattr(collector.config.option, "iothub_only_operations", None)
    schema = getattr(outcome.get_result(), "schema", None)  # schemathesis' collector of a generated test has one
    if operations and schema is not None:
        named = {o.strip() for o in operations.split(",") if o.strip()}
        # exclude, not include: a second include widens what the suite's own include chose.
        narrowed = schema.exclude(lambda ctx: schema.get_operation_id(ctx.operation) not in named)
        if any(True for _ in narrowed.get_all_operations()):
            outcome.get_result().schema = narrowed
        else:
            outcome.force_result([])


def pytest_collection_modifyitems(session, config, items):
    """--api-version: keep the tests of the run's api-versions. --only-requirements: keep the tests that claim one of
    the ids. Deselect the rest. (--only-operations narrowed the generated tests as they were built.)"""
    if getattr(config, "_iothub", None) is None:
        return
    versions = config._iothub.target.api_versions
    other = [item for item in items if item_api_version(item) not in versions]
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = [item for item in items if item_api_version(item) in versions]
    operations = getattr(config.option, "iothub_only_operations", None)
    if operations:
        from iothub_conformance.rules.spec_operations import operations as spec_operations

        unknown = sorted({o.strip() for o in operations.split(",") if o.strip()}
                         - {operation.operation_id for operation in spec_operations()})
        if unknown:
            raise pytest.UsageError(f"--only-operations: unknown operationIds {', '.join(unknown)}")
    wanted = getattr(config.option, "iothub_only_requirements", None)
    if not wanted:
        return
    from iothub_conformance.rules.requirements import REQUIREMENTS

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
    if not hasattr(config, "workerinput"):
        if not collector.finished:
            # The run stopped before its session finished (interrupted while it started): still write the bundle.
            collector.mark_incomplete("the run stopped before its tests started")
            _write_bundle(collector)
        if getattr(config.option, "xmlpath", None):
            # the junit writer has finished by now
            _redact_file(Path(config.option.xmlpath), collector.incomplete, list(collector.running))
    session.deactivate()
    from iothub_conformance import checks

    checks.unregister()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if getattr(item.config, "_iothub", None) is not None and session.active():
        session.current().journal.transcripts.begin(item.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if getattr(item.config, "_iothub", None) is None:
        return (yield)
    from iothub_conformance.rules.failures import NotTestable

    try:
        return (yield)
    except NotTestable as exc:
        pytest.skip(str(exc))


def _redact_file(path: Path, incomplete: str | None = None, unfinished: list[str] | None = None) -> None:
    """junit.xml redacted, cut and valid XML (parsed, not rewritten as text); marked when the run is incomplete."""
    if path.is_file():
        junit.rewrite(path, incomplete, unfinished)
    elif incomplete and path.parent.is_dir():
        junit.write_incomplete(path, incomplete)


# tryfirst: the outermost wrapper, so redaction runs after every other plugin (schemathesis) has shaped the report.
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if getattr(item.config, "_iothub", None) is not None:
        # Redacted and cut here, once: a failure quoting a 50 MB body reaches the terminal, junit.xml and the
        # bundle as its first 2 KB and its size. Passing tests' captured output (-rA) too.
        if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
            path, line, reason = report.longrepr
            report.longrepr = (path, line, bounded(reason))
        elif report.longrepr is not None:
            report.longrepr = bounded(str(report.longrepr))
        report.sections = [(title, bounded(text)) for title, text in report.sections]
    marker_ids = [i for m in item.iter_markers("requirement") for i in m.args]
    report.user_properties.append(("requirements", ",".join(marker_ids)))
    if session.active() and (report.when == "call" or (report.when == "setup" and not report.passed)):
        # The test's last exchanges with the target, kept as evidence when it failed.
        kept = session.current().journal.transcripts.end()
        if report.failed and kept:
            from iothub_conformance.evidence.transcript import exchange

            report.user_properties.append(("evidence", json.dumps([exchange(response) for response in kept])))
    if call.excinfo is not None and report.failed:
        # The target departing from a rule is a failure; anything else that broke is an error of the run; a test the
        # run deadline cut short judged nothing: its requirements were not reached.
        outcome = "fail" if _is_check_failure(call.excinfo.value) else "error"
        if outcome == "error" and _cut_by_run_deadline(call.excinfo.value):
            outcome = "not reached"
        report.user_properties.append(("outcome", outcome))
        # The failure's own messages (the longrepr also quotes the test's source), for an error's detail.
        report.user_properties.append(("failure", bounded(_messages(call.excinfo.value))))
        if outcome == "fail":
            # Which requirements failed, read from the typed failures themselves, never from their text.
            report.user_properties.append(("findings", json.dumps(_findings(call.excinfo.value, marker_ids))))


@pytest.hookimpl(trylast=True)
def pytest_exception_interact(node, call, report):
    # schemathesis rewrites a failure's longrepr here, after makereport: redact again, last.
    if getattr(node.config, "_iothub", None) is not None and report.longrepr is not None:
        if not isinstance(report.longrepr, tuple):
            report.longrepr = bounded(str(report.longrepr))


def _cut_by_run_deadline(exc: BaseException | None, depth: int = 0) -> bool:
    """The exception is (or was caused by) the transport refusing a request after the run deadline."""
    from iothub_conformance.http.transport import RunDeadlineReached

    if exc is None or depth > 8:
        return False
    if isinstance(exc, RunDeadlineReached):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_cut_by_run_deadline(e, depth + 1) for e in exc.exceptions)
    return _cut_by_run_deadline(exc.__cause__ or exc.__context__, depth + 1)


def _findings(exc: BaseException, claimed: list[str]) -> list[list[str]]:
    """[requirement id, message] per departure the failure holds. A RequirementFailure names its requirement; a
    failure of schemathesis' own checks that no suite helper mapped is COMMON-SPEC-001's (checks/spec.py); a bare
    assertion names none, so it fails the test's first (main) requirement."""
    from iothub_conformance.checks import spec

    typed, other = spec.split(exc, spec.SPEC)
    found = [[failure.requirement, bounded(failure.message)] for failure in typed]
    return found + [[claimed[0], bounded(str(part))] for part in other if claimed]


def _messages(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "\n".join(_messages(e) for e in exc.exceptions)
    return str(exc)


def _is_check_failure(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_check_failure(e) for e in exc.exceptions)
    return isinstance(exc, AssertionError)


def pytest_runtest_logreport(report):
    collector = _active_collector()
    if collector is not None:
        collector.record(report)


def pytest_collectreport(report):
    """A suite module that fails to import (or any collector that errors) leaves its tests out of the run."""
    collector = _active_collector()
    if collector is not None and report.failed:
        collector.mark_incomplete(f"collection error in {report.nodeid or 'the suite'}")


def without_lineless_frames(tb):
    """The traceback without entries that have no line number, relinked in place (tb_next is writable). A signal
    that lands on an instruction with no line (Python 3.11) leaves such an entry, and pytest's report of the
    interrupt then fails on it: an internal error, exit 1, instead of an incomplete run."""
    head = tb
    while head is not None and head.tb_lineno is None:
        head = head.tb_next
    node = head
    while node is not None:
        while node.tb_next is not None and node.tb_next.tb_lineno is None:
            node.tb_next = node.tb_next.tb_next
        node = node.tb_next
    return head


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo):
    """Ctrl-C (SIGINT), SIGTERM (deadline.Terminated) or pytest.exit: the session still finishes and writes the
    bundle, marked incomplete with what stopped it."""
    if excinfo.tb is not None and excinfo.tb.tb_lineno is not None:  # the outermost entry is pytest's own
        without_lineless_frames(excinfo.tb)
    collector = _active_collector()
    if collector is None:
        return
    value = excinfo.value
    if isinstance(value, KeyboardInterrupt):
        said = str(value).strip()
        if said and any(said in reason for reason in collector.reasons):
            return  # pytest's Interrupted(shouldstop) repeating the deadline's own reason
        collector.mark_incomplete(f"interrupted ({said})" if said else "interrupted (Ctrl-C, SIGINT)")
    else:
        collector.mark_incomplete(f"stopped: {bounded(str(getattr(value, 'msg', value)))[:300]}")


# pytest's exit codes the run is incomplete with, and why (cli.py maps pytest's 2 and 5 to 3 as well)
_INCOMPLETE_EXITS = {pytest.ExitCode.INTERRUPTED: "interrupted", pytest.ExitCode.INTERNAL_ERROR: "the suite broke "
                     "(pytest internal error)", pytest.ExitCode.USAGE_ERROR: "a usage error stopped the run"}
EXIT_INCOMPLETE = 3


def _judge_completeness(session, collector, exitstatus) -> None:
    """Say why the run is incomplete, whatever ended it: a signal, the deadline, -x, a collection error, no tests,
    or tests that never ran (counted: every test that runs reports its teardown)."""
    reason = _INCOMPLETE_EXITS.get(exitstatus)
    if reason and not collector.reasons:
        collector.mark_incomplete(reason)
    for stop in (session.shouldfail, session.shouldstop):
        if isinstance(stop, str) and stop and not any(stop in r for r in collector.reasons):
            collector.mark_incomplete(f"stopped early: {stop}")
    selected = session.testscollected
    collector.tests_selected = selected
    if session.config.option.collectonly:
        return
    if selected == 0:
        deselected = getattr(session.config, "_iothub_deselected", 0)
        collector.mark_incomplete(f"no tests selected ({deselected} deselected)" if deselected
                                  else "no tests collected")
    elif collector.tests_finished < selected:
        collector.mark_incomplete(f"{selected - collector.tests_finished} of {selected} selected tests did not run "
                                  "to their end")


def pytest_deselected(items):
    collector = _active_collector()
    if collector is not None and items:
        config = items[0].config
        config._iothub_deselected = getattr(config, "_iothub_deselected", 0) + len(items)


def _write_bundle(collector) -> None:
    if collector.report_dir is None:
        return
    results = collector.report_dir / "results.json"
    collector.write(results)
    # The page is rendered from the file just written, so it shows exactly what results.json holds (redacted).
    html.write(json.loads(results.read_text(encoding="utf-8")), collector.report_dir / "report.html")


_ACTIVE: list = []


def _active_collector():
    """The running suite's collector, for hooks that get no config (reports, interrupts)."""
    return _ACTIVE[0] if _ACTIVE else None


def pytest_sessionstart(session):
    collector = getattr(session.config, "_iothub", None)
    _ACTIVE.clear()
    if collector is not None:
        _ACTIVE.append(collector)
        _start_clock(session, collector)


def _start_clock(session, collector) -> None:
    """The run deadline (--deadline) and SIGTERM: either ends the run early, its bundle marked incomplete."""
    from iothub_conformance.http.deadline import RunClock, catch_sigterm

    def expire(reason: str) -> None:
        session.shouldstop = reason
        collector.mark_incomplete(reason)

    config = session.config
    config._iothub_clock = RunClock(config._iothub_settings.run_deadline, session_module.current().limits, expire)
    config._iothub_clock.start()
    config._iothub_restore_signals = catch_sigterm()


def pytest_runtest_teardown(item):
    """A target that answered none of the last few requests (transport.TargetSilent) would fail every test left the
    same way: stop the run there, marked incomplete, instead of recording an error per test."""
    collector = getattr(item.config, "_iothub", None)
    if collector is None or not session_module.active():
        return
    limits = session_module.current().limits
    if limits.target_silent and not item.session.shouldstop:
        reason = limits.silence()
        item.session.shouldstop = reason
        collector.mark_incomplete(reason)


def _stop_clock(config) -> None:
    clock = getattr(config, "_iothub_clock", None)
    if clock is not None:
        clock.stop()
        config._iothub_restore_signals()


def pytest_sessionfinish(session, exitstatus):
    collector = getattr(session.config, "_iothub", None)
    if collector is None:
        return
    _stop_clock(session.config)
    try:
        _cleanup_leftovers()
    except Exception as exc:  # noqa: BLE001 - whatever cleaning up met, the bundle is still written
        sys.stderr.write(bounded(f"cleanup of the run's devices failed: {type(exc).__name__}: {exc}")[:500] + "\n")
    if hasattr(session.config, "workeroutput"):
        # An xdist worker: its results reach the controller as test reports, and its exchanges (for coverage) go
        # with its output. Only the controller writes the bundle, once.
        session.config.workeroutput["iothub_exchanges"] = _exchanges()
        return
    _judge_completeness(session, collector, exitstatus)
    collector.finished = True
    _write_bundle(collector)
    if not collector.complete and session.exitstatus != pytest.ExitCode.USAGE_ERROR:
        session.exitstatus = EXIT_INCOMPLETE

def _exchanges() -> list[list]:
    """This process's exchanges with the target, in a form xdist can send to the controller."""
    if not session.active():
        return []
    return [[e.method, e.path, e.status, e.generated, e.api_version] for e in session.current().journal.exchanges]


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
    from iothub_conformance.surfaces.devices import path as device_path

    for p in sorted(created):
        device_id = unquote(p.split("/", 2)[2]) if p.count("/") >= 2 else ""
        if device_id.startswith(target.name_prefix):
            client.delete(device_path(device_id), params={"api-version": target.api_version},
                          headers={"If-Match": "*"})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    collector = getattr(config, "_iothub", None)
    if collector is not None and (collector.results or not collector.complete):
        for line in collector.table():
            terminalreporter.write_line(line)
