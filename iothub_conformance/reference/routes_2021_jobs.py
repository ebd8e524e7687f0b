"""The routes api-version 2021-04-12 adds (app.py serves them first): import/export and scheduled jobs."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
