"""No shared local state (issue 16 A.2): with a PostgreSQL event store every host must be given
the same secrets; nothing is generated into one host's data dir. Embedded still generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints import cli
from shared.errors import ConfigurationError
from shared.settings import Settings

PG = "postgresql://customers@127.0.0.1:1/customers"
SECRETS = {
    "CUSTOMERS_MASTER_KEY": "master-key-0123456789abcdef",
    "CUSTOMERS_JWT_SECRET": "jwt-secret-with-at-least-32-characters!!",
    "CUSTOMERS_AUDIT_KEY": "audit-key-0123456789abcdef",
}


def test_a_postgres_store_without_secrets_is_refused_naming_each(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"CUSTOMERS_EVENT_STORE_URL": PG, "CUSTOMERS_DATA_DIR": str(tmp_path)}
    )
    with pytest.raises(ConfigurationError) as refused:
        settings.require_shared_secrets()
    for name in ("CUSTOMERS_MASTER_KEY", "CUSTOMERS_JWT_SECRET"):
        assert name in str(refused.value)
        assert f"{name}_FILE" in str(refused.value)
    assert not list(tmp_path.iterdir()), "nothing may be generated into the data dir"


def test_one_missing_secret_is_enough_to_refuse(tmp_path: Path) -> None:
    env = {"CUSTOMERS_EVENT_STORE_URL": PG, **SECRETS, "CUSTOMERS_JWT_SECRET": ""}
    with pytest.raises(ConfigurationError, match="CUSTOMERS_JWT_SECRET") as refused:
        Settings.from_env(env).require_shared_secrets()
    assert "CUSTOMERS_MASTER_KEY" not in str(refused.value)


def test_without_an_audit_key_hosts_derive_the_same_one_from_the_jwt_secret(
    tmp_path: Path,
) -> None:
    env = {"CUSTOMERS_EVENT_STORE_URL": PG, **SECRETS, "CUSTOMERS_AUDIT_KEY": ""}
    hosts = [Settings.from_env({**env, "CUSTOMERS_DATA_DIR": str(tmp_path / h)}) for h in "ab"]
    for host in hosts:
        host.require_shared_secrets()
    keys = {host.resolved_audit_key() for host in hosts}
    assert len(keys) == 1, "every host must seal with the same key"
    [key] = keys
    assert SECRETS["CUSTOMERS_JWT_SECRET"].encode() not in key, "one-way, not the secret itself"
    assert not tmp_path.exists() or not any(tmp_path.rglob("*.key")), "nothing generated"
    explicit = Settings.from_env({"CUSTOMERS_EVENT_STORE_URL": PG, **SECRETS})
    assert explicit.resolved_audit_key() == SECRETS["CUSTOMERS_AUDIT_KEY"].encode()


def test_secrets_from_files_are_accepted(tmp_path: Path) -> None:
    env = {"CUSTOMERS_EVENT_STORE_URL": PG}
    for name, value in SECRETS.items():
        (tmp_path / name).write_text(value + "\n")
        env[f"{name}_FILE"] = str(tmp_path / name)
    settings = Settings.from_env(env)
    settings.require_shared_secrets()
    assert settings.master_key == SECRETS["CUSTOMERS_MASTER_KEY"]
    assert settings.resolved_jwt_secret() == SECRETS["CUSTOMERS_JWT_SECRET"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"CUSTOMERS_MASTER_KEY": "x" * 20}, "not both"),
        ({}, "cannot be read"),
    ],
)
def test_a_bad_secret_file_setting_is_one_clear_error(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    env = {"CUSTOMERS_MASTER_KEY_FILE": str(tmp_path / "absent"), **extra}
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_the_embedded_profile_still_generates_its_secrets(tmp_path: Path) -> None:
    settings = Settings.from_env({"CUSTOMERS_DATA_DIR": str(tmp_path)})
    settings.require_shared_secrets()
    assert len(settings.resolved_jwt_secret()) >= 32
    assert settings.resolved_master_keys().current.secret
    assert (tmp_path / "jwt.secret").exists() and (tmp_path / "master.key").exists()


@pytest.mark.parametrize("command", [["serve"], ["projections", "run"]])
def test_serve_and_the_worker_refuse_to_start(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CUSTOMERS_EVENT_STORE_URL", PG)
    monkeypatch.setenv("CUSTOMERS_DATA_DIR", str(tmp_path))
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)

    def tripwire(*args: object, **kwargs: object) -> None:
        raise AssertionError("started despite missing secrets")

    monkeypatch.setattr("uvicorn.run", tripwire)
    monkeypatch.setattr("entrypoints.cli_projections.run_worker", tripwire)
    assert cli.main(command) == 2
    error = capsys.readouterr().err
    assert "CUSTOMERS_MASTER_KEY" in error and "CUSTOMERS_JWT_SECRET" in error
    assert len(error.strip().splitlines()) == 1
    assert not (tmp_path / "master.key").exists() and not (tmp_path / "jwt.secret").exists()


@pytest.mark.parametrize("prefix", ["has space", "a{b}", "star*", "x" * 65])
def test_a_redis_prefix_unsafe_in_keys_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigurationError, match="CUSTOMERS_REDIS_PREFIX"):
        Settings.from_env({"CUSTOMERS_REDIS_PREFIX": prefix})


def test_the_redis_prefix_defaults_to_customers() -> None:
    assert Settings.from_env({}).redis_prefix == "customers"
    assert Settings.from_env({"CUSTOMERS_REDIS_PREFIX": "eu-1.prod"}).redis_prefix == "eu-1.prod"
