"""Built-in projections and those of installed packages are found and checked the same way;
a broken or clashing entry point is refused with a reason and never stops the others."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from projectors.discovery import BUILT_IN, ENTRY_POINT_GROUP, discover


class Good:
    name = "good_one"
    version = 1
    description = "fine"
    events = frozenset({"customer.created"})

    def keys(self, event: object) -> list[str]:
        return ["k"]

    def apply(self, event: object, docs: object) -> None:
        return None


class Unversioned(Good):
    version = 0


class Clashing(Good):
    name = "analytics_overview"


class Reserved(Good):
    name = "search_tokens"


@pytest.fixture
def plugin_module() -> Iterator[str]:
    module = types.ModuleType("fake_plugins")
    for cls in (Good, Unversioned, Clashing, Reserved):
        setattr(module, cls.__name__, cls)
    module.not_a_projection = object()  # type: ignore[attr-defined]
    sys.modules["fake_plugins"] = module
    yield "fake_plugins"
    del sys.modules["fake_plugins"]


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_built_in_and_packaged_projections_are_found_alike(plugin_module: str) -> None:
    found = discover([point("good", f"{plugin_module}:Good")])
    assert found.names == (
        "analytics_overview",
        "analytics_cohorts",
        "timeline",
        "contactability",
        "segment_membership",
        "good_one",
    )
    assert [d.origin for d in found.projections][:2] == [BUILT_IN, BUILT_IN]
    assert found.refused == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("fake_plugins:Unversioned", "version must be a positive integer"),
        ("fake_plugins:Clashing", "is taken"),
        ("fake_plugins:Reserved", "is reserved"),
        ("fake_plugins:not_a_projection", "not a projection"),
        ("fake_plugins:Missing", "Missing"),
        ("no_such_module_here:Thing", "no_such_module_here"),
    ],
)
def test_a_bad_entry_point_is_refused_with_its_reason(
    plugin_module: str, value: str, reason: str
) -> None:
    found = discover([point("bad", value), point("good", f"{plugin_module}:Good")])
    assert "good_one" in found.names  # the others still run
    [refused] = found.refused
    assert reason in refused.reason
