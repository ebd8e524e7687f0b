"""Errors the user can fix: each becomes one clear line and exit code 2."""


class ConfigError(Exception):
    """Bad option, malformed connection string, unknown profile, unreachable target."""
