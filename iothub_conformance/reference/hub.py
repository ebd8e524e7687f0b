"""One in-memory IoT hub: its host name, shared access policies, profile, faults and device registry."""

from __future__ import annotations

import base64
import itertools
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..profiles import IOTHUB, Profile
from ..sas import ConnectionString
from .faults import parse_faults

if TYPE_CHECKING:
    from .devices import Device

DEFAULT_HOST = "conformance-hub.azure-devices.net"
OWNER = "iothubowner"

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
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Hub:
    supported_api_versions = ("2016-02-03",)

    def __init__(self, host_name: str = DEFAULT_HOST, policies: dict[str, Policy] | None = None,
                 profile: Profile | None = None, faults: str | Iterable[str] | None = (), max_devices: int = 1000):
        self.host_name = host_name
        self.policies = dict(policies) if policies is not None else default_policies()
        self.profile = profile or IOTHUB
        self.faults = parse_faults(faults)
        self.max_devices = max_devices
        self.devices: dict[str, Device] = {}  # read and written only under `lock`
        self.lock = threading.Lock()
        # Etags come from one hub-wide counter, so a recreated device never gets an etag it had before.
        self._etags = itertools.count(secrets.randbelow(10**9) + 1)

    @classmethod
    def create(cls, host_name: str | None = None, profile: Profile | None = None,
               faults: str | Iterable[str] | None = (), owner_key: str | None = None) -> Hub:
        policies = default_policies()
        if owner_key is not None:
            policies[OWNER] = Policy(owner_key, DEFAULT_POLICIES[OWNER])
        return cls(host_name or DEFAULT_HOST, policies, profile, faults)

    @classmethod
    def from_connection_string(cls, cs: ConnectionString, profile: Profile | None = None,
                               faults: str | Iterable[str] | None = ()) -> Hub:
        """A hub that accepts the given policy connection string; its policy gets every permission."""
        if not cs.key_name:
            raise ConfigError("the reference hub needs a policy connection string (SharedAccessKeyName=…)")
        policies = default_policies()
        policies[cs.key_name] = Policy(cs.key, ALL_PERMISSIONS)
        return cls(cs.host_name, policies, profile, faults)

    def connection_string(self, policy: str = OWNER) -> str:
        if policy not in self.policies:
            raise ConfigError(f"unknown policy {policy!r} (known: {', '.join(sorted(self.policies))})")
        return str(ConnectionString(self.host_name, self.policies[policy].key, policy))

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def next_etag(self) -> str:
        """A fresh opaque etag in the service's style (base64 of a decimal number). Call under `lock`."""
        return base64.b64encode(str(next(self._etags)).encode()).decode()


def default_policies() -> dict[str, Policy]:
    return {name: Policy(new_key(), permissions) for name, permissions in DEFAULT_POLICIES.items()}
