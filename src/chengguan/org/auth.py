"""API authentication: bearer tokens (hashed at rest), or the page session for the same user."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        # A signed-in page session may call the API too (the pages' own scripts do).
        if "HTTP_AUTHORIZATION" not in request.META:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and user.is_active:
                return user
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str):
        from chengguan.org.models import ApiToken

        now = timezone.now()
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked=False, expires_at__gt=now, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 300:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user
