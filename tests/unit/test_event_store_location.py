"""The embedded event store lives in the data dir, also when the data dir is relative (the
default `./.customers`): it once went to `/.customers/events.db` at the filesystem root."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import Settings
from write_side.adapters.event_store import event_store_env, sqlite_event_file


def test_a_relative_data_dir_keeps_the_events_beside_the_read_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=Path(".customers"))

    env = event_store_env(settings)

    assert Path(env["SQLITE_DBNAME"]).resolve() == tmp_path / ".customers" / "events.db"
    assert sqlite_event_file(settings) == Path(env["SQLITE_DBNAME"])


def test_an_explicit_sqlite_url_names_the_file_and_postgres_has_none(tmp_path: Path) -> None:
    explicit = Settings(data_dir=tmp_path, event_store_url=f"sqlite:///{tmp_path}/e%20s.db")
    on_postgres = Settings(data_dir=tmp_path, event_store_url="postgresql://h/db")

    assert sqlite_event_file(explicit) == tmp_path / "e s.db"
    assert event_store_env(explicit)["SQLITE_DBNAME"] == str(tmp_path / "e s.db")
    assert sqlite_event_file(on_postgres) is None
