"""The requirement registry: every id is well formed and can be found in a failure message; each cites a source
that resolves inside the repository, names the spec operations it concerns and the version that made it binding;
a failure is pinned on the requirement it names, not on ids in the test's source."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import iothub_conformance
from iothub_conformance.report.summary import Collector
from iothub_conformance.rules import requirements, sources
from iothub_conformance.rules.profiles import PROFILES


def test_every_requirement_has_a_level_a_statement_and_a_source():
    for r in requirements.REQUIREMENTS.values():
        assert r.level in ("MUST", "SHOULD") and r.statement.strip() and r.source.strip(), r.id


@pytest.mark.parametrize("requirement_id", sorted(requirements.REQUIREMENTS))
def test_every_source_is_a_citation_that_resolves_in_the_repository(requirement_id):
    cited = sources.citations_in(requirements.REQUIREMENTS[requirement_id].source)
    resolved = [sources.check(citation) for citation in cited]  # raises on one that does not resolve
    in_repository = [path for path in resolved if isinstance(path, Path)]
    assert in_repository, f"{requirement_id} cites no file of the repository"
    assert all(path.is_relative_to(sources.REPOSITORY / "docs") or path.is_relative_to(sources.REPOSITORY / "specs")
               for path in in_repository), requirement_id


def test_sources_cite_docs_by_their_repository_path():
    # The registry's sources are what a vendor's report shows: each page by its path in the repository.
    for r in requirements.REQUIREMENTS.values():
        for citation in sources.citations_in(r.source):
            kinds = ("path", "note", "rfc", "url", "swagger")
            assert citation.kind in kinds or citation.text in sources.EXTERNAL, (r.id, citation)
            if citation.kind == "note":
                assert citation.text.startswith(("docs/sources/", "docs/DESIGN.md")) or r.source.count(
                    f"docs/sources/{citation.text}"), (r.id, citation.text)


def test_every_profile_rule_source_that_cites_resolves():
    for profile in PROFILES.values():
        for name, rule in profile.rules.items():
            for citation in sources.citations_in(rule.source):
                sources.check(citation)
            assert sources.citations_in(rule.source) or rule.value is None or "RFC" in rule.source, (profile.name, name)


def test_every_requirement_names_the_operations_it_concerns_and_when_it_became_binding():
    version = tuple(map(int, iothub_conformance.__version__.split(".")))
    for r in requirements.REQUIREMENTS.values():
        assert r.operations and len(set(r.operations)) == len(r.operations), r.id
        assert re.fullmatch(r"\d+\.\d+\.\d+", r.since) and tuple(map(int, r.since.split("."))) <= version, r.id


def test_every_profile_rule_a_requirement_names_exists_in_every_profile():
    for r in requirements.REQUIREMENTS.values():
        if r.profile_rule:
            for profile in PROFILES.values():
                assert r.profile_rule in profile.rules, (r.id, profile.name)


def test_a_failure_counts_against_the_requirement_it_names():
    collector = Collector(SimpleNamespace(profile=None, api_version="2016-11-14", run_id="r", base_url="", embedded=True))
    longrepr = ('assert job, f"[JOBV2-CREATE-001] {job}"\n'
                "E   RequirementFailure: [JOBV2-TWIN-001] the job updated a device it does not select")
    findings = json.dumps([["JOBV2-TWIN-001", "the job updated a device it does not select"]])
    report = SimpleNamespace(when="call", passed=False, skipped=False, failed=True, nodeid="t", longrepr=longrepr,
                             user_properties=[("requirements", "JOBV2-CREATE-001,JOBV2-TWIN-001"),
                                              ("outcome", "fail"), ("findings", findings)])
    collector.record(report)
    assert collector.status("JOBV2-TWIN-001") == "fail"
    assert collector.status("JOBV2-CREATE-001") == "skip"  # no result: it was not what failed
