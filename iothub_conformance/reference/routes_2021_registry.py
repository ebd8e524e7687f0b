"""The routes api-version 2021-04-12 adds (app.py serves them first): devices, bulk registry, modules,
statistics, cloud-to-device purge."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
