"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device-side messaging over HTTPS (events, cloud-to-device receive and settle) and cloud-to-device feedback."""

from __future__ import annotations

from .requirement import Requirement

REQUIREMENTS: list[Requirement] = []
