"""Stops calling a sidecar that keeps failing, with the TypeScript SDK's thresholds (src/sdk/circuit-breaker.ts)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_COOLDOWN_S = 5.0


@dataclass(frozen=True)
class Permit:
    ok: bool
    #: When refused: seconds until a trial call is let through (0 when a trial is already in flight).
    retry_in_s: float = 0.0


class CircuitBreaker:
    """
    After ``failure_threshold`` consecutive failures the circuit opens and every call is refused for ``cooldown_s``;
    then exactly one trial call goes through (half-open). Its success closes the circuit, its failure opens it again.
    """

    def __init__(self, failure_threshold: int = DEFAULT_FAILURE_THRESHOLD, cooldown_s: float = DEFAULT_COOLDOWN_S, now: Optional[Callable[[], float]] = None) -> None:
        if isinstance(failure_threshold, bool) or not isinstance(failure_threshold, int) or failure_threshold < 1:
            raise ValueError(f"failure_threshold must be a whole number >= 1, got {failure_threshold!r}")
        if isinstance(cooldown_s, bool) or not isinstance(cooldown_s, (int, float)) or not cooldown_s >= 0 or cooldown_s == float("inf"):
            raise ValueError(f"cooldown_s must be a number of seconds >= 0, got {cooldown_s!r}")
        self.failure_threshold = failure_threshold
        self.cooldown_s = float(cooldown_s)
        self._now = now or time.monotonic
        self._failures = 0
        self._opened_at: Optional[float] = None
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """"closed" (calls go through), "open" (refused) or "half-open" (the next call is the trial)."""
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half-open" if self._now() - self._opened_at >= self.cooldown_s else "open"

    def permit(self) -> Permit:
        with self._lock:
            if self._opened_at is None:
                return Permit(True)
            waited = self._now() - self._opened_at
            if waited < self.cooldown_s:
                return Permit(False, self.cooldown_s - waited)
            if self._trial_in_flight:
                return Permit(False, 0.0)
            self._trial_in_flight = True
            return Permit(True)

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_in_flight or self._failures >= self.failure_threshold:
                self._opened_at = self._now()
                self._trial_in_flight = False
