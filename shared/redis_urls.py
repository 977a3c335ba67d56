"""What `CUSTOMERS_REDIS_URL` may say (pure: no driver), single server or Redis Cluster.

The operator says "cluster" in the URL itself, so one setting cannot half-configure it:
`redis+cluster://[user:password@]host:port` (or `rediss+cluster://` for TLS) names one seed
node; the client discovers the others and follows slot moves
(`shared.adapters.redis_client`). A cluster has only database 0, so a URL naming another is
refused at start-up rather than at the first write.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from shared.errors import ConfigurationError

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
SCHEMES = ("redis", "rediss", "unix", *CLUSTER_SCHEMES)


def is_cluster_url(url: str) -> bool:
    """True when `url` names a Redis Cluster (`redis+cluster://`, `rediss+cluster://`)."""
    return url.lower().startswith(tuple(f"{scheme}://" for scheme in CLUSTER_SCHEMES))


def seed_url(url: str) -> str:
    """The plain `redis://` / `rediss://` URL of a cluster URL's seed node; raises
    `ConfigurationError` when it names a database other than 0 (a cluster has no other)."""
    parts = urlsplit(url)
    database = parts.path.strip("/")
    if database not in ("", "0"):
        raise ConfigurationError(
            f"CUSTOMERS_REDIS_URL names database {database!r}: a Redis Cluster has only "
            "database 0 (CUSTOMERS_REDIS_PREFIX lets deployments share one cluster)"
        )
    scheme = parts.scheme.lower().removesuffix("+cluster")
    return urlunsplit((scheme, parts.netloc, "", parts.query, ""))


def check_url(url: str | None) -> None:
    """Refuse, at start-up, a Redis URL that cannot work (see `seed_url`)."""
    if url and is_cluster_url(url):
        seed_url(url)
