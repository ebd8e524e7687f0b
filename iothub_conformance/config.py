"""Every option of a run, declared once.

Each row is `iothub-conformance run --NAME`, pytest `--iothub-NAME` (namespaced: a neighbour plugin's `--profile`
cannot collide with ours) and, where it has one, an environment variable. A value is parsed and checked here, so a
mistake is one clear line (ConfigError) wherever it was given. `Settings` is what the rows produce.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """Bad input the user can fix (an option, a connection string, a profile, a target): one clear line, exit 2."""


# How cloud-to-device messages are fed (--c2d-feeder); surfaces/feeders.py implements each.
FEEDERS = ("auto", "in-process", "http", "amqp", "none")
# The api-versions the suite covers, and the spec folders each one's suites read: the 2016-02-03 run includes the
# 2016-11-14 twin and scheduled-job pages, the version those features came with.
SPEC_VERSIONS = {"2016-02-03": ("2016-02-03", "2016-11-14"), "2021-04-12": ("2021-04-12",)}
API_VERSIONS = tuple(SPEC_VERSIONS)
DEFAULT_API_VERSION = ",".join(API_VERSIONS)  # a run covers every version unless told otherwise
DEFAULT_PREFIX = "conf-"
DEFAULT_REQUEST_TIMEOUT = 30.0  # connect + headers + body, per request
DEFAULT_RETRY_WAIT = 30.0  # the most a request waits, in all, on 429 Retry-After
DEFAULT_MAX_BODY = 8 * 1024 * 1024  # a response body beyond this is refused unread
# A default run (15 examples) against a dead or hostile target ends within 3 minutes of the preflight; a run against
# the embedded reference takes about 12 s. Deeper runs and slow features get more (Settings.run_deadline).
DEFAULT_DEADLINE = 170.0
DEFAULT_MAX_EXAMPLES = 15
DEFAULT_SILENT_LIMIT = 3  # requests in a row that hit the request deadline before the target counts as silent
MAX_EXAMPLES = 10_000  # hypothesis examples per operation: beyond this a run would not end in a night
DEFAULT_MAX_DELIVERY_COUNT = 10  # cloudToDevice.maxDeliveryCount, a hub setting (INVENTORY §6)
DEFAULT_JOB_TIMEOUT = 300.0  # how long the suite waits for an import/export job to end
DEFAULT_RP_LOCATION = "West US"  # one of the regions rp__create-a-new-iot-hub.md lists
DEFAULT_RP_TIMEOUT = 900.0  # how long the suite waits for a long-running RP operation (a real hub takes minutes)
RUN_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")


# -- parsers: str → value, or ConfigError naming the option ------------------------------------------------------


def url(value: str, flag: str) -> str:
    """An http(s) URL with a host; no control characters or spaces; a valid port; a password with / ? # @
    percent-encoded."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise ConfigError(f"{flag} must be a URL without spaces or control characters, not {_shown(value)}")
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        advice = ("; a user name or password holding / ? # @ or : must be percent-encoded (%2F %3F %23 %40 %3A)"
                  if "@" in value else "")
        raise ConfigError(f"{flag} is not a valid URL ({exc}): {_shown(value)}{advice}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{flag} must be an http(s) URL with a host, e.g. https://myhub.azure-devices.net, not "
                          f"{_shown(value)}")
    if port == 0:
        raise ConfigError(f"{flag} names port 0: {_shown(value)}")
    return value.rstrip("/")


def _shown(value: str) -> str:
    """The value as the user can read it back, with any password in it hidden: redact() knows the userinfo of a
    well-formed URL, and a value refused here may not be one (a password holding an unencoded /)."""
    return repr(re.sub(r"(//[^/@:]*:)[^@]*@", r"\1<redacted>@", value))


