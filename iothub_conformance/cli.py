"""`iothub-conformance run | serve | send-c2d | faults | requirements | explain | diff | report`: the suite against a
target (default: the embedded reference), the reference served over HTTP for SDKs and other tools, a cloud-to-device
message fed to a served reference, the conformance document, one requirement's chain from statement to fault, two runs
compared, and a run's report page rendered again."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from iothub_conformance.config import ConfigError

from .config import OPTIONS

# The pytest plugins a suite run loads (schemathesis' parametrize, hypothesis' settings and seed, xdist's workers).
SUITE_PLUGINS = ("schemathesis.pytest.plugin", "_hypothesis_pytestplugin", "xdist.plugin")

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iothub-conformance", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the conformance suite and write reports/<run-id>/")
    for option in OPTIONS:
        env = f" (env {option.env})" if option.env else ""
        if option.switch:
            run.add_argument(option.cli_flag, dest=option.field, action="store_true", default=None,
                             help=option.help + env)
        else:
            run.add_argument(option.cli_flag, dest=option.field, default=None, help=option.help + env)
    run.add_argument("--reports", default=None, help="where report directories go (default ./reports)")
    run.add_argument("-n", "--workers", default=None,
                     help="spread the suite over N pytest-xdist workers (one merged bundle; names never collide)")
    run.add_argument("--certify", action="store_true",
                     help="a certification run: needs --product; refuses MUST requirements skipped for a reason the "
                          "profile does not give; seals the bundle with SHA256SUMS")
    run.add_argument("--product", help="with --certify: a JSON file naming vendor, product, version and endpoint")
    run.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments, after --")

    serve = sub.add_parser("serve", help="serve the reference IoT hub on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--connection-string", help="accept this service connection string (default: generated)")
    serve.add_argument("--profile", help="iothub (default) or docs-strict")
    serve.add_argument("--fault", action="append", default=[], help="turn on a fault switch (repeatable)")
    serve.add_argument("--rp-delay", type=float, default=None,
                       help="seconds a long-running resource-provider operation takes (default 1)")
    serve.add_argument("--configuration-interval", type=float, default=None, metavar="SECONDS",
                       help="seconds between two runs of a configuration's metrics and content (default 300, the "
                            "service's five minutes; the served hub's clock is the wall clock, so a suite run against "
                            "it waits that long for each later run)")
    serve.add_argument("--record", metavar="FILE.har",
                       help="write every exchange served (data plane and resource provider) to this file as HAR 1.2, "
                            "secrets redacted")
    serve.add_argument("--file-upload-container", metavar="URL",
                       help="a blob container SAS URL (create, write, read) that device file uploads go to, e.g. "
                            "Azurite's http://127.0.0.1:10000/devstoreaccount1/<container>?<sas>: a SAS URI request "
                            "answers hostName = the URL's host and any path before the container (for Azurite "
                            "'127.0.0.1:10000/devstoreaccount1'), containerName, and the URL's own SAS as sasToken "
                            "(not narrowed to the blob), so https://{hostName}/{containerName}/{blobName}{sasToken} "
                            "reaches the blob once a client's https is redirected to the emulator's port; without "
                            "it the served hub has no storage for file uploads")
    send = sub.add_parser("send-c2d", help="enqueue a cloud-to-device message on a served reference "
                                            "(POST /messages/deviceBound)")
    send.add_argument("--target", required=True, help="base URL of the served reference, e.g. http://127.0.0.1:8080")
    send.add_argument("--connection-string", help="a service connection string of that hub "
                                                  "(env IOTHUB_CONNECTION_STRING; serve prints it first)")
    send.add_argument("--device", required=True, help="the deviceId the message is for")
    send.add_argument("--property", action="append", default=[], metavar="NAME=VALUE",
                      help="a message property as a header: IoTHub-MessageId=…, Content-Type=…, IoTHub-app-x=… "
                           "(repeatable)")
    send.add_argument("body", help="the message body (text, sent as UTF-8)")
    sub.add_parser("faults", help="list the reference's fault switches")
    doc = sub.add_parser("requirements", help="print the conformance document: every requirement, the tests that "
                                              "prove it and what each profile makes of it")
    doc.add_argument("--format", default="md", help="md (default) or json")
    doc.add_argument("--output", help="write it to this file instead of stdout (CONFORMANCE.md: the committed copy)")
    doc.add_argument("--check", metavar="FILE",
                     help="exit 1 when FILE (e.g. CONFORMANCE.md) differs from the document the code generates now")
    why = sub.add_parser("explain", help="one requirement's chain: statement, source, profiles, spec operations, "
                                         "checks, suite tests, and the faults that break it with their proofs")
    why.add_argument("requirement", metavar="ID", help="a requirement id, e.g. DI-ETAG-002")
    diff = sub.add_parser("diff", help="compare two runs: exit 1 when NEW has a requirement failing that OLD did not")
    diff.add_argument("old", help="the earlier run: a report directory or its results.json")
    diff.add_argument("new", help="the later run: a report directory or its results.json")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")
    diff.add_argument("--record-missing", action="store_true",
                      help="when OLD does not exist yet (a first nightly run), copy NEW there as the baseline and say so")
    traffic = sub.add_parser("check-traffic", help="judge recorded exchanges (HAR, vcrpy cassettes, Azure SDK "
                                                   "recordings, serve --record) by the specs and checks; write a bundle")
    traffic.add_argument("files", nargs="+", metavar="FILE", help="recordings to judge")
    traffic.add_argument("--profile", help="iothub (default) or docs-strict")
    traffic.add_argument("--requests", action="store_true",
                         help="judge what the client sent too (verifying an SDK): api-version, Authorization and its "
                              "SAS token, required headers, Content-Type, body schema, If-Match")
    traffic.add_argument("--reports", default=None, help="where the report directory goes (default ./reports)")
    traffic.add_argument("--bundle", default=None, help="the report directory itself (instead of --reports/<run-id>)")
    traffic.add_argument("--hub-host", default=None,
                         help="the hub's host name, for traffic sent to another address (a local hub behind a "
                              "redirect); the SAS sr is compared with it")
    traffic.add_argument("--observable", action="append", default=[], metavar="HEADER",
                         help="trust this header as recorded even where the format's recorder is known to drop or "
                              "rewrite it (repeatable)")
    traffic.add_argument("--unobservable", action="append", default=[], metavar="HEADER",
                         help="never judge this header: the recorder dropped or rewrote it (repeatable)")
    page = sub.add_parser("report", help="render a run's report.html again from its results.json")
    page.add_argument("bundle", help="the run: a report directory or its results.json")
    page.add_argument("--output", help="write the page here (default: report.html beside results.json)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return run(args)
        if args.command == "serve":
            return serve(args)
        if args.command == "send-c2d":
            return send_c2d(args)
        if args.command == "requirements":
            return requirements_doc(args)
        if args.command == "explain":
            from .reference.faults import FAULTS
            from .report.explain import explain

            sys.stdout.write(explain(args.requirement, FAULTS))
            return 0
        if args.command == "diff":
            return diff_runs(args)
        if args.command == "report":
            return report_page(args)
        if args.command == "check-traffic":
            return check_traffic(args)
        if args.command == "faults":
            from .reference import FAULTS

            for fault in FAULTS.values():
                also = f"; also fails {', '.join(sorted(r for r, _ in fault.collateral))}" if fault.collateral else ""
                under = "" if fault.profile == "iothub" else f" (profile {fault.profile})"
                print(f"{fault.name:32} {fault.description}: breaks {', '.join(fault.breaks)}{under}{also}")
            return 0
    except ConfigError as exc:
        from iothub_conformance.evidence.redact import redact

        print(redact(f"error: {exc}"), file=sys.stderr)
        return 2
    return 2


def in_suites(arg: str) -> bool:
    """`arg` names a suite module, folder or test (suites/test_twins.py, suites/test_twins.py::test_x), as given or
    from the checkout's root."""
    return suite_arg(arg) is not None


