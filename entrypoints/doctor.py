"""`customers doctor`: is this configuration able to run, and what to fix when it is not.

It checks the configuration, the data dir, and every configured store: reachable, its
version, writable, and its tables present (the service has no migrations: `customers serve`
creates the tables it needs on first start, so missing tables are a note, not a failure).
Each probe has a short time limit, so a cut or silent service is reported within seconds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

from entrypoints.serve_banner import safe_url
from shared.json_types import JSONObject
from shared.settings import Settings
from write_side.adapters.event_store import sqlite_event_file

PROBE_SECONDS = 4.0
EVENT_TABLES = ("customer_keys",)


class Finding(NamedTuple):
    """One line of the report: `ok`, `note` or `FAIL`, what was found, what to do."""

    status: str
    subject: str
    detail: str
    fix: str = ""


Probe = Callable[[Settings], Awaitable[Finding]]


def _fail(subject: str, detail: str, fix: str) -> Finding:
    return Finding("FAIL", subject, detail, fix)


async def check_data_dir(settings: Settings) -> Finding:
    """The data dir exists (or can be made) and takes a file: secrets and SQLite live there."""
    folder = Path(settings.data_dir).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".doctor-{uuid.uuid4().hex}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        fix = "make it writable by this user, or set CUSTOMERS_DATA_DIR / --data-dir"
        return _fail("data dir", f"{folder}: {error.strerror or error}", fix)
    secret = "CUSTOMERS_JWT_SECRET" if settings.jwt_secret else "generated in the data dir"
    return Finding("ok", "data dir", f"{folder}: writable; token secret: {secret}")


async def check_event_store(settings: Settings) -> Finding:
    """SQLite file or PostgreSQL: reachable, version, writable, tables present."""
    path = sqlite_event_file(settings)
    if path is None:
        return await asyncio.to_thread(_postgres, settings.event_store_url or "")
    return await asyncio.to_thread(
        sqlite_finding, "event store", path, ("stored_events", *EVENT_TABLES)
    )


def sqlite_finding(subject: str, path: Path, tables: tuple[str, ...]) -> Finding:
    where = f"SQLite {sqlite3.sqlite_version} {path.resolve()}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path, timeout=PROBE_SECONDS) as connection:
            connection.execute("BEGIN IMMEDIATE")  # takes the write lock: writable
            present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            connection.rollback()
    except sqlite3.Error as error:
        fix = "check the file's permissions, or that no other program holds it locked"
        return _fail(subject, f"{where}: {error}", fix)
    return _with_tables(subject, f"{where}: writable", tables, present)


def _with_tables(subject: str, where: str, wanted: tuple[str, ...], present: set[str]) -> Finding:
    missing = [table for table in wanted if table not in present]
    if missing:
        note = f"{where}; {', '.join(missing)} not created yet (`customers serve` creates them)"
        return Finding("note", subject, note)
    return Finding("ok", subject, f"{where}, tables present")


def _postgres(url: str) -> Finding:
    import psycopg
    from psycopg import sql

    from shared.adapters.pg_notify import conninfo_for

    schema = dict(
        part.split("=", 1) for part in url.partition("?")[2].split("&") if "=" in part
    ).get("schema", "public")
    where = f"PostgreSQL {safe_url(url)} schema {schema}"
    try:
        with psycopg.connect(conninfo_for(url), connect_timeout=int(PROBE_SECONDS)) as connection:
            version = connection.execute("SHOW server_version").fetchone()
            number = str((version or ["?"])[0]).split()[0]
            where = f"PostgreSQL {number} {safe_url(url)} schema {schema}"
            connection.execute("SET LOCAL lock_timeout = '2s'")
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
            probe = sql.Identifier(schema, f"doctor_{uuid.uuid4().hex[:12]}")
            connection.execute(sql.SQL("CREATE TABLE {} (x int)").format(probe))
            rows = connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).fetchall()
            connection.rollback()  # the probe table and a new schema vanish
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return _fail("event store", f"{where}: {reason}", _pg_fix(reason))
    present = {str(row[0]) for row in rows}
    return _with_tables(
        "event store", f"{where}: writable", ("customers_events", *EVENT_TABLES), present
    )


def _pg_fix(reason: str) -> str:
    lowered = reason.lower()
    if "password" in lowered or "authentication" in lowered:
        return "correct the user and password in CUSTOMERS_EVENT_STORE_URL"
    if "permission" in lowered:
        return "grant the user CREATE on the database/schema, or use another schema (?schema=)"
    if "does not exist" in lowered:
        return "create the database, or correct its name in CUSTOMERS_EVENT_STORE_URL"
    return "start PostgreSQL, or correct host and port in CUSTOMERS_EVENT_STORE_URL"


async def check_mongo(settings: Settings) -> Finding:
    """MongoDB (or a MongoDB-wire server): reachable, version, writable."""
    from pymongo import AsyncMongoClient
    from pymongo.errors import PyMongoError

    url = settings.mongo_url or ""
    timeout_ms = int(PROBE_SECONDS * 1000)
    client: AsyncMongoClient[JSONObject] = AsyncMongoClient(
        url, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    where = f"MongoDB {safe_url(url)}"
    try:
        info = await client.admin.command("buildInfo")
        database = client.get_default_database(default="customers")
        where = f"MongoDB {info.get('version', '?')} {safe_url(url)}"
        probe = database["doctor_probe"]
        inserted = await probe.insert_one({"_id": uuid.uuid4().hex})
        await probe.delete_one({"_id": inserted.inserted_id})
        names = set(await database.list_collection_names())
    except PyMongoError as error:
        reason = str(error).split(", Timeout:")[0].split(" (configured timeouts")[0]
        fix = "start MongoDB, or correct CUSTOMERS_MONGO_URL (host, port, credentials)"
        return _fail("read models", f"{where}: {reason}", fix)
    finally:
        await client.close()
    views = {"customer_view"} if any(n.startswith("customer_view_g") for n in names) else set()
    return _with_tables("read models", f"{where}: writable", ("customer_view",), views)


async def check_redis(settings: Settings) -> Finding:
    """Redis: reachable, version, writable (a short-lived probe key)."""
    from redis.exceptions import RedisError

    from shared.adapters.redis_client import open_redis

    url = settings.redis_url or ""
    where = f"Redis {safe_url(url)}"
    try:
        client = open_redis(url, timeout_seconds=PROBE_SECONDS)
    except (RedisError, ValueError) as error:
        return _fail("search/cache", f"{where}: {error}", "correct CUSTOMERS_REDIS_URL")
    try:
        info = await client.info("server")
        where = f"Redis {info.get('redis_version', '?')} {safe_url(url)}"
        key = f"doctor:probe:{uuid.uuid4().hex}"
        await client.set(key, "ok", ex=10)
        await client.delete(key)
    except (RedisError, OSError) as error:
        fix = "start Redis, or correct CUSTOMERS_REDIS_URL (host, port, password, database)"
        return _fail("search/cache", f"{where}: {error}", fix)
    finally:
        await client.aclose()
    return Finding("ok", "search/cache", f"{where}: writable")


async def check_broker(settings: Settings) -> Finding:
    """RabbitMQ: reachable, version, and a channel may declare a (temporary) queue."""
    import aio_pika

    url = settings.amqp_url or ""
    where = f"RabbitMQ {safe_url(url)}"
    try:
        connection = await aio_pika.connect(url, timeout=PROBE_SECONDS)
    except Exception as error:  # aio-pika raises many kinds (socket, AMQP, timeouts)
        fix = "start RabbitMQ, or correct CUSTOMERS_AMQP_URL (host, port, user, vhost)"
        return _fail("broker", f"{where}: {error or type(error).__name__}", fix)
    try:
        underlay = connection.transport
        properties = underlay.connection.server_properties if underlay else {}
        version = properties.get("version", b"?")
        text = version.decode() if isinstance(version, bytes) else str(version)
        where = f"RabbitMQ {text} {safe_url(url)}"
        channel = await connection.channel()
        await channel.declare_queue(exclusive=True, auto_delete=True)
    except Exception as error:  # a refused declare is an AMQP channel error
        return _fail("broker", f"{where}: {error}", "grant the user configure/write on the vhost")
    finally:
        await connection.close()
    return Finding("ok", "broker", f"{where}: can declare queues")
