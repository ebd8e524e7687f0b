"""The routes api-version 2021-04-12 adds (app.py serves them first): device and module credentials on the device-facing
endpoints, and the Edge device-scope calls."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
