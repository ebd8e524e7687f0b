"""SAS token checks for the reference hub (INVENTORY §5, OBSERVED §2)."""

from __future__ import annotations

import time
from urllib.parse import unquote

from starlette.requests import Request

from iothub_conformance.http import sas

from .faults import switch
from .hub import Hub
from .policies import ALL_PERMISSIONS, DEVICE_CONNECT, OWNER, REGISTRY_READ, REGISTRY_WRITE

ACCEPT_EXPIRED_TOKEN = switch("accept-expired-token")
ACCEPT_UNKNOWN_POLICY = switch("accept-unknown-policy")
DEVICE_TOKEN_ANY_DEVICE = switch("device-token-any-device")
IGNORE_DEVICE_CONNECT = switch("ignore-device-connect")
IGNORE_TOKEN_AUDIENCE = switch("ignore-token-audience")
NO_AUTH_REQUIRED = switch("no-auth-required")
REFUSE_DEVICE_TOKENS = switch("refuse-device-tokens")
SKIP_SIGNATURE_CHECK = switch("skip-signature-check")
# api-version 2021-04-12 only (DEVAUTH- requirements, reference/faults_2021_scope.py).
DEVAUTH_DEVICE_TOKEN_ANY_DEVICE = switch("devauth-2021-device-token-any-device")
DEVAUTH_POLICY_WITHOUT_DEVICE_CONNECT = switch("devauth-2021-policy-without-device-connect")
DEVAUTH_EXPIRED_DEVICE_TOKEN = switch("devauth-2021-expired-device-token")
DEVAUTH_MODULE_TOKEN_AS_DEVICE = switch("devauth-2021-module-token-as-device")
DEVAUTH_DEVICE_TOKEN_SERVES_SERVICE = switch("devauth-2021-device-token-serves-service")
DEVAUTH_REFUSE_DEVICE_TOKENS = switch("devauth-2021-refuse-device-tokens")
DEVAUTH_REFUSE_POLICY_TOKENS = switch("devauth-2021-refuse-policy-tokens")


def authorize(hub: Hub, request: Request, permission: str, device_id: str | None = None,
              module_id: str | None = None, *, module_only: bool = False,
              relax: frozenset[str] = frozenset()) -> str | None:
    """None when the request's token grants `permission`, else the reason for a 401.

    `module_id`: the module a request is scoped to. A module-scoped token (sr `<host>/devices/<d>/modules/<m>`, signed
    with that module's key, docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md) grants DeviceConnect for that
    module only, as a device-key token does for its device. `module_only`: only that module's own token is taken (the
    Edge device-scope calls, which the Edge hub signs with its $edgeHub module's token,
    docs/sources/INVENTORY-2021-04-12.md §4.3). `relax`: what a caller's fault switch lets through ("expiry": an
    expired token; "audience": a token whose sr or identity is another's)."""
    relax = relax | _relaxed_at_2021(hub, request, permission)
    header = request.headers.get("authorization")
    if header is None:
        return None if hub.has(NO_AUTH_REQUIRED) else "the request has no Authorization header"
    try:
        token = sas.parse_token(header)
    except sas.TokenError as exc:
        return f"the Authorization header is not a valid SharedAccessSignature: {exc}"
    if token.se <= time.time() and not hub.has(ACCEPT_EXPIRED_TOKEN) and not (
            "expiry" in relax or ("device-expiry" in relax and token.skn is None)):
        return "the token has expired"
    token_module: str | None = None
    if token.skn is not None and "refuse-policy" in relax:
        return "policy tokens are not accepted on device endpoints"
    if token.skn is None and "refuse-device" in relax and not _module_scoped(hub, token):
        return "device-scoped tokens are not accepted"
    if token.skn is not None:
        granted, reason = _policy_permissions(hub, token, token.skn)
        token_device = None
    elif hub.has(REFUSE_DEVICE_TOKENS):
        return "device-scoped tokens are not accepted"
    elif _module_scoped(hub, token):
        (token_device, token_module), reason = _module_of(hub, token)
        granted = frozenset({DEVICE_CONNECT})
    else:
        token_device, reason = _device_of(hub, token)
        granted = ALL_PERMISSIONS if "device-serves-all" in relax else frozenset({DEVICE_CONNECT})
    if reason:
        return reason
    loose = "audience" in relax
    if module_only and not loose and (token_module is None or token_module != module_id or token_device != device_id):
        return f"only the token of module {module_id!r} of device {device_id!r} is accepted here"
    if "module-as-device" in relax and token_module is not None and module_id is None and token_device == device_id:
        return None
    any_device = token_device is not None and (hub.has(DEVICE_TOKEN_ANY_DEVICE) or loose or "any-device" in relax)
    if not (hub.has(IGNORE_TOKEN_AUDIENCE) or any_device) and not _covers_request(hub, token, request):
        return f"the token's sr does not cover {hub.host_name}{request.scope['path']}"
    if permission == REGISTRY_READ and REGISTRY_WRITE in granted:
        return None  # RegistryWrite includes read access
    if permission == DEVICE_CONNECT and (hub.has(IGNORE_DEVICE_CONNECT) or "device-connect" in relax):
        granted = granted | {DEVICE_CONNECT}
    if permission not in granted:
        return f"the token does not grant {permission}"
    if token_device is not None and device_id is not None and token_device != device_id and not any_device:
        return "a device token grants access to its own device only"
    if token_module is not None and token_module != module_id and not loose:
        return "a module token grants access to its own module only"
    return None


