"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device-side file upload (SAS URI, blob, completion notification)."""

from __future__ import annotations

from .requirement import Requirement

REQUIREMENTS: list[Requirement] = []
