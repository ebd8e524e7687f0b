"""The resource provider's response rules: x-ms-request-id, the ETag header of a hub, and the ErrorDetails envelope.

Sources: rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (each operation returns x-ms-request-id);
INVENTORY.md §2c (ARM16 IotHubDescription.etag: if it is in the body it must also be a header; every operation's
default response is ErrorDetails {Code, HttpStatusCode, Message, Details}), §4d. Whether the envelope is required is
profile rule `rp_error_envelope`; whether the body etag needs the header, `rp_etag_header` (the real service sends the
body etag alone); the type of a hub's properties.state, `rp_state_type` (the pages: 1; the real service:
"Active"). Only responses to resource-provider paths (/subscriptions/…) are judged here; the data-plane checks leave
those alone.
"""

from __future__ import annotations

from iothub_conformance.checks.context import Context
from iothub_conformance.checks.observed import Observed, observe
from iothub_conformance.rules.failures import RequirementFailure, raise_all


def is_rp(obs: Observed) -> bool:
    return obs.path.lower().startswith("/subscriptions/")


def request_id_problems(obs: Observed) -> list[str]:
    rid = obs.header("x-ms-request-id")
    return [] if rid and rid.strip() else ["no (or an empty) x-ms-request-id"]


def etag_problems(obs: Observed, header_required: bool = True) -> list[str]:
    body = obs.json()
    etag = body.get("etag") if isinstance(body, dict) and 200 <= obs.status < 300 else None
    if not isinstance(etag, str) or not etag:
        return []
    header = obs.header("etag")
    if header is None:
        return [f"the body has etag {etag!r} but there is no ETag header"] if header_required else []
    if header != f'"{etag}"' and not (etag.startswith('"') and header == etag):
        return [f"ETag header {header!r} is not the body etag {etag!r} in double quotes"]
    return []


def error_details_problems(obs: Observed) -> list[str]:
    body = obs.json()
    if not isinstance(body, dict):
        return [f"the error body is not a JSON object: {obs.body[:120]!r}"]
    problems = [f"{name} is missing or empty" for name in ("Code", "Message")
                if not isinstance(body.get(name), str) or not body[name].strip()]
    problems += [f"{name} is not a string" for name in ("HttpStatusCode", "Details")
                 if body.get(name) is not None and not isinstance(body[name], str)]
    status = body.get("HttpStatusCode")
    if isinstance(status, str) and status.isdigit() and int(status) != obs.status:
        problems.append(f"HttpStatusCode {status} is not the response's status {obs.status}")
    return problems


_JSON_TYPES = {"integer": int, "string": str}


def state_problems(body: object, wanted: tuple[str, ...]) -> list[str] | None:
    """The first hub in a body (a hub, a {value: [...]} list or a bare list) whose properties.state is not of one of
    the JSON types `wanted`; None when the body holds no hub state to judge."""
    items = body.get("value") if isinstance(body, dict) and isinstance(body.get("value"), list) else body
    hubs = items if isinstance(items, list) else [items]
    states = [hub["properties"]["state"] for hub in hubs if isinstance(hub, dict)
              and isinstance(hub.get("properties"), dict) and "state" in hub["properties"]]
    if not states:
        return None
    kinds = tuple(_JSON_TYPES[name] for name in wanted)
    return [f"properties.state {state!r} is not of type {' or '.join(wanted)} (profile rule rp_state_type)"
            for state in states if not isinstance(state, kinds) or isinstance(state, bool)][:1]


def verify(response, context: Context) -> list[RequirementFailure]:
    """Every rule an RP response breaks, one failure per requirement; other responses are not judged."""
    obs = observe(response)
    if not is_rp(obs):
        return []
    where = f"{obs.method} {obs.path} → {obs.status}"
    context.judging("RP-REQID-001", reads=("x-ms-request-id",))
    found = [("RP-REQID-001", request_id_problems(obs))]
    body = obs.json()
    if isinstance(body, dict) and isinstance(body.get("etag"), str) and body["etag"] and 200 <= obs.status < 300:
        context.judging("RP-ETAG-001", reads=("etag",))
        found.append(("RP-ETAG-001", etag_problems(obs, context.value("rp_etag_header") is not False)))
    wanted = context.value("rp_state_type")
    states = state_problems(body, wanted) if wanted and 200 <= obs.status < 300 else None
    if states is not None:
        context.judging("RP-STATE-001")
        found.append(("RP-STATE-001", states))
    if obs.status >= 400 and context.value("rp_error_envelope") == "ErrorDetails":
        context.judging("RP-ERR-001")
        problems = error_details_problems(obs)
        found.append(("RP-ERR-001", ["; ".join(problems)] if problems else []))
    return [RequirementFailure(rid, f"{where}: {problems[0]}") for rid, problems in found if problems]


def resource_provider(ctx, response, case):
    raise_all(verify(response, Context.of_run()))
