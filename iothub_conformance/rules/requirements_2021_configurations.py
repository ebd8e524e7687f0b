"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
configurations (automatic device management) and applyConfigurationContent."""

from __future__ import annotations

from .requirement import Requirement

REQUIREMENTS: list[Requirement] = []