def seconds(value: str, flag: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 < number < float("inf"):
        raise ConfigError(f"{flag} is a positive number of seconds, not {value!r}")
    return number


def count(low: int, high: int) -> Callable[[str, str], int]:
    def parse(value: str, flag: str) -> int:
        text = str(value).strip()
        if not re.fullmatch(r"[0-9]{1,12}", text) or not low <= int(text) <= high:
            raise ConfigError(f"{flag} takes a whole number from {low} to {high:,}, not {value!r}")
        return int(text)

    return parse


def size(value: str, flag: str) -> int:
    """Bytes: 8388608, 8MB, 512KB (binary multiples)."""
    match = re.fullmatch(r"\s*([0-9]{1,12})\s*([KMG]i?B?)?\s*", str(value), re.IGNORECASE)
    if not match:
        raise ConfigError(f"{flag} is a size in bytes (e.g. 8MB, 512KB, 1048576), not {value!r}")
    number = int(match.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[(match.group(2) or "")[:1].upper()]
    if not 1024 <= number <= 1024**3:
        raise ConfigError(f"{flag} takes 1KB to 1GB, not {value!r}")
    return number


def readable_file(value: str, flag: str) -> str:
    path = Path(value).expanduser()
    try:
        path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag}: cannot read {value!r} ({exc.strerror or exc})") from None
    return str(path)


def run_id(value: str, flag: str) -> str:
    if not RUN_ID.fullmatch(value):
        raise ConfigError(f"{flag} takes 1–24 lowercase letters, digits and hyphens (it is part of every name the run "
                          f"creates), not {value!r}")
    return value


def name_prefix(value: str, flag: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}", value):
        raise ConfigError(f"{flag} takes 1–16 letters, digits and hyphens, not {value!r}")
    return value


def text(value: str, flag: str) -> str:
    if not str(value).strip():
        raise ConfigError(f"{flag} is empty")
    return str(value)


def api_versions(value: str, flag: str) -> str:
    """A comma-separated list of covered api-versions, in the order given, each once."""
    chosen = list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not chosen:
        raise ConfigError(f"{flag} needs at least one api-version (covered: {', '.join(API_VERSIONS)})")
    for version in chosen:
        if version not in API_VERSIONS:
            raise ConfigError(f"api-version {_shown(version)} is not covered by this suite "
                              f"(covered: {', '.join(API_VERSIONS)})")
    return ",".join(chosen)


def switch(value, flag: str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{flag} is on or off (1/0, true/false), not {value!r}")


# -- the table ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    name: str  # run's --NAME; pytest's --iothub-NAME
    field: str  # the Settings field it sets
    help: str
    env: str | None = None
    parse: Callable = text
    switch: bool = False  # takes no value

    @property
    def metavar(self) -> str:
        named = {url: "URL", seconds: "S", size: "SIZE", readable_file: "FILE", run_id: "ID", name_prefix: "PREFIX"}
        if self.parse in named:
            return named[self.parse]
        return "N" if getattr(self.parse, "__name__", "") == "parse" else self.name.split("-")[-1].upper()

    @property
    def cli_flag(self) -> str:
        return f"--{self.name}"

    @property
    def pytest_flag(self) -> str:
        return f"--iothub-{self.name}"


OPTIONS: tuple[Option, ...] = (
    Option("target", "target_url", "base URL of the endpoint under test; none: the embedded reference",
           "IOTHUB_TARGET", url),
    Option("connection-string", "connection_string", "service connection string HostName=…;SharedAccessKeyName=…;"
           "SharedAccessKey=… (a policy with RegistryRead and RegistryWrite)", "IOTHUB_CONNECTION_STRING"),
    Option("api-version", "api_version", f"api-versions to test, comma-separated (default {DEFAULT_API_VERSION})",
           "IOTHUB_API_VERSION", api_versions),
    Option("profile", "profile", "profile deciding the disputed rules: iothub (default) or docs-strict",
           "IOTHUB_PROFILE"),
    Option("max-examples", "max_examples", f"generated examples per operation (default {DEFAULT_MAX_EXAMPLES}, "
           f"at most {MAX_EXAMPLES:,})", "IOTHUB_MAX_EXAMPLES", count(1, MAX_EXAMPLES)),
    Option("request-timeout", "request_timeout", "seconds a request may take in all: connect, headers and body "
           f"(default {DEFAULT_REQUEST_TIMEOUT:g})", "IOTHUB_REQUEST_TIMEOUT", seconds),
    Option("retry-wait", "retry_wait", "seconds a request may wait in all on 429 Retry-After; a longer Retry-After is "
           f"an error (default {DEFAULT_RETRY_WAIT:g})", "IOTHUB_RETRY_WAIT", seconds),
    Option("max-body", "max_body", "largest response body read, e.g. 8MB (default); a larger one is refused unread",
           "IOTHUB_MAX_BODY", size),
    Option("deadline", "deadline", f"seconds the whole run may take; then it stops and its report says incomplete "
           f"(default {DEFAULT_DEADLINE:g}, more for more examples, jobs and an external resource provider)",
           "IOTHUB_DEADLINE", seconds),
    Option("silent-limit", "silent_limit", "requests in a row without an answer within --request-timeout after which "
           f"the target counts as silent and the run stops, marked incomplete (default {DEFAULT_SILENT_LIMIT}; 0: never)",
           "IOTHUB_SILENT_LIMIT", count(0, 100)),
    Option("ca-bundle", "ca_bundle", "PEM file of the CA certificates to trust for an https target (a private CA)",
           "IOTHUB_CA_BUNDLE", readable_file),
    Option("no-preflight", "no_preflight", "skip the preflight probe of the target's credentials and sanity (to "
           "diagnose a target; verdicts stay honest)", "IOTHUB_NO_PREFLIGHT", switch, switch=True),
    Option("name-prefix", "prefix", f"prefix of everything the run creates (default {DEFAULT_PREFIX})",
           "IOTHUB_NAME_PREFIX", name_prefix),
    Option("reference-faults", "faults", "comma-separated fault switches for the embedded reference",
           "IOTHUB_REFERENCE_FAULTS"),
    Option("c2d-feeder", "c2d_feeder", "how cloud-to-device messages are fed: auto (default), in-process, http "
           "(POST /messages/deviceBound), amqp (azure-iot-hub) or none", "IOTHUB_C2D_FEEDER"),
    Option("c2d-max-delivery-count", "max_delivery_count", "the target hub's cloudToDevice.maxDeliveryCount "
           f"(default {DEFAULT_MAX_DELIVERY_COUNT})", "IOTHUB_C2D_MAX_DELIVERY_COUNT", count(1, 100)),
    Option("blob-container", "blob_container", "a blob container SAS URI (read, write, list, delete) for "
           "import/export jobs; without it those tests skip on an external target", "IOTHUB_BLOB_CONTAINER"),
    Option("job-timeout", "job_timeout", f"seconds to wait for an import/export job to end (default "
           f"{DEFAULT_JOB_TIMEOUT:g})", "IOTHUB_JOB_TIMEOUT", seconds),
    Option("rp-url", "rp_url", "resource provider (ARM) base URL, e.g. https://management.azure.com; none: the "
           "embedded reference's, or no RP tests for an external --target", "IOTHUB_RP_URL", url),
    Option("rp-token", "rp_token", "AAD bearer token for --rp-url, without the word Bearer", "IOTHUB_RP_TOKEN"),
    Option("rp-subscription", "rp_subscription", "subscription id for --rp-url", "IOTHUB_RP_SUBSCRIPTION"),
    Option("rp-resource-group", "rp_resource_group", "an existing resource group the run may create hubs in",
           "IOTHUB_RP_RESOURCE_GROUP"),
    Option("rp-location", "rp_location", f"region for the hubs the run creates (default {DEFAULT_RP_LOCATION})",
           "IOTHUB_RP_LOCATION"),
    Option("rp-timeout", "rp_timeout", f"seconds to wait for a long-running RP operation (default "
           f"{DEFAULT_RP_TIMEOUT:g})", "IOTHUB_RP_TIMEOUT", seconds),
    Option("only-requirements", "only_requirements", "comma-separated requirement ids: run only the tests that prove "
           "them (e.g. RP-LIST-001,RP-COND-001)"),
    Option("only-operations", "only_operations", "comma-separated spec operationIds: the generated tests of single "
           "operations run for these only (e.g. getDevice,Devices_GetTwin); stateful and hand-written tests are "
           "chosen as without it"),
    Option("run-id", "run_id", "name the run (and its report directory); default: random", None, run_id),
    Option("bundle", "bundle", "write the report bundle (junit.xml, results.json, report.html) to this directory "
           "(default: reports/<run-id>)"),
)
BY_FIELD = {option.field: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """What the user asked for: options first, then environment variables, then defaults."""

    target_url: str | None = None
    connection_string: str | None = None
    api_version: str = DEFAULT_API_VERSION
    profile: str | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    retry_wait: float = DEFAULT_RETRY_WAIT
    max_body: int = DEFAULT_MAX_BODY
    deadline: float | None = None  # None: run_deadline decides
    silent_limit: int = DEFAULT_SILENT_LIMIT
    ca_bundle: str | None = None
    no_preflight: bool = False
    prefix: str = DEFAULT_PREFIX
    faults: str | None = None  # embedded reference only
    c2d_feeder: str | None = None  # one of FEEDERS; None means auto
    max_delivery_count: int = DEFAULT_MAX_DELIVERY_COUNT
    blob_container: str | None = None
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    rp_url: str | None = None
    rp_token: str | None = None
    rp_subscription: str | None = None
    rp_resource_group: str | None = None
    rp_location: str = DEFAULT_RP_LOCATION
    rp_timeout: float = DEFAULT_RP_TIMEOUT
    only_requirements: str | None = None
    only_operations: str | None = None
    run_id: str | None = None
    bundle: str | None = None

    @classmethod
    def from_sources(cls, given: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None,
                     *, flag: Callable[[Option], str] = lambda o: o.cli_flag) -> Settings:
        """`given` maps Settings fields to what the command line said (None or absent: not given); `flag` names an
        option in error messages as the user wrote it."""
        given = given or {}
        environ = os.environ if environ is None else environ
        values = {}
        for option in OPTIONS:
            raw, where = given.get(option.field), flag(option)
            if (raw is None or raw is False) and option.env and environ.get(option.env, "") != "":
                raw, where = environ[option.env], option.env
            if raw is None or (option.switch and raw is False):
                continue
            values[option.field] = option.parse(raw, where)
        return cls(**values)

    @classmethod
    def from_env(cls, **given) -> Settings:
        return cls.from_sources(given)

    def given(self) -> dict[str, object]:
        """The fields that differ from their defaults: what a child process must be told."""
        default = Settings()
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(default, f.name)}

    @property
    def api_versions(self) -> tuple[str, ...]:
        return tuple(self.api_version.split(","))

    @property
    def run_deadline(self) -> float:
        """The --deadline given, else one sized to what the run does: more examples, jobs that may take
        --job-timeout each, an external resource provider whose operations take minutes."""
        if self.deadline is not None:
            return self.deadline
        deadline = DEFAULT_DEADLINE * max(1.0, self.max_examples / DEFAULT_MAX_EXAMPLES)
        if self.target_url and self.blob_container:
            deadline += 4 * self.job_timeout
        if self.rp_url:
            deadline += 6 * self.rp_timeout
        return deadline


# -- the README's option table, generated from OPTIONS (tests/test_readme.py checks it is current) -----------------

README_BEGIN = "<!-- options: generated from iothub_conformance/config.py by `python -m iothub_conformance.config` -->"
README_END = "<!-- end of options -->"


def options_markdown() -> str:
    rows = ["| `iothub-conformance run` | pytest | environment | what |", "|---|---|---|---|"]
    for option in OPTIONS:
        value = "" if option.switch else " " + option.metavar
        rows.append(f"| `{option.cli_flag}{value}` | `{option.pytest_flag}` | {f'`{option.env}`' if option.env else ''} "
                    f"| {option.help.replace('|', '/')} |")
    return "\n".join([README_BEGIN, *rows, README_END])


def rewrite_readme(path: Path) -> bool:
    """Put the current table between the markers; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    updated = text[:start] + options_markdown() + text[end:]
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    readme = Path(__file__).resolve().parent.parent / "README.md"
    print(f"{readme}: {'updated' if rewrite_readme(readme) else 'already current'}")
