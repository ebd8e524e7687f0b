"""The routes api-version 2021-04-12 adds (app.py serves them first): IoT Plug and Play digital twins and their commands."""

from __future__ import annotations

from starlette.routing import Route

ROUTES: list[Route] = []