def _relaxed_at_2021(hub: Hub, request: Request, permission: str) -> frozenset[str]:
    """What the DEVAUTH fault switches let through on a request at api-version 2021-04-12: each concerns the
    device-facing endpoints (DeviceConnect), but for the one that lets a device token reach service endpoints."""
    if not hub.faults or "2021-04-12" not in request.query_params.getlist("api-version"):
        return frozenset()
    if permission != DEVICE_CONNECT:
        return frozenset({"device-serves-all"}) if hub.has(DEVAUTH_DEVICE_TOKEN_SERVES_SERVICE) else frozenset()
    chosen = {"refuse-device": DEVAUTH_REFUSE_DEVICE_TOKENS, "refuse-policy": DEVAUTH_REFUSE_POLICY_TOKENS,
              "any-device": DEVAUTH_DEVICE_TOKEN_ANY_DEVICE, "device-connect": DEVAUTH_POLICY_WITHOUT_DEVICE_CONNECT,
              "device-expiry": DEVAUTH_EXPIRED_DEVICE_TOKEN, "module-as-device": DEVAUTH_MODULE_TOKEN_AS_DEVICE}
    return frozenset(name for name, fault in chosen.items() if hub.has(fault))


def _policy_permissions(hub: Hub, token: sas.Token, policy_name: str) -> tuple[frozenset[str], str | None]:
    """`policy_name`: the token's skn, given apart because only a token that names a policy comes here."""
    policy = hub.policies.get(policy_name)
    if policy is None:
        if not hub.has(ACCEPT_UNKNOWN_POLICY):
            return frozenset(), f"no shared access policy named {policy_name!r}"
        policy = hub.policies[OWNER]
    if not hub.has(SKIP_SIGNATURE_CHECK) and not sas.signature_valid(token, policy.key):
        return frozenset(), "the token's signature does not match the policy key"
    return policy.permissions, None


def _device_of(hub: Hub, token: sas.Token) -> tuple[str | None, str | None]:
    """The device a device-key token is for: sr must be `<host>/devices/<id>` and sig made with that device's key."""
    prefix = f"{hub.host_name}/devices/".lower()
    uri = token.resource_uri
    if not uri.lower().startswith(prefix) or "/" in uri[len(prefix):].strip("/"):
        return None, "a token without skn must be scoped to <host>/devices/<deviceId> of this hub"
    wanted = uri[len(prefix):].strip("/")
    # sr is lower-cased by clients while deviceIds are case-sensitive, and some clients encode the id twice.
    names = {wanted.lower(), unquote(wanted).lower()}
    with hub.lock:
        candidates = [(d.device_id, d.keys()) for d in hub.devices.values() if d.device_id.lower() in names]
    for found_id, keys in candidates:
        if hub.has(SKIP_SIGNATURE_CHECK) or any(sas.signature_valid(token, key) for key in keys):
            return found_id, None
    if not candidates:
        return None, f"no device {wanted!r} for this device token"
    return None, "the token's signature does not match the device's keys"


def _covers_request(hub: Hub, token: sas.Token, request: Request) -> bool:
    # The hub's own host name, never the Host header: requests may arrive through a proxy or a port-forward.
    raw_path = request.scope.get("raw_path", b"").split(b"?", 1)[0].decode("latin-1")
    paths = {request.scope["path"], raw_path}
    return any(sas.scope_covers(token.resource_uri, hub.host_name + path) for path in paths if path)


def _module_scoped(hub: Hub, token: sas.Token) -> bool:
    prefix = f"{hub.host_name}/devices/".lower()
    uri = token.resource_uri
    parts = uri[len(prefix):].strip("/").split("/") if uri.lower().startswith(prefix) else []
    return len(parts) == 3 and parts[1].lower() == "modules" and bool(parts[0]) and bool(parts[2])


def _module_of(hub: Hub, token: sas.Token) -> tuple[tuple[str | None, str | None], str | None]:
    """(deviceId, moduleId) a module-key token is for: sr `<host>/devices/<d>/modules/<m>`, sig made with that module's
    key. Ids are matched as device tokens match theirs: case-insensitively, encoded once or twice."""
    prefix = f"{hub.host_name}/devices/"
    wanted_device, _, wanted_module = token.resource_uri[len(prefix):].strip("/").split("/")
    devices = {wanted_device.lower(), unquote(wanted_device).lower()}
    modules = {wanted_module.lower(), unquote(wanted_module).lower()}
    with hub.lock:
        candidates = [(device_id, module.module_id, module.keys()) for device_id, held in hub.modules.items()
                      if device_id.lower() in devices for module in held.values() if module.module_id.lower() in modules]
    for device_id, module_id, keys in candidates:
        if hub.has(SKIP_SIGNATURE_CHECK) or any(sas.signature_valid(token, key) for key in keys):
            return (device_id, module_id), None
    if not candidates:
        return (None, None), f"no module {wanted_module!r} on device {wanted_device!r} for this module token"
    return (None, None), "the token's signature does not match the module's keys"
