"""Sign-in, tokens and throttling: the only code that creates tokens or records failures."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from chengguan.errors import Throttled, Unauthenticated
from chengguan.org.auth import token_digest
from chengguan.org.models import ApiToken, LoginFailure, User
from chengguan.ratelimit import client_address


def is_throttled(username: str, address: str, *, now=None) -> bool:
    now = now or timezone.now()
    since = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = LoginFailure.objects.filter(at__gte=since)
    return (
        recent.filter(username=username.lower()).count() >= limit or recent.filter(address=address).count() >= limit * 4
    )


def record_failure(username: str, address: str, *, now=None) -> None:
    now = now or timezone.now()
    # Failures older than the window count for nothing: drop them as new ones come in.
    LoginFailure.objects.filter(at__lt=now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)).delete()
    LoginFailure.objects.create(username=username.lower(), address=address, at=now)


def check_credentials(request, username: str, password: str) -> User:
    """Authenticate with throttling; raise a domain error the API and the login page both map.

    Failures are counted by the backend's `user_login_failed` receiver, for every door alike.
    """
    address = client_address(request)
    if is_throttled(username, address):
        raise Throttled(
            "登录失败次数过多，请 15 分钟后再试", "Too many failed sign-ins; try again in 15 minutes", field="username"
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise Unauthenticated("用户名或密码错误", "Wrong username or password", field="password")
    LoginFailure.objects.filter(username=username.lower()).delete()
    return user


@transaction.atomic
def issue_token(user: User, *, now=None) -> str:
    now = now or timezone.now()
    raw = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, digest=token_digest(raw), expires_at=now + timedelta(days=settings.API_TOKEN_DAYS)
    )
    return raw
