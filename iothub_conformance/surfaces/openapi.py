"""Loading a surface's spec for schemathesis, with the suite's generation settings."""

from __future__ import annotations

from functools import cache

import schemathesis
from schemathesis.config import SchemathesisConfig

from iothub_conformance.paths import spec_path, specs_dir

# Positive data only: generated negative values for a path deviceId could name a device the user owns
# (DESIGN: Safety). Statuses a valid request may still meet: 404 (unknown id), 412/428 (If-Match rules).
CONFIG = {
    "generation": {"mode": "positive"},
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "412", "428", "429"]},
        # Re-sends requests through its own transport, which cannot reach the in-process reference; the suite's
        # authorization_required check does the same job through the Target.
        "ignored_auth": {"enabled": False},
    },
}


def max_examples() -> int:
    """The run's --max-examples (config.py), read when a suite module is collected."""
    from iothub_conformance.config import DEFAULT_MAX_EXAMPLES
    from iothub_conformance.targets import session

    return session.current().max_examples if session.active() else DEFAULT_MAX_EXAMPLES


def load(surface: str, api_version: str = "2016-02-03"):
    return schemathesis.openapi.from_path(spec_path(surface, api_version), config=SchemathesisConfig.from_dict(CONFIG))


@cache
def of_file(spec: str):
    """The schema of one spec file named as the requirements and matching name it ("specs/2016-02-03/jobs.yaml"),
    loaded once: recorded traffic is judged against it exchange by exchange."""
    return schemathesis.openapi.from_path(str(specs_dir().parent / spec), config=SchemathesisConfig.from_dict(CONFIG))
