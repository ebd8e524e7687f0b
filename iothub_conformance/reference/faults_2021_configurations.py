"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): configurations (automatic device
management) and applyConfigurationContent."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = ()
