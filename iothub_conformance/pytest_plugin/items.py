"""What a collected suite test says about itself, read by the plugin's hooks and by its fixtures alike (a module of its
own: the fixtures module is registered by the plugin, and must not import it back)."""

from __future__ import annotations

from iothub_conformance.config import API_VERSIONS


def item_api_version(item) -> str:
    """The api-version a suite test tests: its `api_version` parameter (a test run once per covered version), else its
    module's `api_version` marker, else the first covered one."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "api_version" in callspec.params:
        return str(callspec.params["api_version"])
    marker = item.get_closest_marker("api_version")
    return str(marker.args[0]) if marker and marker.args else API_VERSIONS[0]
