"""The embedded reference IoT hub: a small in-memory implementation that passes the suite, with fault switches."""

from .app import create_app
from .clock import Clock
from .faults import FAULTS, parse_faults
from .hub import Hub
from .jobs import Job
from .queues import Enqueued, Event
from .scheduled import ScheduledJob
from .twins import Twin

__all__ = ["FAULTS", "Clock", "Enqueued", "Event", "Hub", "Job", "ScheduledJob", "Twin", "create_app", "parse_faults"]
