"""What a client sends: the rules a request keeps, judged from a recorded exchange (`check-traffic --requests`).

Sources: the specs (documented operations and their request bodies; the one header parameter they mark required is
Authorization);
docs/sources/INVENTORY.md §1 (every URI carries api-version), §5 (the SAS token: sr, se, skn, sig);
docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (bk_common: Authorization and Content-Type
application/json); RFC 7232 §3.1 (If-Match). The messaging operations' If-Match is the message's lock token, not an
entity-tag (docs/sources/complete-a-cloud-to-device-message.md), so its syntax is not judged here.

A token the recorder redacted is judged from the facts it kept in its place (Exchange.sas: sr, se, skn and the
signature's decoded length, never the signature), else it is unobservable."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import unquote

from iothub_conformance.checks.context import Context
from iothub_conformance.checks.observed import is_device_facing, is_messaging
from iothub_conformance.http.sas import scope_covers, token_facts
from iothub_conformance.rules import spec_operations
from iothub_conformance.rules.entity_tags import ENTITY_TAG
from iothub_conformance.rules.failures import RequirementFailure
from iothub_conformance.surfaces import openapi

# The bytes of an HMAC-SHA256: what a SAS signature decodes to (INVENTORY §5).
SIGNATURE_BYTES = 32
_IF_MATCH = re.compile(rf"^(\*|{ENTITY_TAG}(\s*,\s*{ENTITY_TAG})*)$")


def verify(exchange, match, context: Context) -> list[RequirementFailure]:
    """The request of `exchange` (a traffic.exchange.Exchange), whose documented operation is `match` (None: none)."""
    request = exchange.request
    where = f"{request.method} {request.path}"
    failures: list[RequirementFailure] = []
    context.judging("CLIENT-APIVER-001")
    version = request.api_version
    if not version:
        failures.append(RequirementFailure("CLIENT-APIVER-001", f"{where} has no api-version"))
    if version and version in spec_operations.versions():
        context.judging("CLIENT-OP-001")
        if match is None:
            failures.append(RequirementFailure("CLIENT-OP-001", f"{where}: no operation of api-version {version} "
                                                                "has this method and path"))
    failures += _authorization(exchange, context, where)
    if match is not None:
        failures += _body(exchange, match, context, where)
    failures += _if_match(exchange, context, where)
    return failures


def _authorization(exchange, context: Context, where: str) -> list[RequirementFailure]:
    request = exchange.request
    header = request.header("authorization")
    # Its presence shows even where the recorder wrote a placeholder over its value; its absence only where the
    # recorder keeps the header.
    context.judging("CLIENT-AUTH-001", reads=("authorization",) if header is None else ())
    if header is None:
        return [RequirementFailure("CLIENT-AUTH-001", f"{where} carries no Authorization")]
    if request.path.lower().startswith("/subscriptions/"):
        return []  # the resource provider takes an AAD bearer token, not a SAS token
    facts = exchange.sas or token_facts(header)
    if facts is None:
        if exchange.unobservable("authorization", "request") is None and not header.lower().startswith("bearer "):
            context.judging("CLIENT-SAS-001")
            return [RequirementFailure("CLIENT-SAS-001", f"{where}: Authorization is not a SharedAccessSignature token")]
        return []
    found = []
    found += _scope(exchange, facts, context, where)
    found += _expiry(exchange, facts, context, where)
    if not is_device_facing(request.path):
        context.judging("CLIENT-SAS-003")
        if not facts.get("skn"):
            found.append(RequirementFailure("CLIENT-SAS-003", f"{where}: the service token names no policy (skn)"))
    context.judging("CLIENT-SAS-004")
    if facts.get("sig_bytes") != SIGNATURE_BYTES:
        found.append(RequirementFailure("CLIENT-SAS-004", f"{where}: the signature is not the URL-encoded base64 of a "
                                                          f"{SIGNATURE_BYTES}-byte HMAC-SHA256"))
    return found


def _scope(exchange, facts: Mapping[str, object], context: Context, where: str) -> list[RequirementFailure]:
    """sr names the hub (and, for a device's own operations, that device) as a segment prefix of the request."""
    sr = str(facts.get("sr") or "")
    hub = exchange.hub_host or (exchange.request_host if exchange.host_is_name else None)
    context.judging("CLIENT-SAS-001", reads=() if hub else ("<hub host>",))
    if not sr:
        return [RequirementFailure("CLIENT-SAS-001", f"{where}: the token has no sr")]
    resource = unquote(sr).rstrip("/")
    host, _, scope = resource.partition("/")
    failures = []
    if hub and host.lower() != hub.lower():
        failures.append(RequirementFailure("CLIENT-SAS-001", f"{where}: the token's sr names host {host!r}, "
                                                             f"not the hub {hub!r}"))
    if scope and not scope_covers(scope, exchange.request.path.strip("/")):
        failures.append(RequirementFailure("CLIENT-SAS-001", f"{where}: the token's sr scope /{scope} does not cover "
                                                             "the request's path"))
    if is_device_facing(exchange.request.path) and not facts.get("skn") and not scope.lower().startswith("devices/"):
        failures.append(RequirementFailure("CLIENT-SAS-001", f"{where}: a device key's token must be scoped to the "
                                                             "device (sr = <hub>/devices/<id>)"))
    return failures


def _expiry(exchange, facts: Mapping[str, object], context: Context, where: str) -> list[RequirementFailure]:
    when: datetime | None = exchange.when
    context.judging("CLIENT-SAS-002", reads=() if when else ("<time of the exchange>",))
    se = str(facts.get("se") or "")
    if not se.isdigit():
        return [RequirementFailure("CLIENT-SAS-002", f"{where}: the token's se {se!r} is not seconds since 1970")]
    if when is not None and datetime.fromtimestamp(int(se), UTC) <= when:
        return [RequirementFailure("CLIENT-SAS-002", f"{where}: the token expired (se {se}) before the request was "
                                                     f"sent ({when.isoformat()})")]
    return []


def _body(exchange, match, context: Context, where: str) -> list[RequirementFailure]:
    """A body says its media type, one the operation takes; a JSON body matches the operation's schema."""
    body = exchange.request.body
    operation = _operation(match)
    bodies = {b.media_type: b for b in operation.body}
    if not body or not bodies:
        return []
    media = (exchange.request.header("content-type") or "").split(";")[0].strip().lower()
    if not media and is_messaging(exchange.request.path):
        # A device's message is opaque bytes; the messaging page asks for no Content-Type (INVENTORY §1), and the
        # device SDKs of 2016 send none with an event.
        return []
    context.judging("CLIENT-CT-001", reads=("content-type",))
    if media not in bodies:
        return [RequirementFailure("CLIENT-CT-001", f"{where}: a body with Content-Type {media or 'none'!r}; the "
                                                    f"operation takes {', '.join(sorted(bodies))}")]
    if media != "application/json" or "request" in exchange.cut:
        return []
    context.judging("CLIENT-BODY-001")
    try:
        document = json.loads(body)
    except ValueError:
        return [RequirementFailure("CLIENT-BODY-001", f"{where}: the JSON body does not parse")]
    body_schema = bodies[media]
    lenient = context.value("lenient_json_reader")
    nulls: set[tuple[str, ...]] = set()
    if lenient:
        document = as_the_service_reads(document, body_schema.optimized_schema, nulls)
    errors = list(body_schema.get_validator().iter_errors(document))
    if lenient:
        errors = [e for e in errors if not _enum_in_another_case(e) and not _unknown_member(e)
                  and not _sent_null(e, nulls)]
    if errors:
        first = errors[0]
        at = "/".join(str(p) for p in first.instance_path) or "(the body)"
        return [RequirementFailure("CLIENT-BODY-001", f"{where}: the body departs from the operation's schema at {at}: "
                                                      f"{first.message[:200]}")]
    return []


def as_the_service_reads(document: object, schema: dict, nulls: set[tuple[str, ...]] | None = None) -> object:
    """A request body as the service's JSON reader (Newtonsoft.Json's defaults) takes it: a member named in another
    case is the schema's member, a null member is one not sent (the service fills it: keys are generated, read-only
    fields are its own)."""
    root = schema

    def resolve(node: object) -> dict:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 32:
            node = root.get("x-bundled", {}).get(str(node["$ref"]).rsplit("/", 1)[-1], {})
            seen += 1
        return node if isinstance(node, dict) else {}

    def walk(value: object, node: object, at: tuple[str, ...]) -> object:
        node = resolve(node)
        if isinstance(value, dict):
            properties = node.get("properties") or {}
            by_case: dict[str, str] = {str(name).lower(): str(name) for name in properties}
            out = {}
            for key, item in value.items():
                name = str(key) if key in properties else by_case.get(str(key).lower(), str(key))
                if item is None:
                    if nulls is not None:
                        nulls.add((*at, name))
                    continue
                out[name] = walk(item, properties.get(name, {}), (*at, name))
            return out
        if isinstance(value, list):
            return [walk(item, node.get("items", {}), (*at, str(i))) for i, item in enumerate(value)]
        return value

    return walk(document, schema, ())


def _sent_null(error, nulls: set[tuple[str, ...]]) -> bool:
    """A required member the client sent as null: the service fills it (a null key is generated)."""
    name = getattr(error.kind, "property", None)
    return type(error.kind).__name__ == "Required" and isinstance(name, str) \
        and (*(str(p) for p in error.instance_path), name) in nulls


def _unknown_member(error) -> bool:
    """A member the schema does not define: the service's reader ignores it (MissingMemberHandling.Ignore)."""
    return type(error.kind).__name__ == "AdditionalProperties"


def _enum_in_another_case(error) -> bool:
    """An enum departure only in case ("Enabled" for "enabled"): the service's JSON reader takes it."""
    options = getattr(error.kind, "options", None)
    return isinstance(error.instance, str) and isinstance(options, list) \
        and error.instance.lower() in {o.lower() for o in options if isinstance(o, str)}


def _if_match(exchange, context: Context, where: str) -> list[RequirementFailure]:
    value = exchange.request.header("if-match")
    if value is None or is_messaging(exchange.request.path):
        return []
    context.judging("CLIENT-IFMATCH-001", reads=("if-match",))
    if not _IF_MATCH.match(value.strip()):
        return [RequirementFailure("CLIENT-IFMATCH-001", f"{where}: If-Match {value!r} is neither * nor RFC 7232 "
                                                         "entity-tags")]
    return []


def _operation(match):
    return openapi.of_file(match.spec)[match.path][match.method]
