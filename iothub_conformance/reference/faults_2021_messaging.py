"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): device-side messaging over HTTPS
(events, cloud-to-device receive and settle) and cloud-to-device feedback."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = ()
