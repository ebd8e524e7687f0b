"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device and module credentials on the device-facing endpoints, and the Edge device-scope calls."""

from __future__ import annotations

from .requirement import Requirement

REQUIREMENTS: list[Requirement] = []