def suite_arg(arg: str) -> str | None:
    """The suite module, folder or test `arg` names, as an absolute path (with its ::test part), whichever directory
    the run starts from; None when it names none."""
    from .paths import suites_dir

    if arg.startswith("-"):
        return None
    suites = suites_dir().resolve()
    named, sep, test = arg.partition("::")
    for path in (Path(named), suites.parent / named):
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            continue
        if resolved.exists() and (resolved == suites or suites in resolved.parents):
            return f"{resolved}{sep}{test}"
    return None


def run(args) -> int:
    import pytest

    from iothub_conformance.targets.resolve import new_run_id, resolve

    from .config import Settings, count
    from .paths import PACKAGE, reports_dir, suites_dir

    settings = Settings.from_sources({option.field: getattr(args, option.field) for option in OPTIONS})
    workers = count(1, 64)(args.workers, "-n") if args.workers is not None else 1
    run_id = settings.run_id or new_run_id()
    target = resolve(settings, run_id)  # validates options now: one clear line and exit 2 on a mistake
    try:
        if not settings.no_preflight:
            target.probe()
    finally:
        target.close()  # the suite's plugin builds its own and prints it as the first line
    product = None
    if args.certify:
        from .report import certify

        product = certify.start(args.product, settings.target_url or "embedded reference", Path.cwd())
    elif args.product:
        raise ConfigError("--product goes with --certify")
    if settings.bundle and args.reports:
        raise ConfigError("--bundle names the report directory itself; give it or --reports, not both")
    report_dir = Path(settings.bundle) if settings.bundle else (Path(args.reports) if args.reports else
                                                                 reports_dir()) / run_id
    _writable(report_dir, "--bundle" if settings.bundle else "--reports")
    _forget_certification(report_dir)
    # Only the plugins the suite needs, not every one the environment has installed (pytest's autoload is most of a
    # run's start-up); `-- -p NAME` adds another.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = [arg for name in SUITE_PLUGINS for arg in ("-p", name)]
    extra = [suite_arg(a) or a for a in (args.pytest_args or []) if a != "--"]
    # Suite modules or tests named after `--` are the selection (the whole suite otherwise), not an addition to it.
    selection = [] if any(in_suites(a) for a in extra) else [str(suites_dir())]
    pytest_args = [*selection, *plugins, "-p", "iothub_conformance.pytest_plugin.plugin", "-p", "no:cacheprovider",
                   # The suite's own settings, whatever pytest configuration the current directory has.
                   "-c", str(PACKAGE / "pytest_plugin" / "run.ini"), "--rootdir", str(suites_dir().parent),
                   "--confcutdir", str(suites_dir()),
                   # This process built the target (and so imported anyio) before pytest started: say nothing of it.
                   "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    given = {**settings.given(), "run_id": run_id, "bundle": str(report_dir), "no_preflight": True}
    for option in OPTIONS:
        value = given.get(option.field)
        if value is None or value is False:
            continue
        pytest_args += [option.pytest_flag] if option.switch else [option.pytest_flag, _plain(value)]
    if not any(a.startswith("--tb") for a in extra):
        # Short tracebacks: the long style prints every frame's arguments (Target reprs and the like), never the
        # target's words, and formatting a hundred of them is most of a failing run's time.
        pytest_args.append("--tb=short")
    if not any(a.startswith("--hypothesis-seed") for a in extra):
        # A seed of its own for every run, kept in results.json: `-- --hypothesis-seed=N` replays the same cases.
        pytest_args.append(f"--hypothesis-seed={secrets.randbelow(2**32)}")
    if workers > 1:
        pytest_args += ["-n", str(workers)]
    code = _exit_code(int(pytest.main(pytest_args + extra)))
    written = [str(report_dir / name) for name in ("junit.xml", "results.json", "report.html")
               if (report_dir / name).is_file()]
    print(f"report: {', '.join(written)}" if written else f"report: none written to {report_dir}")
    if product is not None:
        return _certified(report_dir, product, code)
    return code


# pytest's exit codes → the suite's: 0 every requirement passed or skipped for its reason, 1 a requirement failed or
# errored, 2 bad input or a target the preflight refused, 3 the run is incomplete (interrupted, deadline, a collection
# error, no tests) or the suite itself broke.
_EXIT = {0: 0, 1: 1, 2: 3, 3: 3, 4: 2, 5: 3}


def _exit_code(code: int) -> int:
    return _EXIT.get(code, code)


def _plain(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _writable(report_dir: Path, flag: str) -> None:
    """The bundle directory exists (or can be made) and takes files: else one line now, not an INTERNALERROR later."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        probe = report_dir / ".iothub-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise ConfigError(f"{flag}: {report_dir} is a file, not a report directory") from None
    except NotADirectoryError:
        raise ConfigError(f"{flag}: {report_dir} lies under a file, not a directory") from None
    except OSError as exc:
        raise ConfigError(f"{flag}: cannot write to {report_dir} ({exc.strerror or exc})") from None


def _forget_certification(report_dir: Path) -> None:
    """A bundle directory used again (--bundle reports/nightly) must not keep an earlier run's seal and verdict."""
    from .report import certify

    for name in (certify.DIGEST_FILE, certify.CERTIFICATION_FILE, certify.PRODUCT_FILE):
        (report_dir / name).unlink(missing_ok=True)


def _certified(report_dir: Path, product: dict, code: int) -> int:
    from .report import certify

    if not (report_dir / "results.json").is_file():
        print("certification: the run wrote no results (see above); nothing to certify", file=sys.stderr)
        return code or 1
    certification = certify.finish(report_dir, product)
    must = ", ".join(f"{n} {status}" for status, n in certification.must.items())
    print(f"certification: {certification.verdict} ({product['vendor']} {product['product']} {product['version']}; "
          f"MUST requirements: {must}); bundle sealed in {report_dir / certify.DIGEST_FILE}")
    if certification.incomplete:
        print(f"certification: the run is incomplete ({certification.incomplete}); run it again to certify",
              file=sys.stderr)
        return code or 3
    if certification.refused:
        print("certification refused: MUST requirements skipped for a reason the profile does not give:",
              file=sys.stderr)
        for item in certification.refused:
            print(f"  {item['id']}: {item['reason'][:160]}", file=sys.stderr)
        return 1
    return code


def serve(args) -> int:
    import uvicorn
    from starlette.types import ASGIApp

    from iothub_conformance.http import sas
    from iothub_conformance.rules.profiles import get_profile

    from .reference import Hub, create_app, parse_faults
    from .reference.recording import HarFile, Recording

    profile = get_profile(args.profile)
    faults = parse_faults(",".join(args.fault))
    if args.connection_string:
        hub = Hub.from_connection_string(sas.parse_connection_string(args.connection_string), profile=profile,
                                         faults=faults)
    else:
        hub = Hub.create(profile=profile, faults=faults)
    if args.rp_delay is not None:
        if not 0 <= args.rp_delay <= 3600:
            raise ConfigError(f"--rp-delay takes 0–3600 seconds, not {args.rp_delay}")
        hub.rp_delay = args.rp_delay
    if args.configuration_interval is not None:
        if not 1 <= args.configuration_interval <= 3600:
            raise ConfigError(f"--configuration-interval takes 1–3600 seconds, not {args.configuration_interval}")
        hub.configuration_interval = args.configuration_interval
    if not 0 < args.port < 65536:
        raise ConfigError(f"port must be 1–65535, not {args.port}")
    if args.file_upload_container:
        from .reference.file_upload import container_parts

        try:
            upload_host, upload_container, _ = container_parts(args.file_upload_container)
        except ValueError as exc:
            raise ConfigError(f"--file-upload-container: {exc}") from None
        hub.file_upload_container = args.file_upload_container
    har = None
    if args.record:
        try:
            har = HarFile(Path(args.record), hub_host=hub.host_name)
        except OSError as exc:
            raise ConfigError(f"--record: cannot write {args.record}: {exc.strerror or exc}") from None
    # First line: the connection string this reference accepts, so `run --target … --connection-string …` works.
    print(hub.connection_string(), flush=True)
    print(f"serving the reference IoT hub ({hub.host_name}, profile {profile.name}) on http://127.0.0.1:{args.port}",
          flush=True)
    # The resource provider is served on the same port; its token is a fixed test token, not a secret of anyone's.
    print(f"resource provider: --rp-url http://127.0.0.1:{args.port} --rp-token {hub.rp_token} "
          "--rp-subscription <any> --rp-resource-group <any>", flush=True)
    if hub.file_upload_container:
        print(f"file uploads go to container {upload_container} at {upload_host}", flush=True)
    app: ASGIApp = create_app(hub)
    if har is not None:
        # Outermost: the file holds what the client saw, x-ms-request-id included. Valid after every entry (recording.py).
        app = Recording(app, har, now=hub.clock.now)
        print(f"recording every exchange to {args.record} (HAR 1.2, secrets redacted)", flush=True)
    try:
        # Bodies are read whole (up to 1 MiB each): 64 connections at once bound what they can hold; more get 503.
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", limit_concurrency=64)
    except SystemExit as exc:  # uvicorn exits when the port is taken
        raise ConfigError(f"cannot serve on 127.0.0.1:{args.port}") from exc
    finally:
        if har is not None:
            har.close()
    return 0


def send_c2d(args) -> int:
    """Feed one message through the reference's service-side send. Not a safety-guarded run: the user names the
    device, as any service application would."""
    import os

    import httpx

    from iothub_conformance.config import Settings
    from iothub_conformance.surfaces.feeders import HttpFeeder
    from iothub_conformance.targets.resolve import resolve

    properties = {}
    for item in args.property:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--property takes NAME=VALUE, not {item!r}")
        properties[name.strip()] = value
    connection_string = args.connection_string or os.environ.get("IOTHUB_CONNECTION_STRING")
    target = resolve(Settings.from_sources({"target_url": args.target, "connection_string": connection_string}))
    try:
        fed = HttpFeeder(target.client(guarded=False), target.api_version).send(args.device, args.body.encode(),
                                                                                 properties)
    except httpx.TransportError as exc:
        raise ConfigError(f"target unreachable: {target.base_url} ({type(exc).__name__})") from None
    finally:
        target.close()
    if not fed.accepted:
        print(f"error: the target refused the message: {fed.status} {fed.code or ''} {fed.detail}".rstrip(),
              file=sys.stderr)
        return 1
    print(f"sent {len(args.body.encode())} bytes to device {args.device}")
    return 0


def requirements_doc(args) -> int:
    from .reference.faults import FAULTS
    from .report.conformance import document

    text = document(args.format, FAULTS)
    if args.check:
        return _check_document(Path(args.check), text, args.format)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _check_document(path: Path, text: str, fmt: str) -> int:
    """CI's staleness check of the committed document: one line saying how to bring it up to date."""
    regenerate = f"iothub-conformance requirements{'' if fmt == 'md' else ' --format ' + fmt} --output {path}"
    try:
        committed = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}; write it with `{regenerate}`") from None
    if committed != text:
        print(f"{path} is stale: it differs from what the registry, profiles, specs, suites and faults say now; "
              f"regenerate it with `{regenerate}`", file=sys.stderr)
        return 1
    print(f"{path} is current")
    return 0


def diff_runs(args) -> int:
    from .report import diff

    if args.record_missing and not Path(args.old).exists():
        import shutil

        new = Path(args.new)
        if not new.exists():
            raise ConfigError(f"{new} does not exist: no run to record as the baseline")
        diff.load(args.new)  # a bundle that cannot be read is not a baseline
        Path(args.old).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if new.is_dir() else shutil.copyfile)(new, args.old)
        print(f"no baseline at {args.old} yet: recorded {args.new} as the baseline; later runs are compared with it")
        return 0
    result = diff.compare(diff.load(args.old), diff.load(args.new))
    print(result.to_json() if args.json else diff.render(result))
    # An incomplete NEW run proves nothing about what it did not reach: never a green nightly.
    return 1 if result.regressions or result.incomplete else 0


