"""API authentication: bearer tokens (hashed at rest), or the page session for the same user."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from chengguan.ttl import TTLMemo


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        # A signed-in page session may call the API too (the pages' own scripts do).
        if "HTTP_AUTHORIZATION" not in request.META:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.is_active:
                _check_csrf(request)
                return user
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str):
        now = timezone.now()
        found = _TOKENS.get(token_digest(token), lambda: _load(token_digest(token)))
        if found is None or found.expires_at <= now:
            return None
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 300:
            from chengguan.org.models import ApiToken

            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            found.last_used_at = now
        request.user = found.user
        return found.user


# A revoked token or deactivated user is refused by every process within 15 seconds; the
# process that revoked it forgets it at once (see forget_token).
_TOKENS: TTLMemo = TTLMemo(seconds=15.0)


def _load(digest: str):
    from chengguan.org.models import ApiToken

    return (
        ApiToken.objects.select_related("user__city__calendar", "user__department")
        .filter(digest=digest, revoked=False, user__is_active=True)
        .first()
    )


def forget_token(digest: str | None = None) -> None:
    _TOKENS.forget(digest)


def _check_csrf(request: HttpRequest) -> None:
    """A page session may write through the API only with the page's CSRF token, as forms do."""
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    from django.middleware.csrf import CsrfViewMiddleware

    from chengguan.errors import Forbidden

    refused = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
    if refused is not None:
        raise Forbidden("缺少或无效的 CSRF 令牌，请刷新页面", "Missing or invalid CSRF token; reload the page",
                        field="csrf", code="csrf")
