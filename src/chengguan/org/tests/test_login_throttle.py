import pytest
from django.test import Client

from chengguan.org.models import LoginFailure, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    user = User(username="boss", role="admin", is_staff=True, is_superuser=True)
    user.set_password("a-long-test-password-1")
    user.save()
    return user


def test_it_locks_the_admin_login_after_repeated_failures(staff):
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "nope"})
    assert LoginFailure.objects.filter(username="boss").count() == 5
    client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "a-long-test-password-1"})
    assert client.get("/admin/").status_code == 302  # still signed out


def test_it_lets_the_right_password_in_before_the_limit(staff):
    client = Client()
    client.post("/admin/login/", {"username": "boss", "password": "nope"})
    client.post("/admin/login/", {"username": "boss", "password": "a-long-test-password-1"})
    assert client.get("/admin/").status_code == 200


def test_it_refuses_weak_passwords():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("12345678", "password", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("chengguan-demo")


def test_it_counts_failures_per_client_behind_the_proxy(staff, settings):
    settings.PROXY_HOPS = 1
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for n in range(25):
        attacker.post("/admin/login/", {"username": f"guess{n}", "password": "nope"})
    colleague = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    colleague.post("/admin/login/?next=/admin/", {"username": "boss", "password": "a-long-test-password-1"})
    assert colleague.get("/admin/").status_code == 200
    assert set(LoginFailure.objects.values_list("address", flat=True)) == {"203.0.113.9"}
