"""The routes api-version 2021-04-12 adds (app.py serves them first): device-side messaging over HTTPS (events, cloud-to-
device receive and settle) and cloud-to-device feedback."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
