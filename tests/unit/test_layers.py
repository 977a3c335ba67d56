"""The floor plan, checked: imports point one way and never loop.

DESIGN.md fixes the layers (entrypoints → projectors → read_side / write_side → shared) and
says the read side never imports the write side. A reviewer cannot see a new import loop or
an import running back up in a diff; this test reads every product module's imports with
`ast` (nothing is imported or run) and fails naming the offending edge or cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
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
    "write_side.adapters.event_store",
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


#: Service drivers belong to adapter packages (issue 11.5): the domain, the application (use
#: cases, the executor, ports) and `shared` (settings, errors, clocks, tenancy, crypto, HTTP
#: mapping) know no database, cache or broker; `write_side.adapters` and `shared.adapters` do.
DRIVER_FREE = ("shared", "write_side.domain", "write_side.application")
ADAPTER_PACKAGES = ("shared.adapters", "write_side.adapters")
#: Driver modules, and the parts of the eventsourcing library bound to one database.
DRIVERS = (
    "psycopg",
    "psycopg_pool",
    "sqlite3",
    "redis",
    "pymongo",
    "aio_pika",
    "aiormq",
    "eventsourcing.postgres",
    "eventsourcing.sqlite",
)


def is_driver(target: str) -> bool:
    return any(target == driver or target.startswith(driver + ".") for driver in DRIVERS)


def driver_imports(modules: dict[str, Path]) -> list[str]:
    """Each import of a driver (at any depth of the file) by a module that must know none."""
    wrong = []
    for name, path in modules.items():
        if not name.startswith(DRIVER_FREE) or name.startswith(ADAPTER_PACKAGES):
            continue
        for target, _ in imported_names(path, name):
            if is_driver(target):
                wrong.append(f"{name} imports {target}")
    return sorted(set(wrong))


def test_domain_application_and_shared_import_no_service_driver() -> None:
    assert driver_imports(product_modules()) == []


def test_the_driver_check_can_fail(tmp_path: Path) -> None:
    """A planted `import psycopg` in an application module is reported, even inside a function."""
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from psycopg import sql\n", encoding="utf-8")
    found = driver_imports({"write_side.application.planted": planted})
    assert "write_side.application.planted imports psycopg" in found


def test_application_and_domain_never_import_adapters() -> None:
    """Use cases reach storage through ports (`write_side.application.ports`); the composition
    root hands the adapters in. An import of an adapter would run the dependency back up."""
    wrong = []
    for name, path in product_modules().items():
        if not name.startswith(("write_side.application", "write_side.domain", "shared")):
            continue
        if name.startswith(ADAPTER_PACKAGES):
            continue
        for target, _ in imported_names(path, name):
            if target.startswith(("write_side.adapters", "shared.adapters")):
                wrong.append(f"{name} imports {target}")
    assert not sorted(set(wrong))


def test_every_product_module_imports_on_its_own() -> None:
    """Each module, imported first in a fresh interpreter, loads: a load-time import loop
    (one the static graph above could miss, e.g. through `__init__` re-exports) fails here
    with the module named. One interpreter, with the product modules dropped before each
    import, keeps this to about ten seconds."""
    modules = sorted(product_modules())
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] in " + repr(PACKAGES) + "]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as error:\n"
        "        failed.append(f'{name}: {error!r}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
