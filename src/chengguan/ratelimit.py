"""Fixed-window rate limits on the shared cache (per address, per key)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from chengguan.errors import Throttled


def client_address(request) -> str:
    """The caller's address, seen through `PROXY_HOPS` trusted reverse proxies.

    Behind one proxy (nginx with `proxy_add_x_forwarded_for`) the last X-Forwarded-For entry
    is the address nginx saw; entries further left are whatever the client claimed.
    """
    if request is None:
        return "unknown"
    hops = getattr(settings, "PROXY_HOPS", 0)
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
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
