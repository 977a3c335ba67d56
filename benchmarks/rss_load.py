"""Pieces of `benchmarks.rss_scale`: a register-only fill that keeps a sample of ids, the wait
until the running service has projected the whole log, the serve process's memory from /proc,
and the fixed mixed request load.

The fill writes only registrations (one event per customer) so that a million customers fit in
minutes; the point is how the service's memory follows the number of customers, not the
number of events per customer (`benchmarks.eventfill` covers realistic histories)."""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from benchmarks import people
from benchmarks.loadgen import post_json
from write_side.adapters.event_store import CustomersApplication
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType

TENANT = "rss"
SAMPLE = 20_000  # ids kept for reads and updates (a reservoir over the whole fill)


@dataclass
class Filled:
    """How many customers were registered, in how long, and a uniform sample of their ids."""

    customers: int = 0
    seconds: float = 0.0
    ids: list[str] = field(default_factory=list)


def fill_customers(
    app: CustomersApplication,
    count: int,
    rng: random.Random,
    advance: Callable[[int], None],
    per_save: int = 1000,
) -> Filled:
    """Register `count` customers of one tenant, `per_save` per save; `advance(n)` after each."""
    result = Filled()
    started = time.perf_counter()
    while result.customers < count:
        batch: list[Customer] = []
        for _ in range(min(per_save, count - result.customers)):
            kind = people.customer_type(rng)
            profile = people.profile(rng, result.customers + len(batch), kind)
            batch.append(
                Customer.register(
                    tenant_id=TENANT,
                    actor="bench",
                    customer_type=CustomerType(kind),
                    profile=profile,
                )
            )
        app.save(*batch)
        for customer in batch:
            _sample(result, str(customer.id), rng)
        advance(len(batch))
    result.seconds = time.perf_counter() - started
    return result


def _sample(result: Filled, customer_id: str, rng: random.Random) -> None:
    """Reservoir sampling: every customer has the same chance to be among the kept ids."""
    result.customers += 1
    if len(result.ids) < SAMPLE:
        result.ids.append(customer_id)
    else:
        slot = rng.randrange(result.customers)
        if slot < SAMPLE:
            result.ids[slot] = customer_id


class _Projection(msgspec.Struct, rename="camel"):
    name: str
    state: str
    position: int = 0
    head: int = 0
    lag_events: int = 0


class _Health(msgspec.Struct):
    projections: list[_Projection]


def projection_progress(port: int) -> tuple[int, int, list[str]]:
    """(least position over the running projections, head, the projections not running) from
    `/health` (503 bodies too). A backfill that failed stays `pending` (see the report), so
    only a `backfilling` projection keeps the caller waiting; (0, head) until then."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
    health = msgspec.json.decode(body, type=_Health)
    running = [p for p in health.projections if p.state == "running"]
    others = [f"{p.name} ({p.state})" for p in health.projections if p.state != "running"]
    head = max((p.head for p in running), default=0)
    if not running or any(p.state == "backfilling" for p in health.projections):
        return 0, head, others
    return min(p.position for p in running), head, others


def wait_caught_up(
    port: int, report: Callable[[int, int], None], timeout: float
) -> tuple[float, list[str]]:
    """Seconds until every running projection's position reaches the head, and the
    projections not running then; `report(position, head)` every poll. Raises TimeoutError
    after `timeout` seconds."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            position, head, others = projection_progress(port)
        except OSError:  # /health slower than 10 s while the projections work
            continue
        report(position, head)
        if head and position >= head:
            return time.perf_counter() - started, others
        time.sleep(1.0)
    raise TimeoutError(f"projections not caught up after {timeout:.0f} s")


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of process `pid`, in kB, from /proc/PID/status."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


class MixedLoad:
    """The fixed request mix (seeded, so both sizes get the same sequence of kinds):
    60% GET by id over the sampled customers, 15% list pages, 10% name searches,
    10% creates, 5% updates (JSON merge patch of the tags)."""

    WORDS = ("an", "ma", "jo", "el", "sa", "ch", "li", "da", "ka", "mi")

    def __init__(self, ids: list[str], headers: dict[str, str], seed: int) -> None:
        self.ids = ids
        self.headers = headers
        self.rng = random.Random(seed)
        self.run = f"{seed:x}{int(time.time()):x}"

    def request(self, number: int) -> bytes:
        """The `number`-th request of the mix."""
        pick = self.rng.random()
        if pick < 0.60:
            return self._get(f"/customers/{self.rng.choice(self.ids)}")
        if pick < 0.75:
            sort = self.rng.choice(("-createdAt", "createdAt", "lastName"))
            return self._get(f"/customers?limit=20&sort={sort}")
        if pick < 0.85:
            return self._get(f"/customers?limit=20&q={self.rng.choice(self.WORDS)}")
        if pick < 0.95:
            body = (
                f'{{"firstName":"Rss{number}","lastName":"Load",'
                f'"email":"r{number}.{self.run}@example.com",'
                f'"phone":"+1415{3_000_000 + number % 6_000_000:07d}"}}'
            )
            return post_json("/customers", body.encode(), self.headers)
        tags = self.rng.sample(("vip", "newsletter", "b2b", "events"), 2)
        patch = msgspec.json.encode({"tags": tags})
        return self._send("PATCH", f"/customers/{self.rng.choice(self.ids)}", patch)

    def _get(self, path: str) -> bytes:
        return self._send("GET", path, b"")

    def _send(self, method: str, path: str, body: bytes) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", "Host: bench"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if body:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
