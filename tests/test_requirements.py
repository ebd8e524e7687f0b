"""The requirement registry: every id is well formed and can be found in a failure message; each cites a source;
a failure is pinned on the requirement its own message names, not on ids in the test's source."""

from types import SimpleNamespace

import pytest

from iothub_conformance.report.summary import Collector
from iothub_conformance.rules import requirements
from iothub_conformance.rules.profiles import PROFILES


@pytest.mark.parametrize("requirement_id", sorted(requirements.REQUIREMENTS))
def test_every_id_is_found_in_a_tagged_message(requirement_id):
    assert requirements.ids_in(requirements.tag(requirement_id, "x")) == [requirement_id]


def test_every_requirement_has_a_level_a_statement_and_a_source():
    for r in requirements.REQUIREMENTS.values():
        assert r.level in ("MUST", "SHOULD") and r.statement.strip() and r.source.strip(), r.id


def test_every_profile_rule_a_requirement_names_exists_in_every_profile():
    for r in requirements.REQUIREMENTS.values():
        if r.profile_rule:
            for profile in PROFILES.values():
                assert r.profile_rule in profile.rules, (r.id, profile.name)


def test_a_failure_counts_against_the_requirement_its_message_names():
    collector = Collector(SimpleNamespace(profile=None, api_version="2016-11-14", run_id="r", base_url="", embedded=True))
    longrepr = ('assert job, f"[JOBV2-CREATE-001] {job}"\n'
                "E   AssertionError: [JOBV2-TWIN-001] the job updated a device it does not select")
    report = SimpleNamespace(when="call", passed=False, skipped=False, failed=True, nodeid="t", longrepr=longrepr,
                             user_properties=[("requirements", "JOBV2-CREATE-001,JOBV2-TWIN-001"),
                                              ("outcome", "fail"),
                                              ("failure", "[JOBV2-TWIN-001] the job updated a device it does not select")])
    collector.record(report)
    assert collector.status("JOBV2-TWIN-001") == "fail"
    assert collector.status("JOBV2-CREATE-001") == "skip"  # no result: it was not what failed
