"""How AI outputs were made and paid for: one record per model call, and how each task was routed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallRecord:
    task: str
    tier: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None
    cache_hit: bool
    ticket_id: int | None
    outcome: str  # "ok" or the error kind
    error: str = ""
    reason: str = ""


@dataclass(frozen=True)
class RoutedOutput:
    """How one task's output was made: its tier and model, why it was routed there, and what it cost."""

    task: str
    tier: str
    model: str
    reason: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    cache_hit: bool = False
    note: str = ""
