"""An identity's authentication mechanism at api-version 2021-04-12 (devices and modules alike).

docs/sources/service-2021-04-12.json (definition AuthenticationMechanism): symmetricKey {primaryKey, secondaryKey},
x509Thumbprint {primaryThumbprint, secondaryThumbprint}, type {sas, selfSigned, certificateAuthority, none}.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .error_envelope import ARGUMENT_INVALID
from .identities import InvalidDevice, _key, _section, _string
from .policies import new_key

AUTH_TYPES = ("sas", "selfSigned", "certificateAuthority", "none")


@dataclass(frozen=True)
class Credentials:
    type: str = "sas"
    primary_key: str | None = None
    secondary_key: str | None = None
    primary_thumbprint: str | None = None
    secondary_thumbprint: str | None = None

    def keys(self) -> list[str]:
        return [key for key in (self.primary_key, self.secondary_key) if key] if self.type == "sas" else []

    def with_generated_keys(self) -> Credentials:
        """A sas identity created without keys gets two fresh ones (as device identities do)."""
        if self.type != "sas":
            return self
        return replace(self, primary_key=self.primary_key or new_key(), secondary_key=self.secondary_key or new_key())

    def merged_into(self, old: Credentials) -> Credentials:
        """An update's credentials: what the body leaves out keeps its old value."""
        return Credentials(
            type=self.type,
            primary_key=self.primary_key or old.primary_key,
            secondary_key=self.secondary_key or old.secondary_key,
            primary_thumbprint=self.primary_thumbprint or old.primary_thumbprint,
            secondary_thumbprint=self.secondary_thumbprint or old.secondary_thumbprint,
        )

    def to_json(self) -> dict:
        return {
            "symmetricKey": {"primaryKey": self.primary_key, "secondaryKey": self.secondary_key},
            "x509Thumbprint": {"primaryThumbprint": self.primary_thumbprint,
                               "secondaryThumbprint": self.secondary_thumbprint},
            "type": self.type,
        }


def parse_credentials(body: dict) -> Credentials | None:
    """The `authentication` object of a device or module body; None when the body has none."""
    if body.get("authentication") is None:
        return None
    section = _section(body, "authentication")
    keys = _section(section, "symmetricKey")
    prints = _section(section, "x509Thumbprint")
    kind = section.get("type")
    if kind is None:
        kind = "sas"
    if kind not in AUTH_TYPES:
        raise InvalidDevice(ARGUMENT_INVALID, f"authentication.type must be one of {', '.join(AUTH_TYPES)}")
    return Credentials(
        type=kind,
        primary_key=_key(keys, "primaryKey"),
        secondary_key=_key(keys, "secondaryKey"),
        primary_thumbprint=_string(prints, "primaryThumbprint", max_length=128),
        secondary_thumbprint=_string(prints, "secondaryThumbprint", max_length=128),
    )
