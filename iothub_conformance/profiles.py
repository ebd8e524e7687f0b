"""The disputed rules, decided in one table per profile.

The 2016 pages, the later Swaggers and the real service disagree in places (INVENTORY §7, OBSERVED §5). A profile
decides each disputed rule once; tests and checks read the decision from here and never decide it themselves.
`None` means "this profile takes no position": the requirement is reported as skip with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ConfigError


@dataclass(frozen=True)
class Rule:
    value: object
    source: str
    # Set when the accepted behaviour departs from the 2016 pages: shown in the report as a noted deviation.
    deviation: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    rules: dict[str, Rule] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Rule:
        return self.rules[name]

    def value(self, name: str):
        return self.rules[name].value


# Rule names and what their values mean:
#   create_statuses            statuses accepted for PUT /devices/{id} that creates a device
#   create_if_match_star       status for PUT-create with `If-Match: *` on a missing device (None: undecided)
#   delete_requires_if_match   True: DELETE without If-Match is refused (4xx) and changes nothing
#   etag_on_delete             True: a successful DELETE also carries the ETag header
#   error_envelope             "iothub": {"Message": "ErrorCode:<Name>;…", "ExceptionMessage": …} plus the
#                              `iothub-errorcode` header naming the same code; None: no envelope is required
#   api_version_error_code     error code named for a missing/unsupported api-version (None: only 400 is checked)
#   quoted_star_is_wildcard    `If-Match: "*"` (quoted, as the service SDK sends it) is taken as the wildcard

IOTHUB = Profile(
    name="iothub",
    description="The documented contract; where the real service documentedly differs, its behaviour is accepted "
    "and reported as a noted deviation.",
    rules={
        "create_statuses": Rule(
            frozenset({200, 201}),
            "create-a-new-device-identity.md (201); OBSERVED.md §1 (real service 200)",
            deviation="the real service answers 200 to a create; the 2016 page says 201",
        ),
        "create_if_match_star": Rule(
            None, "no source states what the real service does with If-Match: * on a missing device"
        ),
        "delete_requires_if_match": Rule(
            False,
            "delete-a-device-identity.md (required); INVENTORY §2a (2021 spec: optional); OBSERVED.md §2 (SDK)",
            deviation="If-Match is optional on DELETE, as the later spec and the SDKs have it",
        ),
        "etag_on_delete": Rule(False, "OBSERVED.md §1 (ETag on responses that carry the device)"),
        "error_envelope": Rule("iothub", "OBSERVED.md §1 (error envelope), INVENTORY §4d"),
        "api_version_error_code": Rule("InvalidProtocolVersion", "OBSERVED.md §1; INVENTORY §4c (400001)"),
        "quoted_star_is_wildcard": Rule(True, "OBSERVED.md §2 (service SDK sends If-Match: \"*\")"),
    },
)

DOCS_STRICT = Profile(
    name="docs-strict",
    description="The 2016-02-03 REST pages to the letter.",
    rules={
        "create_statuses": Rule(frozenset({201}), "create-a-new-device-identity.md (Status code: 201)"),
        "create_if_match_star": Rule(412, "index__v2017-01-16_d8e1dc17d.md (PUT table: If-Match * on missing → 412)"),
        "delete_requires_if_match": Rule(True, "delete-a-device-identity.md (This request requires the If-Match header)"),
        "etag_on_delete": Rule(
            True, "device-identities-rest__v2016-12-27_e5666404f.md (Etag returned in all requests scoped to a device)"
        ),
        "error_envelope": Rule(None, "the 2016 pages define no error body"),
        "api_version_error_code": Rule(None, "the 2016 pages name no error code for api-version errors"),
        "quoted_star_is_wildcard": Rule(False, "RFC 7232 §3.1: only a bare * is the wildcard"),
    },
)

PROFILES = {p.name: p for p in (IOTHUB, DOCS_STRICT)}
DEFAULT = IOTHUB.name


def get_profile(name: str | None) -> Profile:
    name = name or DEFAULT
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r} (known: {', '.join(sorted(PROFILES))})") from None
