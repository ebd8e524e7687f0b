"""`iothub-conformance run | serve | send-c2d | faults | requirements | diff | report`: the suite against a target
(default: the embedded reference), the reference served over HTTP for SDKs and other tools, a cloud-to-device message
fed to a served reference, the conformance document, two runs compared, and a run's report page rendered again."""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from pathlib import Path

from .errors import ConfigError


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="base URL of the endpoint under test (env IOTHUB_TARGET); "
                                         "omit to test the embedded reference")
    parser.add_argument("--connection-string", help="service connection string (env IOTHUB_CONNECTION_STRING)")
    parser.add_argument("--api-version", help="api-version to test (default 2016-02-03)")
    parser.add_argument("--profile", help="iothub (default) or docs-strict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iothub-conformance", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the conformance suite and write reports/<run-id>/")
    _target_options(run)
    run.add_argument("--reference-faults", help="fault switches for the embedded reference (comma-separated)")
    run.add_argument("--reports", default=None, help="where report directories go (default ./reports)")
    run.add_argument("--max-examples", type=int, help="hypothesis examples per operation (default 15)")
    run.add_argument("--c2d-feeder", help="how cloud-to-device messages are fed: auto, in-process, http, amqp, none")
    run.add_argument("--blob-container", help="a blob container SAS URI (rwdl) for import/export jobs "
                                              "(env IOTHUB_BLOB_CONTAINER)")
    run.add_argument("--arm-url", help="resource provider (ARM) base URL (env IOTHUB_ARM_URL); default: the embedded "
                                       "reference's, or none for an external --target")
    run.add_argument("--arm-token", help="AAD bearer token for --arm-url, without 'Bearer' (env IOTHUB_ARM_TOKEN)")
    run.add_argument("--arm-subscription", help="subscription id for --arm-url (env IOTHUB_ARM_SUBSCRIPTION)")
    run.add_argument("--arm-resource-group", help="an existing resource group the run may create hubs in "
                                                  "(env IOTHUB_ARM_RESOURCE_GROUP)")
    run.add_argument("-n", "--workers", type=int, default=None,
                     help="spread the suite over N pytest-xdist workers (one merged bundle; names never collide)")
    run.add_argument("--run-id", help="name the run (and its report directory); default: random")
    run.add_argument("--bundle", help="write the report bundle to this directory (default: reports/<run-id>), e.g. "
                                      "reports/nightly for a nightly diff")
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
    doc.add_argument("--output", help="write it to this file instead of stdout")
    diff = sub.add_parser("diff", help="compare two runs: exit 1 when NEW has a requirement failing that OLD did not")
    diff.add_argument("old", help="the earlier run: a report directory or its results.json")
    diff.add_argument("new", help="the later run: a report directory or its results.json")
    diff.add_argument("--json", action="store_true", help="print the comparison as JSON")
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
        if args.command == "diff":
            return diff_runs(args)
        if args.command == "report":
            return report_page(args)
        if args.command == "faults":
            from .reference import FAULTS

            for name, text in FAULTS.items():
                print(f"{name:28} {text}")
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 2


def run(args) -> int:
    import os

    import pytest

    from .paths import reports_dir, suites_dir
    from .target import Settings, new_run_id, resolve

    settings = Settings.from_env(target_url=args.target, connection_string=args.connection_string,
                                 api_version=args.api_version, profile=args.profile, faults=args.reference_faults,
                                 c2d_feeder=args.c2d_feeder, blob_container=args.blob_container,
                                 arm_url=args.arm_url, arm_token=args.arm_token,
                                 arm_subscription=args.arm_subscription, arm_resource_group=args.arm_resource_group)
    run_id = args.run_id or new_run_id()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,23}", run_id):
        raise ConfigError(f"--run-id takes 1–24 lowercase letters, digits and hyphens (it is part of every name the "
                          f"run creates), not {run_id!r}")
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise ConfigError(f"-n takes 1–64 workers, not {args.workers}")
    target = resolve(settings, run_id)  # validates options now: one clear line and exit 2 on a mistake
    target.probe()
    target.close()  # the suite's plugin builds its own and prints it as the first line
    product = None
    if args.certify:
        from .report import certify

        product = certify.start(args.product, settings.target_url or "embedded reference", Path.cwd())
    elif args.product:
        raise ConfigError("--product goes with --certify")
    if args.bundle and args.reports:
        raise ConfigError("--bundle names the report directory itself; give it or --reports, not both")
    report_dir = Path(args.bundle) if args.bundle else (Path(args.reports) if args.reports else reports_dir()) / run_id
    if report_dir.exists() and not report_dir.is_dir():
        raise ConfigError(f"{report_dir} is a file, not a report directory")
    _forget_certification(report_dir)
    if args.max_examples:
        os.environ["IOTHUB_MAX_EXAMPLES"] = str(args.max_examples)
    pytest_args = [str(suites_dir()), "-p", "iothub_conformance.plugin", "--run-id", run_id,
                   "--report-dir", str(report_dir), "-p", "no:cacheprovider",
                   "--rootdir", str(suites_dir().parent),
                   # This process built the target (and so imported anyio) before pytest started: say nothing of it.
                   "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    for flag, value in (("--target", settings.target_url), ("--connection-string", settings.connection_string),
                        ("--api-version", settings.api_version), ("--profile", settings.profile),
                        ("--reference-faults", settings.faults), ("--c2d-feeder", settings.c2d_feeder),
                        ("--blob-container", settings.blob_container), ("--arm-url", settings.arm_url),
                        ("--arm-token", settings.arm_token), ("--arm-subscription", settings.arm_subscription),
                        ("--arm-resource-group", settings.arm_resource_group)):
        if value:
            pytest_args += [flag, value]
    extra = [a for a in (args.pytest_args or []) if a != "--"]
    if not any(a.startswith("--hypothesis-seed") for a in extra):
        # A seed of its own for every run, kept in results.json: `-- --hypothesis-seed=N` replays the same cases.
        pytest_args.append(f"--hypothesis-seed={secrets.randbelow(2**32)}")
    if args.workers and args.workers > 1:
        pytest_args += ["-n", str(args.workers)]
    code = pytest.main(pytest_args + extra)
    print(f"report: {report_dir}/junit.xml, {report_dir}/results.json, {report_dir}/report.html")
    if product is not None:
        return _certified(report_dir, product, int(code))
    return int(code)


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
    if certification.refused:
        print("certification refused: MUST requirements skipped for a reason the profile does not give:",
              file=sys.stderr)
        for item in certification.refused:
            print(f"  {item['id']}: {item['reason'][:160]}", file=sys.stderr)
        return 1
    return code


