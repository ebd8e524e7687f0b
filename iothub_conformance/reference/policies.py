"""Shared access policies and their permissions (INVENTORY §5): what a hub's policies are named and grant, how their
keys are made, and the resource provider's test token. A module of its own so that state modules and the resource
provider need not import hub.py for them."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

OWNER = "iothubowner"
# The bearer token the reference's resource provider accepts: a fixed test token, no one's secret.
REFERENCE_RP_TOKEN = "conformance-reference-arm-token"

REGISTRY_READ = "RegistryRead"
REGISTRY_WRITE = "RegistryWrite"
SERVICE_CONNECT = "ServiceConnect"
DEVICE_CONNECT = "DeviceConnect"
ALL_PERMISSIONS = frozenset({REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT, DEVICE_CONNECT})

# The policies every new hub has (INVENTORY §5).
DEFAULT_POLICIES: dict[str, frozenset[str]] = {
    OWNER: ALL_PERMISSIONS,
    "service": frozenset({SERVICE_CONNECT}),
    "device": frozenset({DEVICE_CONNECT}),
    "registryRead": frozenset({REGISTRY_READ}),
    "registryReadWrite": frozenset({REGISTRY_READ, REGISTRY_WRITE}),
}


@dataclass(frozen=True)
class Policy:
    key: str
    permissions: frozenset[str]


def new_key() -> str:
    """A fresh 256-bit key in base64."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def default_policies() -> dict[str, Policy]:
    """The default policies, each with fresh keys."""
    return {name: Policy(new_key(), permissions) for name, permissions in DEFAULT_POLICIES.items()}
