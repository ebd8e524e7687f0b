"""From settings to a Target: the options checked, the limits set, the resource provider found; the embedded
reference is built by `targets.embedded`, the one place the suite side reaches into it."""

from __future__ import annotations

import secrets
import sys
from typing import Any

from iothub_conformance.config import FEEDERS, ConfigError, Settings, api_versions
from iothub_conformance.http import sas
from iothub_conformance.http.transport import Limits
from iothub_conformance.rules.profiles import get_profile
from iothub_conformance.targets.target import Target, amqp_host_problem, rp_endpoint


def new_run_id() -> str:
    return secrets.token_hex(4)


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False
    except ValueError:  # imported already, without a spec (made at run time)
        return module in sys.modules


def _check_feeder(name: str | None, embedded: bool) -> None:
    if name is None:
        return
    if name not in FEEDERS:
        raise ConfigError(f"unknown C2D feeder {name!r} (choose from {', '.join(FEEDERS)})")
    if name == "in-process" and not embedded:
        raise ConfigError("--c2d-feeder in-process works with the embedded reference only")
    if name == "amqp" and not _installed("azure.iot.hub"):
        raise ConfigError("--c2d-feeder amqp needs the azure-iot-hub package (pip install 'iothub-conformance[amqp]')")


def resolve(settings: Settings, run_id: str | None = None) -> Target:
    """Turn settings into a Target, or raise ConfigError with one clear line."""
    profile = get_profile(settings.profile)
    run_id = run_id or new_run_id()
    _check_feeder(settings.c2d_feeder, embedded=not settings.target_url)
    if settings.blob_container:
        from iothub_conformance.http.blobs import BlobError, Container

        try:
            Container(settings.blob_container).close()
        except BlobError as exc:
            raise ConfigError(f"--blob-container: {exc}") from None
    versions = api_versions(settings.api_version, "--api-version").split(",")  # Settings built in code is checked too
    limits = Limits(settings.request_timeout, settings.retry_wait, settings.max_body,
                    silent_limit=settings.silent_limit or None)
    common: dict[str, Any] = {
        "limits": limits, "c2d_feeder": settings.c2d_feeder, "max_delivery_count": settings.max_delivery_count,
        "job_timeout": settings.job_timeout, "ca_bundle": settings.ca_bundle, "max_examples": settings.max_examples,
        "api_versions": tuple(versions)}
    if settings.target_url:
        if settings.faults:
            raise ConfigError("fault switches apply to the embedded reference only; start "
                              "`iothub-conformance serve --fault …` for a served one")
        if not settings.connection_string:
            raise ConfigError("--target needs --connection-string (or IOTHUB_CONNECTION_STRING) to sign requests")
        connection = sas.parse_connection_string(settings.connection_string)
        target = Target(settings.target_url.rstrip("/"), connection, versions[0], profile, run_id,
                        settings.prefix, blob_container=settings.blob_container, rp=rp_endpoint(settings, None), **common)
        if settings.c2d_feeder == "amqp":
            problem = amqp_host_problem(target)
            if problem:
                raise ConfigError(f"--c2d-feeder amqp: {problem}")
        return target
    from iothub_conformance.targets.embedded import embedded_target

    return embedded_target(settings, profile, run_id, common)

