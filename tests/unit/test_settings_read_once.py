"""One `Settings` object, read once: no product module but `shared/settings.py` reads the
process environment for a `CUSTOMERS_*` variable (a second reader drifts: the master key and
the rate limits were read again from `os.environ`, so a `Settings` built in code was ignored)."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.http.rate_limit import RateLimitSettings
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "write_side", "read_side", "projectors", "entrypoints")
#: Readers allowed, and why.
ALLOWED = {
    "shared/settings.py",  # the one reader
    "entrypoints/cli_help.py",  # argparse defaults of the CLI-only options (host, port, workers)
    "shared/logs.py",  # NO_COLOR and TERM, not ours
}


def environment_readers() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text(), name)
            # `os.environ[...] = ...` (passing the settings to worker processes) is a write.
            writes = {
                id(target.value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Assign)
                for target in node.targets
                if isinstance(target, ast.Subscript)
            }
            if any(
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
                and id(node) not in writes
                for node in ast.walk(tree)
            ):
                found.add(name)
    return found


def test_only_the_settings_module_reads_the_environment() -> None:
    unexpected = sorted(environment_readers() - ALLOWED)
    assert not unexpected, f"read the environment outside shared/settings.py: {unexpected}"


def test_the_master_key_and_rate_limits_come_from_the_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CUSTOMERS_MASTER_KEY": "a-master-key",
            "CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE": "0",
            "CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE": "30",
        },
        data_dir=tmp_path,
    )
    assert settings.resolved_master_keys().current.secret == b"a-master-key"
    assert RateLimitSettings.from_settings(settings) == RateLimitSettings(0, 30, True)
    built = Settings(data_dir=tmp_path, master_key="in-code", rate_limit_tenant_per_minute=0)
    assert built.resolved_master_keys().current.secret == b"in-code"
    assert RateLimitSettings.from_settings(built) == RateLimitSettings(0, 1200, True)
