"""The query language (reference/query_language.py): every query example of the query page parses, what each part
means on twin documents, and what the language does not allow is InvalidQuery (the hub's 400), never an exception."""

from __future__ import annotations

import pytest

from iothub_conformance.reference.query_language import InvalidQuery, parse

# Every query of docs/sources/iot-hub-devguide-query-language__2018-02-26_abdce6fa.md, as the page writes it.
PAGE_EXAMPLES = [
    "SELECT * FROM devices",
    "SELECT * FROM devices\nWHERE tags.location.region = 'US'",
    "SELECT * FROM devices\n  WHERE tags.location.region = 'US'\n"
    "    AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
    "SELECT * FROM devices\n  WHERE properties.reported.connectivity IN ['wired', 'wifi']",
    "SELECT * FROM devices\n  WHERE is_defined(properties.reported.connectivity)",
    "SELECT properties.reported.telemetryConfig.status AS status,\n    COUNT() AS numberOfDevices\n  FROM devices\n"
    "  GROUP BY properties.reported.telemetryConfig.status",
    "SELECT LastActivityTime FROM devices WHERE status = 'enabled'",
    "SELECT * FROM devices.modules",
    "Select * from devices.modules where properties.reported.status = 'scanning'",
    "Select * from devices.modules \n  where properties.reported.status = 'scanning' \n"
    "  and deviceId IN ['device1', 'device2']",
    "SELECT * FROM devices.jobs\n  WHERE devices.jobs.deviceId = 'myDeviceId'",
    "SELECT * FROM devices.jobs\n  WHERE devices.jobs.deviceId = 'myDeviceId'\n"
    "    AND devices.jobs.jobType = 'scheduleTwinUpdate'\n    AND devices.jobs.status = 'completed'\n"
    "    AND devices.jobs.createdTimeUtc > '2016-09-01'",
    "SELECT * FROM devices.jobs\n  WHERE devices.jobs.jobId = 'myJobId'",
    "SELECT * FROM devices WHERE properties.desired.config = properties.reported.config",
]

TWIN = {"deviceId": "myDeviceId", "status": "enabled", "version": 2,
        "tags": {"location": {"region": "US", "plant": "Redmond43"}},
        "properties": {"desired": {"telemetryConfig": {"sendFrequencyInSecs": 300}, "config": {"a": 1}},
                       "reported": {"connectivity": {"type": "cellular"}, "config": {"a": 1},
                                    "telemetryConfig": {"sendFrequencyInSecs": 300, "status": "Success"}}}}


@pytest.mark.parametrize("text", PAGE_EXAMPLES)
def test_every_example_of_the_page_parses(text):
    query = parse(text)
    assert query.collection in ("devices", "devices.modules", "devices.jobs")


@pytest.mark.parametrize(("condition", "expected"), [
    ("tags.location.region = 'US'", True),
    ("tags.location.region = 'EU'", False),
    ("tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60", True),
    ("properties.reported.connectivity.type IN ['wired', 'wifi']", False),
    ("properties.reported.connectivity.type NIN ['wired', 'wifi']", True),
    ("is_defined(properties.reported.connectivity)", True),
    ("IS_DEFINED(properties.reported.battery)", False),
    ("NOT (status = 'disabled') OR version > 10", True),
    ("NOT tags.missing = 1", False),  # undefined compares to nothing, and NOT of that is not true either
    ("properties.desired.config = properties.reported.config", False),  # objects do not compare
    ("version = '2'", False),  # no conversion between a number and a string
    ("version + 1 * 2 = 4 AND version % 2 = 0 AND -version < 0 AND version = 0x2", True),
    ("deviceId = \"myDevice\\u0049d\"", True),
])
def test_conditions_on_a_twin(condition, expected):
    assert parse(f"SELECT * FROM devices WHERE {condition}").matches(TWIN) is expected


def test_group_by_counts_and_projections_name_their_aliases():
    rows = parse(PAGE_EXAMPLES[5]).aggregate([TWIN, TWIN, {"deviceId": "other"}])
    assert rows == [{"status": "Success", "numberOfDevices": 2}, {"numberOfDevices": 1}]
    assert parse("SELECT status, tags.location.plant AS plant FROM devices").project(TWIN) == {
        "status": "enabled", "plant": "Redmond43"}
    assert parse("SELECT COUNT() AS n, MAX(version) AS top FROM devices").aggregate([TWIN]) == [{"n": 1, "top": 2}]


def test_job_paths_may_name_their_collection():
    job = {"deviceId": "myDeviceId", "jobId": "myJobId", "status": "completed"}
    assert parse(PAGE_EXAMPLES[12]).matches(job)


@pytest.mark.parametrize("text", [
    "", "deviceId IN ['a']", "SELECT * FROM nowhere", "SELECT COUNT() FROM devices",
    "SELECT deviceId FROM devices.jobs", "SELECT * FROM devices.modules GROUP BY deviceId",
    "SELECT deviceId FROM devices GROUP BY deviceId", "SELECT * FROM devices WHERE upper(deviceId) = 'A'",
    "SELECT * FROM devices WHERE deviceId = 'a\\x'", "SELECT * FROM devices WHERE " + "NOT " * 200 + "a = 1",
    "SELECT * FROM devices WHERE " + "a = 1 AND " * 2000 + "a = 1", "SELECT * FROM devices WHERE a IN [b]",
])
def test_what_the_language_does_not_allow_is_invalid_query(text):
    with pytest.raises(InvalidQuery):
        parse(text)


def test_a_long_flat_condition_parses_and_evaluates_without_deep_recursion():
    query = parse("SELECT * FROM devices WHERE " + " AND ".join(["version = 2"] * 500))
    assert query.matches(TWIN)
