"""`customers keys rotate`: re-wrap every customer key under the current master key.

It opens only the event store (the keys live in its database). The bar goes to stderr and
the result to stdout; interrupted, the command continues where it stopped when run again,
and once everything is under the current key it says so and changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from entrypoints import cli_args
from shared.settings import Settings

if TYPE_CHECKING:
    from write_side.application.crypto.key_rotation import RotatableKeyStore, RotationPlan


def add_keys_command(commands: cli_args.Commands, data_dir_help: str) -> None:
    """Register `customers keys rotate`."""
    keys = commands.add_parser("keys", help="manage the master keys (CUSTOMERS_MASTER_KEY)")
    actions = keys.add_subparsers(dest="keys_action", required=True)
    rotate = actions.add_parser(
        "rotate",
        help="re-wrap every customer key under the first key of CUSTOMERS_MASTER_KEY "
        "(resumable; afterwards the other keys can be removed)",
    )
    rotate.add_argument(
        "--batch",
        type=cli_args.batch,
        help="keys re-wrapped per transaction, 1-10000 (default 500): smaller holds row "
        "locks for less time on a busy database",
    )
    rotate.add_argument("--data-dir", help=data_dir_help)
    rotate.set_defaults(handler=_rotate)


def _rotate(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir) if args.data_dir else None
    settings = Settings.from_env(data_dir=data_dir)
    settings.require_shared_secrets()
    return rotate_keys(settings, batch=args.batch)


def rotate_keys(settings: Settings, *, batch: int | None = None) -> int:
    """Run (or resume) the rotation; 0 when every key is under the current master key."""
    from write_side.adapters.event_store import open_event_store
    from write_side.application.crypto.key_rotation import ROTATION_BATCH, plan

    store = open_event_store(settings)  # a ring lacking a needed key: `RingLacksKey`, exit 2
    try:
        keys = store.keys
        current = keys.ring.describe(keys.kek_id)
        before = plan(keys)
        if before.unknown:
            _refuse_unknown(keys, before)
            return 2
        if not before.pending:
            print(
                f"nothing to rotate: all {before.current} customer keys are already wrapped by "
                f"master key {current}{_removable(keys, before)}"
            )
            return 0
        print(
            f"re-wrapping {before.to_rewrap} customer keys under master key {current} "
            f"({before.current} already under it)",
            file=sys.stderr,
        )
        started = time.perf_counter()
        done = _with_bar(keys, before.to_rewrap, batch or ROTATION_BATCH)
        seconds = time.perf_counter() - started
        after = plan(keys)
        print(
            f"rotated {done} customer keys to master key {current} in {seconds:.1f}s "
            f"({done / max(seconds, 1e-6):,.0f} keys/s); {after.current} keys under it"
            f"{_removable(keys, after)}"
        )
        return 0 if not after.pending and not after.unknown else 1
    finally:
        store.close()


def _with_bar(keys: RotatableKeyStore, total: int, batch: int) -> int:
    """Rotate with a progress bar (keys/s, ETA) on stderr; none when stderr is not a tty."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from write_side.application.crypto.key_rotation import rotate

    columns = (
        TextColumn("[bold]rotate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8.0f} keys/s"),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    started = time.perf_counter()
    quiet = not console.is_terminal  # piped: only the result lines
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task("rotate", total=total, rate=0.0)

        def progress(done: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-6)
            bar.update(task, completed=done, rate=rate)

        return rotate(keys, progress=progress, batch=batch)


def _removable(keys: RotatableKeyStore, state: RotationPlan) -> str:
    if state.pending or state.unknown:
        return ""
    others = [key.id for key in keys.ring.keys if key.kek_id != keys.kek_id]
    if not others:
        return ""
    names = ", ".join(map(repr, others))
    return f"; no key needs {names} any more: it can leave CUSTOMERS_MASTER_KEY"


def _refuse_unknown(keys: RotatableKeyStore, state: RotationPlan) -> None:
    found = ", ".join(f"{kek} ({count} keys)" for kek, count in sorted(state.unknown.items()))
    print(
        f"customers keys rotate: some customer keys are wrapped by master keys that "
        f"CUSTOMERS_MASTER_KEY ({keys.ring.ids}) does not hold — fingerprints {found}; add the "
        "key they were written with (after the current one), then run again",
        file=sys.stderr,
    )
