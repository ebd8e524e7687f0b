"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
IoT Plug and Play digital twins and their commands."""

from __future__ import annotations

from .requirement import Requirement

REQUIREMENTS: list[Requirement] = []
