"""Conformance suite for the Azure IoT Hub REST API."""

__version__ = "0.3.0"
