"""The README and the CLI agree: its option table is generated from the one option table, and every option it names
for `iothub-conformance run` is accepted by `run` (every other option it names, by the command it is named for)."""

from __future__ import annotations

import re

from iothub_conformance import config
from iothub_conformance.cli import build_parser
from tests import bench_own_tests
from tests.support.suite_runs import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9](?![\w*-])")
SUBSHELL = re.compile(r"\$\([^)]*\)")  # another program's command line, e.g. $(az account get-access-token --query …)
# Options of other programs the README shows: pytest and its plugins (after `--`, or for plain pytest runs) and
# schemathesis' own command line.
OTHER_FLAGS = {"--hypothesis-seed", "--log-file", "--log-cli-level", "--log-level", "--collect-only", "--checks"}


def _commands() -> dict[str, set[str]]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {name: {s for a in sub._actions for s in a.option_strings} for name, sub in subparsers.choices.items()}


def _run_lines() -> list[str]:
    """Lines of `iothub-conformance run` command lines (with their backslash continuations), and the option table's
    first column."""
    lines, joined = [], []
    for line in README.splitlines():
        if joined or "iothub-conformance run" in line:
            joined.append(SUBSHELL.sub("", line.split(" -- ")[0]))  # what follows -- goes to pytest
            if not line.rstrip().endswith("\\"):
                lines.append(" ".join(joined))
                joined = []
        elif line.startswith("| `--"):
            lines.append(line.split("|")[1])
    return lines


def test_the_option_table_is_generated_from_config():
    block = README[README.index(config.README_BEGIN):README.index(config.README_END) + len(config.README_END)]
    assert block == config.options_markdown(), "run `python -m iothub_conformance.config` to regenerate it"


def test_every_option_the_readme_names_for_run_is_accepted_by_run():
    run = _commands()["run"]
    named = {flag for line in _run_lines() for flag in FLAG.findall(line)}
    assert len(named) > 20
    assert sorted(named - run) == []


def test_every_other_option_the_readme_names_is_some_commands_or_pytests():
    bench = {flag for action in bench_own_tests.build_parser()._actions for flag in action.option_strings}
    accepted = set().union(*_commands().values()) | {o.pytest_flag for o in config.OPTIONS} | OTHER_FLAGS | bench
    assert sorted(set(FLAG.findall(SUBSHELL.sub("", README))) - accepted) == []


def test_run_accepts_every_option_of_the_table_with_a_value():
    """argparse and the table agree: each option parses and lands on its Settings field."""
    for option in config.OPTIONS:
        argv = ["run", option.cli_flag] if option.switch else ["run", option.cli_flag, "1"]
        args = build_parser().parse_args(argv)
        assert getattr(args, option.field) in (True, "1"), option.name
