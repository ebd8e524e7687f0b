# Loads the suite's pytest plugin for runs from a checkout (a no-op when the package is installed: the entry point
# has the same name).
pytest_plugins = ["iothub_conformance.pytest_plugin.plugin"]
