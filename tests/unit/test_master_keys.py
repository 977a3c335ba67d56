"""`CUSTOMERS_MASTER_KEY` as a key ring: the forms it takes, and one clear sentence (never a
traceback, never the key itself) for each malformed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints import cli
from shared.errors import ConfigurationError
from shared.master_keys import LEGACY_ID, parse_master_keys
from shared.settings import Settings
from write_side.application.crypto.key_ring import KeyRing

SECRET = "s3cr3t-material-never-printed"


@pytest.mark.parametrize(
    "plain", [SECRET, "a-master-key", "Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWo=", "x y:z"]
)
def test_a_plain_value_is_one_key_as_before_rotation(plain: str) -> None:
    ring = parse_master_keys(plain)
    assert [(k.id, k.secret) for k in ring.keys] == [(LEGACY_ID, plain.encode())]


def test_a_ring_lists_ids_and_keys_current_first() -> None:
    ring = parse_master_keys(" new:AAAA== , old:bbb:with:colons ")
    assert [(k.id, k.secret) for k in ring.keys] == [
        ("new", b"AAAA=="),
        ("old", b"bbb:with:colons"),
    ]
    assert ring.current.id == "new" and SECRET not in repr(ring)


def test_the_old_plain_key_keeps_its_fingerprint_under_any_id() -> None:
    alone, listed = (
        KeyRing(parse_master_keys(SECRET)),
        KeyRing(parse_master_keys(f"n:x,o:{SECRET}")),
    )
    assert listed.find(alone.current.kek_id) is not None and listed.current.id == "n"
    assert SECRET not in repr(listed.keys)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a:x,", "entry 2 must be ID:KEY.*it is empty"),
        ("a:x,,b:y", "entry 2 .*it is empty"),
        (f"a:x,{SECRET}", "entry 2 .*it has no ID:"),
        (f"a:x,bad id!:{SECRET}", "entry 2 .*its ID is not valid"),
        ("a:x,b:", "the key of id 'b' is empty"),
        (f"a:{SECRET},a:other", "lists the id 'a' twice"),
        (f"a:{SECRET},b:{SECRET}", "key of id 'b' repeats an earlier key"),
        (f"{'i' * 33}:x,b:y", "entry 1 .*its ID is not valid"),
    ],
)
def test_a_malformed_ring_is_one_sentence_without_the_key(value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as refused:
        Settings.from_env({"CUSTOMERS_MASTER_KEY": value})
    assert SECRET not in str(refused.value) and "other" not in str(refused.value)


def test_the_cli_says_it_in_one_line_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CUSTOMERS_MASTER_KEY", f"new:x,{SECRET}")
    monkeypatch.delenv("CUSTOMERS_MASTER_KEY_FILE", raising=False)
    assert cli.main(["keys", "rotate", "--data-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "CUSTOMERS_MASTER_KEY" in error
    assert SECRET not in error and "Traceback" not in error
    assert not (tmp_path / "events.db").exists()  # refused before opening anything
