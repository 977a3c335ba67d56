"""Help texts of the `customers` command: every option names its variable and its default.

`ENVIRONMENT` is the one list of the `CUSTOMERS_*` variables the service reads; the top-level
`customers --help` prints it, and a test checks it against the code that reads them.
"""

from __future__ import annotations

import os
from typing import NamedTuple


class Variable(NamedTuple):
    """One environment variable: name, what it sets, what unset means."""

    name: str
    meaning: str
    default: str


ENVIRONMENT: tuple[Variable, ...] = (
    Variable("CUSTOMERS_DATA_DIR", "embedded data and generated secrets", "./.customers"),
    Variable(
        "CUSTOMERS_EVENT_STORE_URL",
        "sqlite:///path.db or postgresql://user:pw@host/db[?schema=s]",
        "data dir's events.db",
    ),
    Variable("CUSTOMERS_MONGO_URL", "MongoDB for read models and the access audit", "SQLite"),
    Variable(
        "CUSTOMERS_REDIS_URL",
        "Redis for search, cache and rate limits; redis+cluster://host:port for a Redis Cluster",
        "SQLite/in-process",
    ),
    Variable("CUSTOMERS_AMQP_URL", "RabbitMQ for integration events in and out", "no broker"),
    Variable(
        "CUSTOMERS_REDIS_PREFIX", "namespace of every Redis key (one per deployment)", "customers"
    ),
    Variable(
        "CUSTOMERS_JWT_SECRET",
        "token signing secret; or CUSTOMERS_JWT_SECRET_FILE; required with PostgreSQL",
        "generated in the data dir",
    ),
    Variable(
        "CUSTOMERS_MASTER_KEY",
        "wraps every customer's key: KEY, or ID:KEY,ID:KEY (first current; see `keys rotate`);"
        " or CUSTOMERS_MASTER_KEY_FILE; required with PostgreSQL",
        "generated in the data dir",
    ),
    Variable("CUSTOMERS_DEFAULT_PHONE_REGION", "region of national phone numbers", "US"),
    Variable("CUSTOMERS_RETENTION_DAYS", "erase customers deleted longer than N days", "365"),
    Variable("CUSTOMERS_RETENTION_INTERVAL", "seconds between retention runs", "3600"),
    Variable("CUSTOMERS_SEGMENT_SWEEP_INTERVAL", "seconds between segment time sweeps", "3600"),
    Variable("CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE", "requests per tenant; 0 = off", "6000"),
    Variable("CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE", "requests per token subject", "1200"),
    Variable("CUSTOMERS_CONSISTENCY_TIMEOUT", "wait for X-Consistency-Token (s)", "5"),
    Variable("CUSTOMERS_REBUILD_GRACE", "old generation kept after a rebuild (s)", "3"),
    Variable("CUSTOMERS_PROJECTION_DEFER", "projections wait while the API is busy (s)", "2"),
    Variable(
        "CUSTOMERS_AUDIT_KEY",
        "key signing log checkpoints; or CUSTOMERS_AUDIT_KEY_FILE",
        "audit.key in the data dir; with PostgreSQL derived from the JWT secret",
    ),
    Variable("CUSTOMERS_AUDIT_SEAL_EVENTS", "events between signed checkpoints", "1000"),
    Variable("CUSTOMERS_AUDIT_SEAL_SECONDS", "seconds between signed checkpoints", "60"),
    Variable("CUSTOMERS_ALERT_BURST", "401s/403s/cross-tenant 404s that raise an alert", "20"),
    Variable("CUSTOMERS_ALERT_WINDOW", "seconds over which alerts count", "60"),
    Variable("CUSTOMERS_ALERT_BULK_RECORDS", "records a tenant may list or export", "1000"),
    Variable("CUSTOMERS_ALERT_TOKEN_ADDRESSES", "client addresses one token may use", "5"),
    Variable("CUSTOMERS_ALERT_LOCKOUT", "seconds an alerted client gets 429", "300"),
    Variable("CUSTOMERS_SERVICE_TIMEOUT", "MongoDB/Redis/PostgreSQL wait before a 503 (s)", "2"),
    Variable("CUSTOMERS_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR", "INFO"),
    Variable(
        "CUSTOMERS_LOG_FORMAT", "auto (pretty on a terminal, else JSON), json, pretty", "auto"
    ),
    Variable("CUSTOMERS_HOST", "serve: address to listen on", "127.0.0.1"),
    Variable("CUSTOMERS_PORT", "serve: port to listen on", "8000"),
    Variable("CUSTOMERS_WORKERS", "serve: HTTP worker processes", "1"),
)
_DEFAULTS = {variable.name: variable.default for variable in ENVIRONMENT}


def env_help(text: str, variable: str) -> str:
    """`text [env VARIABLE, default D]` for an option the environment can set."""
    return f"{text} [env {variable}, default {_DEFAULTS[variable]}]"


def plain_help(text: str, default: str) -> str:
    """`text [default D]` for an option only the command line sets."""
    return f"{text} [default {default}]"


def env_default(variable: str) -> str:
    """The option's default: the variable when set, else the built-in default (as text)."""
    return os.environ.get(variable) or _DEFAULTS[variable]


def environment_epilog() -> str:
    """The list of variables for `customers --help` (a flag wins over its variable)."""
    width = max(len(variable.name) for variable in ENVIRONMENT)
    rows = [f"  {v.name:<{width}}  {v.meaning} (unset: {v.default})" for v in ENVIRONMENT]
    return "environment (a flag wins over its variable):\n" + "\n".join(rows)
