"""The suites' own collection rule: every test item has its own node id.

schemathesis names each generated item after its operation (`test_x[GET /devices]`) but, under pytest 9, leaves
them the id of the bare function, so 21 items shared 6 ids: pytest's progress stopped at 89 % and per-test evidence
and verdicts mixed them up.
"""

from __future__ import annotations

import pytest


def _with_params(item, params: str) -> None:
    """Give `item` the id `<function>[params]` (pytest 9 keeps a structured `_id`, pytest 8 the `_nodeid` string)."""
    structured = getattr(item, "_id", None)
    if structured is not None and hasattr(structured, "with_params"):
        item._id = structured.with_params(params)
    else:
        item._nodeid = f"{item.nodeid}[{params}]"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    for item in items:
        base = getattr(item, "originalname", None) or ""
        # A schema of one operation gives one item, with the bare id too: it is renamed all the same, so every
        # generated item says which operation it is.
        if "[" not in item.nodeid.rpartition("::")[2] and item.name.startswith(base + "[") and item.name.endswith("]"):
            _with_params(item, item.name[len(base) + 1:-1])
