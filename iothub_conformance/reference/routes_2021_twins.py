"""The routes api-version 2021-04-12 adds (app.py serves them first): device and module twins, direct methods, query."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
