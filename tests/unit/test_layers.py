"""The floor plan, checked: imports point one way and never loop.

DESIGN.md fixes the layers (entrypoints → projectors → read_side / write_side → shared) and
says the read side never imports the write side. A reviewer cannot see a new import loop or
an import running back up in a diff; this test reads every product module's imports with
`ast` (nothing is imported or run) and fails naming the offending edge or cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "write_side", "read_side", "projectors", "entrypoints")
# Which top-level packages each layer may import (besides itself).
ALLOWED = {
    "shared": set(),
    "write_side": {"shared"},
    "read_side": {"shared"},
    "projectors": {"shared", "read_side", "write_side"},
    "entrypoints": {"shared", "read_side", "write_side", "projectors"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            modules[module_name(path)] = path
    return modules


def imported_names(path: Path, name: str) -> Iterator[tuple[str, bool]]:
    """(module imported, at module level?) for each import statement of the file.

    Imports inside functions are deferred on purpose (they break no load-time loop), so
    they count for layering but not for cycles.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top_level
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                drop = node.level - 1 if is_package else node.level
                anchor = anchor[: len(anchor) - drop] if drop else anchor
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}", id(node) in top_level
                yield base, id(node) in top_level


def resolve(target: str, modules: dict[str, Path]) -> str | None:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def import_graph() -> dict[str, set[str]]:
    modules = product_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, at_top in imported_names(path, name):
            resolved = resolve(target, modules)
            if resolved and resolved != name and at_top:
                graph[name].add(resolved)
    return graph


def test_every_import_points_down_the_layers() -> None:
    modules = product_modules()
    wrong = []
    for name, path in modules.items():
        layer = name.split(".")[0]
        for target, _ in imported_names(path, name):
            other = target.split(".")[0]
            if other in PACKAGES and other != layer and other not in ALLOWED[layer]:
                wrong.append(f"{name} imports {target}")
    assert not sorted(set(wrong))


#: Layers that must not know HTTP: they raise plain errors that `shared.http` maps to statuses.
HTTP_FREE = ("write_side.domain", "write_side.application")
HTTP_MODULES = ("shared.http", "litestar")


def test_domain_and_application_never_import_http() -> None:
    wrong = []
    for name, path in product_modules().items():
        if not name.startswith(HTTP_FREE):
            continue
        for target, _ in imported_names(path, name):
            if target.startswith(HTTP_MODULES):
                wrong.append(f"{name} imports {target}")
    assert not sorted(set(wrong))


#: The use cases decide; storing, retrying and reading the event store belong to the
#: executor and the repository (issue 11.2). They must not reach past that seam again.
USE_CASES = tuple(
    f"write_side.application.{name}" for name in ("commands", "attendees", "commerce", "privacy")
)
BEHIND_THE_SEAM = (
    "eventsourcing",
    "write_side.application.event_store",
    "write_side.application.group_commit",
    "write_side.application.keyed_locks",
)


def test_use_cases_go_through_the_executor() -> None:
    wrong = []
    for name, path in product_modules().items():
        if name not in USE_CASES:
            continue
        for target, _ in imported_names(path, name):
            if target.startswith(BEHIND_THE_SEAM):
                wrong.append(f"{name} imports {target}")
    assert not sorted(set(wrong))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among module-level imports, or None (iterative DFS, three colours)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_no_module_level_import_cycles() -> None:
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check can fail: a planted loop is reported."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]


#: Service drivers belong to adapter packages (issue 11.5): the rest of `shared` is settings,
#: errors, clocks, tenancy, crypto and HTTP mapping, usable without any service installed.
SHARED_ADAPTERS = "shared.adapters"
DRIVERS = ("psycopg", "redis", "pymongo", "aio_pika")
#: Not moved yet: `RedisAlertCounters` (security alerts were being changed at the same time).
NOT_MOVED_YET = {"shared.security.counters"}


def test_shared_imports_service_drivers_only_in_its_adapters() -> None:
    wrong = []
    for name, path in product_modules().items():
        if not name.startswith("shared") or name.startswith(SHARED_ADAPTERS):
            continue
        if name in NOT_MOVED_YET:
            continue
        for target, _ in imported_names(path, name):
            if target.split(".")[0] in DRIVERS:
                wrong.append(f"{name} imports {target}")
    assert not sorted(set(wrong))
