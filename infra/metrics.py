"""Prometheus metrics (prometheus_client): what the engineer who runs the bot watches. Every
label value comes from a small fixed set (an action's method and record noun, a status, a
refusal's code, the configured model's name), never from people's words or HR data, so no
personal data reaches a label and the number of series stays bounded.

The metrics are always counted (in this process's own registry, thread-safe, so correct across
waitress's threads); they are served at /metrics only when METRICS=on or METRICS_PORT is set.
Each replica serves its own: sum the counters across replicas; `hrbot_actions_pending` is read
from the shared database, so every replica reports the same value (take the max, not the sum)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
MINUTES = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400)
SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)

ACTIONS_REQUESTED = Counter(
    "hrbot_actions_requested",
    "Changes held for approval, by endpoint (method and record noun).",
    ["endpoint"],
    registry=REGISTRY,
)
ACTIONS_ENDED = Counter(
    "hrbot_actions_ended",
    "Actions that reached an end, by endpoint and outcome (succeeded, failed, unknown, "
    'rejected, expired, withdrawn, stale). Expiries are outcome="expired".',
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
TIME_TO_DECISION = Histogram(
    "hrbot_time_to_decision_seconds",
    "From the request to the decision that settled it (approval, rejection, withdrawal).",
    ["endpoint"],
    buckets=MINUTES,
    registry=REGISTRY,
)
REFUSALS = Counter(
    "hrbot_refusals",
    "Requests and clicks refused, by reason (the gate's code, or click for a refused click).",
    ["reason"],
    registry=REGISTRY,
)
MODEL_CALLS = Counter(
    "hrbot_model_calls",
    "Calls to the language model, by model and result (ok, error).",
    ["model", "result"],
    registry=REGISTRY,
)
MODEL_SECONDS = Histogram(
    "hrbot_model_call_seconds",
    "How long each model call took, retries included.",
    ["model"],
    buckets=SECONDS,
    registry=REGISTRY,
)
MODEL_TOKENS = Counter(
    "hrbot_model_tokens",
    "Tokens the model read (prompt) and wrote (completion), by model.",
    ["model", "kind"],
    registry=REGISTRY,
)
HR_REQUESTS = Counter(
    "hrbot_hr_requests",
    "Requests to the HR API, by method and status (the HTTP status, or error when none came).",
    ["method", "status"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "hrbot_queue_depth",
    "Work waiting in each of this process's queues (answers, clicks, intake).",
    ["queue"],
    registry=REGISTRY,
)
QUEUE_WAIT = Histogram(
    "hrbot_queue_wait_seconds",
    "How long an item waited in its queue before a worker took it.",
    ["queue"],
    buckets=SECONDS,
    registry=REGISTRY,
)
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})


def endpoint(method: str, noun: str | None) -> str:
    """An action's endpoint as a label: "PATCH employee" (the catalogue's noun, bounded)."""
    return f"{method if method in HTTP_METHODS else 'OTHER'} {noun or 'record'}"


def hr_status(status: int | None) -> str:
    return str(status) if status is not None and 100 <= status <= 599 else "error"


class Pending(Collector):
    """hrbot_actions_pending, read from the database at each scrape (a short query)."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Left out of a scrape when the database cannot say (the rest is still served)."""
        try:
            pending = self.count()
        except Exception:
            return
        yield GaugeMetricFamily(
            "hrbot_actions_pending", "Actions waiting for a decision now.", value=pending
        )

    def describe(self) -> Iterable[Any]:
        return []


_pending: Pending | None = None


def watch_pending(count: Callable[[], int]) -> None:
    """Report the pending actions `count` gives (the assembled app's store; the newest wins)."""
    global _pending
    if _pending is not None:
        REGISTRY.unregister(_pending)
    _pending = Pending(count)
    REGISTRY.register(_pending)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """GET /metrics as a WSGI app."""
    body, kind = exposition()
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]
