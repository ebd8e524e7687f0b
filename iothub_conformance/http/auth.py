"""How requests to a target are signed: a SAS token per request (INVENTORY §5) or the resource provider's bearer token."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from iothub_conformance.http import sas


class BearerAuth(httpx.Auth):
    """Adds the AAD bearer token unless the request already carries an Authorization header (tests of bad tokens)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class SasAuth(httpx.Auth):
    """Adds a fresh SAS token unless the request already carries an Authorization header (tests of bad tokens)."""

    def __init__(self, connection: sas.ConnectionString, ttl: int = 3600) -> None:
        self.connection = connection
        self.ttl = ttl

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = self.token()
        yield request

    def token(self, resource: str | None = None, **kwargs) -> str:
        c = self.connection
        resource = resource or c.host_name
        if c.device_id and not c.key_name:
            resource = f"{c.host_name}/devices/{c.device_id}"
        return sas.build_token(resource, c.key, c.key_name, ttl=self.ttl, **kwargs)
