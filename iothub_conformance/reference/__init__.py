"""The embedded reference IoT hub: a small in-memory implementation that passes the suite, with fault switches."""

from .app import create_app
from .clock import Clock
from .faults import FAULTS, parse_faults
from .hub import Hub
from .import_export_jobs import Job
from .policies import REFERENCE_RP_TOKEN
from .queues import Enqueued, Event
from .resource_provider import ResourceProvider
from .scheduled_jobs_state import ScheduledJob
from .twins import Twin

__all__ = ["FAULTS", "REFERENCE_RP_TOKEN", "Clock", "Enqueued", "Event", "Hub", "Job", "ResourceProvider", "ScheduledJob",
           "Twin", "create_app", "parse_faults"]
