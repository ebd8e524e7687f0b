"""The routes api-version 2021-04-12 adds (app.py serves them first): device-side file upload (SAS URI, blob, completion
notification)."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
