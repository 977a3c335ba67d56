"""`GET /metrics`: Prometheus text for requests, appends, projection positions and lag."""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import TYPE_CHECKING

from litestar import Controller, MediaType, Response, get

from shared.http.types import HTTPRequest

if TYPE_CHECKING:  # the runtime imports this module
    from entrypoints.runtime import Runtime

HISTOGRAM = "customers_http_request_duration_seconds"
BUCKETS_MS = (1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)


class RequestMetrics:
    """Counts and latency histograms per method, route and status."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: dict[tuple[str, str], list[int]] = defaultdict(
            lambda: [0] * (len(BUCKETS_MS) + 1)
        )
        self.sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe_request(self, method: str, route: str, status: int, elapsed_ms: float) -> None:
        """Record one finished request."""
        self.counts[(method, route, status)] += 1
        self.buckets[(method, route)][bisect.bisect_left(BUCKETS_MS, elapsed_ms)] += 1
        self.sums[(method, route)] += elapsed_ms / 1000

    def render(self) -> list[str]:
        """Prometheus lines for the request metrics."""
        lines = [
            "# HELP customers_http_requests_total HTTP requests by method, route and status.",
            "# TYPE customers_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.counts.items()):
            labels = f'method="{method}",route="{route}",status="{status}"'
            lines.append(f"customers_http_requests_total{{{labels}}} {count}")
        lines += [
            "# HELP customers_http_request_duration_seconds HTTP request latency.",
            "# TYPE customers_http_request_duration_seconds histogram",
        ]
        for (method, route), counts in sorted(self.buckets.items()):
            labels = f'method="{method}",route="{route}"'
            running = 0
            for bound, count in zip((*BUCKETS_MS, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else f"{bound / 1000:g}"
                lines.append(f'{HISTOGRAM}_bucket{{{labels},le="{le}"}} {running}')
            lines.append(f"{HISTOGRAM}_sum{{{labels}}} {self.sums[(method, route)]:.6f}")
            lines.append(f"{HISTOGRAM}_count{{{labels}}} {running}")
        return lines


def runtime_lines(runtime: Runtime) -> list[str]:
    """Prometheus lines for the event store and the projections."""
    committer = runtime.commands.executor.committer
    lines = [
        "# TYPE customers_events_appended_total counter",
        f"customers_events_appended_total {committer.events_appended}",
        "# TYPE customers_commit_batches_total counter",
        f"customers_commit_batches_total {committer.batches}",
        "# TYPE customers_event_store_head gauge",
        f"customers_event_store_head {runtime.runner.head}",
    ]
    gauges = {
        "customers_projection_position": "position",
        "customers_projection_lag_events": "lagEvents",
        "customers_projection_lag_seconds": "lagSeconds",
    }
    statuses = [status.as_dict() for status in runtime.runner.status.values()]
    for metric, key in gauges.items():
        lines.append(f"# TYPE {metric} gauge")
        lines += [f'{metric}{{projection="{s["name"]}"}} {s[key]}' for s in statuses]
    lines.append("# TYPE customers_projection_dead_letters gauge")
    lines += [
        f'customers_projection_dead_letters{{projection="{s["name"]}"}} {len(s["deadLetters"])}'
        for s in statuses
    ]
    return lines


class MetricsController(Controller):
    """Prometheus scrape endpoint (public, like /health)."""

    path = "/metrics"
    tags = ["operations"]

    @get(
        "/",
        operation_id="metrics",
        summary="Prometheus metrics",
        exclude_from_auth=True,
        media_type=MediaType.TEXT,
    )
    async def metrics(self, request: HTTPRequest) -> Response[str]:
        """Text exposition format 0.0.4."""
        state = request.app.state
        lines = state.metrics.render() + runtime_lines(state.runtime) + state.monitor.render()
        return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
