"""`make serve` prints a console link that signs a person in as a local admin."""

from __future__ import annotations

from pathlib import Path

import jwt

from entrypoints.serve_banner import Listening, banner_lines
from shared.settings import Settings


def test_the_banner_gives_a_ready_console_link_for_a_local_admin(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret="k" * 40)
    listening = Listening(settings, "0.0.0.0", 8080)  # noqa: S104 - printed as 127.0.0.1

    lines = banner_lines(listening, "customers", "pretty")

    link = next(line.split()[1] for line in lines if line.strip().startswith("console "))
    assert link.startswith("http://127.0.0.1:8080/console#token=")
    claims = jwt.decode(link.split("#token=")[1], "k" * 40, algorithms=["HS256"])
    assert claims["roles"] == ["admin"] and claims["tenant"] == "acme"
    assert claims["exp"] - claims["iat"] == 12 * 3600