def check_traffic(args) -> int:
    """Exit codes as `run`: 0 every judged requirement passed or was skipped, 1 one failed, 2 bad input."""
    import dataclasses

    from .paths import reports_dir
    from .report import summary
    from .rules.profiles import get_profile
    from .targets.resolve import new_run_id
    from .traffic import bundle, formats, judge

    profile = get_profile(args.profile)
    if args.bundle and args.reports:
        raise ConfigError("--bundle names the report directory itself; give it or --reports, not both")
    run_id = new_run_id()
    started = summary.now()
    exchanges = []
    for name in args.files:
        for exchange in formats.read(name):
            exchange = judge.adjusted(exchange, args.observable, args.unobservable)
            if args.hub_host:
                exchange = dataclasses.replace(exchange, hub_host=args.hub_host)
            exchanges.append(exchange)
    report_dir = Path(args.bundle) if args.bundle else (Path(args.reports) if args.reports else reports_dir()) / run_id
    _writable(report_dir, "--bundle" if args.bundle else "--reports")
    verdicts = judge.judge_all(exchanges, profile, requests=args.requests)
    results = bundle.data(verdicts, args.files, profile, args.requests, run_id, started)
    written = bundle.write(report_dir, results, verdicts)
    for line in bundle.summary_lines(results):
        print(line)
    print(f"report: {', '.join(str(p) for p in written)}")
    return 1 if results["counts"]["fail"] else 0


def report_page(args) -> int:
    from .report import html

    data = html.load(args.bundle)
    output = Path(args.output) if args.output else html.results_file(args.bundle).parent / "report.html"
    try:
        html.write(data, output)
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
