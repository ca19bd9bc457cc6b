"""A tiny per-process memo with a time limit, for reference data read on every request.

What it holds may be up to `seconds` old in a process that did not make the change itself;
each use says why that is acceptable where it is used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
_ALL: list[TTLMemo] = []


class TTLMemo(Generic[T]):
    def __init__(self, seconds: float, max_entries: int = 10_000):
        self.seconds = seconds
        self.max_entries = max_entries
        self._data: dict[Hashable, tuple[float, T]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self._data.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = compute()
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (now, value)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        with self._lock:
            if key is None:
                self._data.clear()
            else:
                self._data.pop(key, None)


def forget_all() -> None:
    """Empty every memo of this process (after a restore, or between tests)."""
    for memo in _ALL:
        memo.forget()