def serve(args) -> int:
    import uvicorn

    from . import sas
    from .profiles import get_profile
    from .reference import Hub, create_app, parse_faults

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
    if not 0 < args.port < 65536:
        raise ConfigError(f"port must be 1–65535, not {args.port}")
    # First line: the connection string this reference accepts, so `run --target … --connection-string …` works.
    print(hub.connection_string(), flush=True)
    print(f"serving the reference IoT hub ({hub.host_name}, profile {profile.name}) on http://127.0.0.1:{args.port}",
          flush=True)
    # The resource provider is served on the same port; its token is a fixed test token, not a secret of anyone's.
    print(f"resource provider: --arm-url http://127.0.0.1:{args.port} --arm-token {hub.arm_token} "
          "--arm-subscription <any> --arm-resource-group <any>", flush=True)
    try:
        uvicorn.run(create_app(hub), host="127.0.0.1", port=args.port, log_level="warning")
    except SystemExit as exc:  # uvicorn exits when the port is taken
        raise ConfigError(f"cannot serve on 127.0.0.1:{args.port}") from exc
    return 0


def send_c2d(args) -> int:
    """Feed one message through the reference's service-side send. Not a safety-guarded run: the user names the
    device, as any service application would."""
    import os

    import httpx

    from .feeders import HttpFeeder
    from .target import Settings, resolve

    properties = {}
    for item in args.property:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--property takes NAME=VALUE, not {item!r}")
        properties[name.strip()] = value
    connection_string = args.connection_string or os.environ.get("IOTHUB_CONNECTION_STRING")
    target = resolve(Settings(target_url=args.target, connection_string=connection_string))
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
    from .report.conformance import document

    text = document(args.format)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def diff_runs(args) -> int:
    from .report import diff

    result = diff.compare(diff.load(args.old), diff.load(args.new))
    print(result.to_json() if args.json else diff.render(result))
    return 1 if result.regressions else 0


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
