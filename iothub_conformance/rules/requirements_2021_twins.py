"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device and module twins, direct methods, query."""

from __future__ import annotations

from .requirement import V2021_RELEASE, Requirement  # noqa: F401

REQUIREMENTS: list[Requirement] = []
