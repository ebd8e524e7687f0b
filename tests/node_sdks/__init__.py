"""The Node.js SDK drivers run by tests/test_node_sdks.py (JavaScript); record.py regenerates tests/recordings/sdk/."""
