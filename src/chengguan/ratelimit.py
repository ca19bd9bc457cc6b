"""Fixed-window rate limits on the shared cache (per address, per key)."""

from __future__ import annotations

import time

from django.core.cache import cache

from chengguan.errors import Throttled


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(scope: str, key: str, *, limit: int, window_seconds: int) -> None:
    """Count one request; raise Throttled (429) past `limit` in the current window."""
    bucket = int(time.time() // window_seconds)
    name = f"rl:{scope}:{key}:{bucket}"
    if cache.add(name, 1, timeout=window_seconds + 5):
        count = 1
    else:
        try:
            count = cache.incr(name)
        except ValueError:
            cache.set(name, 1, timeout=window_seconds + 5)
            count = 1
    if count > limit:
        raise Throttled("请求过于频繁，请稍后再试", "Too many requests, try again later")
