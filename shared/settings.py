"""Typed settings, read from the environment when asked (never at import time)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import phonenumbers

from shared.countries import is_assigned_country
from shared.env_values import choice, key_prefix, seconds, secret_or_file, url, whole_number
from shared.errors import ConfigurationError
from shared.json_types import JSONObject
from shared.master_keys import MasterKeys, parse_master_keys
from shared.redis_urls import SCHEMES as REDIS_SCHEMES
from shared.redis_urls import check_url as check_redis_url

EVENT_STORE_SCHEMES = ("sqlite", "postgresql", "postgres")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with. A CLI flag wins over the environment."""

    data_dir: Path = Path(".customers")
    event_store_url: str | None = None
    mongo_url: str | None = None
    redis_url: str | None = None
    amqp_url: str | None = None
    jwt_secret: str | None = None
    default_phone_region: str = "US"
    retention_days: int = 365
    retention_interval_seconds: float = 3600.0
    segment_sweep_interval_seconds: float = 3600.0
    consistency_timeout_seconds: float = 5.0
    # How long a rebuild keeps the old generation after readers switched (they look again
    # every second; a batch in flight lands first). Tests with no other process shorten it.
    rebuild_grace_seconds: float = 3.0
    # How long projections in a serving process may wait while the API is busy (issue 16 B).
    projection_defer_seconds: float = 2.0
    service_timeout_seconds: float = 2.0
    group_commit_max_batch: int = 256
    log_level: str = "INFO"
    log_format: str = "auto"
    audit_key: str | None = None
    audit_seal_events: int = 1000
    audit_seal_seconds: float = 60.0
    alert_burst: int = 20
    alert_window_seconds: float = 60.0
    alert_bulk_records: int = 1000
    alert_token_addresses: int = 5
    alert_lockout_seconds: float = 300.0
    master_key: str | None = None
    rate_limit_tenant_per_minute: int = 6000
    rate_limit_subject_per_minute: int = 1200
    redis_prefix: str = "customers"

    # Left open: the overrides are the CLI's flags by field name, of each field's own type, which
    # `replace` (typed per field by mypy's dataclass plugin) checks.
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from `CUSTOMERS_*` variables, then apply non-None overrides."""
        env = os.environ if environ is None else environ
        settings = cls(
            data_dir=Path(env.get("CUSTOMERS_DATA_DIR") or ".customers"),
            event_store_url=url(env, "CUSTOMERS_EVENT_STORE_URL", EVENT_STORE_SCHEMES),
            mongo_url=url(env, "CUSTOMERS_MONGO_URL", ("mongodb", "mongodb+srv")),
            redis_url=url(env, "CUSTOMERS_REDIS_URL", REDIS_SCHEMES),
            amqp_url=url(env, "CUSTOMERS_AMQP_URL", ("amqp", "amqps")),
            jwt_secret=secret_or_file(env, "CUSTOMERS_JWT_SECRET", minimum_length=32),
            default_phone_region=(env.get("CUSTOMERS_DEFAULT_PHONE_REGION") or "US").upper(),
            retention_days=whole_number(env, "CUSTOMERS_RETENTION_DAYS", 365, unit="days"),
            retention_interval_seconds=seconds(
                env, "CUSTOMERS_RETENTION_INTERVAL", 3600, maximum=31 * 86400
            ),
            segment_sweep_interval_seconds=seconds(
                env, "CUSTOMERS_SEGMENT_SWEEP_INTERVAL", 3600, maximum=31 * 86400
            ),
            consistency_timeout_seconds=seconds(
                env, "CUSTOMERS_CONSISTENCY_TIMEOUT", 5.0, maximum=600
            ),
            service_timeout_seconds=seconds(env, "CUSTOMERS_SERVICE_TIMEOUT", 2.0, maximum=600),
            rebuild_grace_seconds=seconds(env, "CUSTOMERS_REBUILD_GRACE", 3.0, maximum=600),
            projection_defer_seconds=seconds(
                env, "CUSTOMERS_PROJECTION_DEFER", 2.0, maximum=600, zero=True
            ),
            log_level=choice(env, "CUSTOMERS_LOG_LEVEL", "INFO", LOG_LEVELS),
            log_format=(env.get("CUSTOMERS_LOG_FORMAT") or "auto").lower(),
            audit_key=secret_or_file(env, "CUSTOMERS_AUDIT_KEY"),
            audit_seal_events=whole_number(env, "CUSTOMERS_AUDIT_SEAL_EVENTS", 1000, minimum=1),
            audit_seal_seconds=seconds(env, "CUSTOMERS_AUDIT_SEAL_SECONDS", 60, maximum=86400),
            **_alert_settings(env),
            master_key=secret_or_file(env, "CUSTOMERS_MASTER_KEY"),
            rate_limit_tenant_per_minute=whole_number(
                env, "CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE", 6000
            ),
            rate_limit_subject_per_minute=whole_number(
                env, "CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE", 1200
            ),
            redis_prefix=key_prefix(env, "CUSTOMERS_REDIS_PREFIX", "customers"),
        )
        present = {key: value for key, value in overrides.items() if value is not None}
        settings = replace(settings, **present)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work, with a message naming the variable."""
        region = self.default_phone_region
        if region not in phonenumbers.SUPPORTED_REGIONS or not is_assigned_country(region):
            raise ConfigurationError(
                f"CUSTOMERS_DEFAULT_PHONE_REGION={region!r} is not an ISO 3166-1 alpha-2 "
                "country code with phone numbers (e.g. US, GB, DE)"
            )
        if self.log_format not in ("auto", "json", "pretty"):
            raise ConfigurationError(
                f"CUSTOMERS_LOG_FORMAT={self.log_format!r} must be auto, json or pretty"
            )
        check_redis_url(self.redis_url)
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise ConfigurationError(
                f"the data dir {str(self.data_dir)!r} (--data-dir or CUSTOMERS_DATA_DIR) is a "
                "file, not a folder"
            )
        if self.master_key is not None:
            parse_master_keys(self.master_key)  # a malformed ring stops here, not at first use

    @property
    def embedded(self) -> bool:
        """True when no external service is configured at all."""
        return not (self.mongo_url or self.redis_url or self.amqp_url) and not (
            self.event_store_url or ""
        ).startswith("postgres")

    @property
    def shared_event_store(self) -> bool:
        """True when the event store is PostgreSQL: processes on other hosts may share it."""
        return (self.event_store_url or "").startswith("postgres")

    def require_shared_secrets(self) -> None:
        """With a shared (PostgreSQL) event store, refuse to make up host-local secrets: a key
        generated into this host's data dir would wrap customer keys, sign tokens and seal the
        audit log differently from every other host's. The embedded profile generates them."""
        if not self.shared_event_store:
            return
        given = {
            "CUSTOMERS_MASTER_KEY": self.master_key,
            "CUSTOMERS_JWT_SECRET": self.jwt_secret,
        }
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise ConfigurationError(
                f"a PostgreSQL event store is shared by every host, so its secrets must be too: "
                f"set {', '.join(missing)} (or {'/'.join(m + '_FILE' for m in missing)} naming a "
                "file), the same on every host; nothing is generated into the data dir"
            )

    def resolved_jwt_secret(self) -> str:
        """The configured secret, else one generated once into the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        return read_or_create_secret(self.data_dir / "jwt.secret")

    def resolved_master_keys(self) -> MasterKeys:
        """The master key ring (`CUSTOMERS_MASTER_KEY`), else one key generated once into the
        data dir. It wraps the customer keys and the identity-hash key (`key_ring.py`)."""
        if self.master_key:
            return parse_master_keys(self.master_key)
        return MasterKeys.single(read_or_create_secret(self.data_dir / "master.key"))

    def resolved_audit_key(self) -> bytes:
        """Key signing the log's checkpoints: never the data key, so holding the data key (or
        the database) is not enough to forge a seal. Kept apart in the data dir when unset on
        the embedded profile; with a shared store and no `CUSTOMERS_AUDIT_KEY` it is derived
        from the JWT secret every host already shares (docs/decisions.md, "Audit key")."""
        if self.audit_key:
            return self.audit_key.encode()
        if self.shared_event_store and self.jwt_secret:
            return derived_audit_key(self.jwt_secret)
        return read_or_create_secret(self.data_dir / "audit.key").encode()


def _alert_settings(env: Mapping[str, str]) -> JSONObject:
    """`CUSTOMERS_ALERT_*`: security-alert thresholds (0 turns a kind of alert off)."""
    return {
        "alert_burst": whole_number(env, "CUSTOMERS_ALERT_BURST", 20),
        "alert_window_seconds": seconds(env, "CUSTOMERS_ALERT_WINDOW", 60, maximum=86400),
        "alert_bulk_records": whole_number(env, "CUSTOMERS_ALERT_BULK_RECORDS", 1000),
        "alert_token_addresses": whole_number(env, "CUSTOMERS_ALERT_TOKEN_ADDRESSES", 5),
        "alert_lockout_seconds": seconds(env, "CUSTOMERS_ALERT_LOCKOUT", 300, maximum=86400),
    }


def derived_audit_key(jwt_secret: str) -> bytes:
    """An audit key derived one-way from the JWT secret (HMAC with a fixed label): the same on
    every host that shares the secret, and neither the data key nor anything in the database."""
    digest = hmac.new(jwt_secret.encode(), b"customers/audit-checkpoints/v1", hashlib.sha256)
    return digest.hexdigest().encode()


def read_or_create_secret(path: Path) -> str:
    """Read a secret file, creating it (mode 0600) with 256 random bits when missing."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # pragma: no cover - a concurrent creator won
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value)
    return value
