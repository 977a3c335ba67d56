"""`customers projections list` and `customers projections query NAME --tenant T`."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from entrypoints.projection_admin import describe
from entrypoints.runtime import start_runtime
from shared.settings import Settings

console = Console(stderr=False)


async def list_projections(settings: Settings) -> int:
    """Every projection: where it comes from, its version, generation, position and state;
    then the entry points that were refused, and why."""
    runtime = await start_runtime(settings, projections=False)
    try:
        described = await describe(runtime)
        table = Table(title=f"projections (event store head {described.head})")
        for column in ("projection", "origin", "version", "generation", "position", "state"):
            table.add_column(column, no_wrap=column == "projection")
        table.add_column("description")
        for row in described.items:
            built = "-" if row.version is None else str(row.version)
            table.add_row(
                row.name, row.origin, built, str(row.generation or "-"), str(row.position),
                row.state if row.state != "not running here" else "-", row.description,
            )  # fmt: skip
        console.print(table)
        for refused in runtime.catalogue.refused:
            console.print(f"refused: {refused.entry_point} ({refused.origin}): {refused.reason}")
        return 0
    finally:
        await runtime.stop()


async def query_projection(settings: Settings, name: str, tenant: str, prefix: str) -> int:
    """Print an added projection's documents in `tenant` as JSON lines (`{key, value}`)."""
    runtime = await start_runtime(settings, projections=False)
    try:
        plugin = runtime.plugins.get(name)
        if plugin is None:
            known = ", ".join(runtime.plugins) or "none"
            console.print(f"no added projection named {name!r} (added: {known})")
            return 2
        store = await plugin.live.current()
        for item in await store.find(tenant, prefix):
            print(json.dumps({"key": item.key, "value": item.doc}, sort_keys=True))
        return 0
    finally:
        await runtime.stop()
