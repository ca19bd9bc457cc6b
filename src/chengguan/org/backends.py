"""Sign-in for every door (admin, pages, API): the model backend, refusing while throttled."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver


def _address(request) -> str:
    from chengguan.ratelimit import client_address

    return client_address(request)


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        from chengguan.org.services import is_throttled

        if username and is_throttled(username, _address(request)):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):
    from chengguan.org.services import record_failure

    username = credentials.get("username")
    if username:
        record_failure(username, _address(request))
