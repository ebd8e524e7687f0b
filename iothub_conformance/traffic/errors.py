"""The one error a recording can raise: a file the readers cannot take, said in one line."""

from __future__ import annotations

from iothub_conformance.config import ConfigError


class TrafficError(ConfigError):
    """A recording that is missing, malformed or of no known format (the CLI prints the line and exits 2)."""
