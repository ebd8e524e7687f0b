"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): IoT Plug and Play digital twins and
their commands (digital_twins.py, routes_2021_digital_twins.py)."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = (
    # -- the view ------------------------------------------------------------------------------------------------
    Fault("pnp-no-dtid", "a digital twin carries no $dtId", breaks=("PNP-GET-001",)),
    Fault("pnp-unknown-device-200", "the digital twin of an unregistered device answers 200 with an empty twin",
          breaks=("PNP-GET-002",)),
    Fault("pnp-reported-not-at-root", "a digital twin leaves out the read-only properties the device reported",
          breaks=("PNP-PROP-001",),
          collateral=(
              ("PNP-COMPONENT-001", "a component's reported properties are left out too"),
          )),
    Fault("pnp-component-marker-shown", "a digital twin's components keep the __t marker and carry no $metadata",
          breaks=("PNP-COMPONENT-001",),
          collateral=(
              ("PNP-PATCH-001", "a component carries no $metadata, so the patched component property shows no desiredValue"),
          )),
    Fault("pnp-ack-metadata-missing", "a writable property's $metadata leaves out ackVersion, ackCode and "
                                      "ackDescription", breaks=("PNP-WRITABLE-001",)),
    # -- updates ---------------------------------------------------------------------------------------------------
    Fault("pnp-patch-no-location", "a digital twin PATCH answers 202 without a Location header",
          breaks=("PNP-PATCH-001",)),
    Fault("pnp-remove-ignored", "a JSON Patch remove leaves the desired value in place", breaks=("PNP-PATCH-002",)),
    Fault("pnp-component-marker-not-required", "a component write without the $metadata marker is applied",
          breaks=("PNP-PATCH-003",)),
    Fault("pnp-arrays-accepted", "a digital twin patch may set array values", breaks=("PNP-PATCH-004",)),
    Fault("pnp-ignore-if-match", "a digital twin PATCH ignores If-Match", breaks=("PNP-COND-001",)),
    Fault("pnp-patch-no-etag", "a digital twin PATCH answers 202 without an ETag header", breaks=("PNP-ETAG-001",)),
    # -- commands --------------------------------------------------------------------------------------------------
    Fault("pnp-command-status-dropped", "a command answers x-ms-command-statuscode 200 whatever the device said",
          breaks=("PNP-CMD-001",),
          collateral=(("PNP-CMD-002", "the component command's status is lost the same way"),)),
    Fault("pnp-component-command-bare-name", "a component command reaches the device as the bare command name",
          breaks=("PNP-CMD-002",)),
    Fault("pnp-command-offline-504", "a command for a device that is not online answers 504 GatewayTimeout",
          breaks=("PNP-CMD-003",)),
    Fault("pnp-command-timeout-unbounded", "any responseTimeoutInSeconds and connectTimeoutInSeconds of a command "
                                           "are accepted", breaks=("PNP-CMD-004",)),
    Fault("pnp-command-no-timeout", "a device slower than a command's responseTimeoutInSeconds still answers 200",
          breaks=("PNP-CMD-005",)),
)
