"""The embedded reference IoT hub: a small in-memory implementation that passes the suite, with fault switches."""

from .app import create_app
from .faults import FAULTS, parse_faults
from .hub import Hub

__all__ = ["FAULTS", "Hub", "create_app", "parse_faults"]
