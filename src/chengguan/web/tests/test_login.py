import pytest
from django.test import Client

from chengguan.org.models import User

pytestmark = pytest.mark.django_db


def make(username, role, **extra):
    user = User(username=username, role=role, **extra)
    user.set_password("a-long-test-password-1")
    user.save()
    return user


@pytest.mark.parametrize(("role", "home"), [("operator", "/center/"), ("dispatcher", "/center/"),
                                            ("department", "/inbox/"), ("inspector", "/m/"),
                                            ("leader", "/dashboard/")])
def test_it_sends_each_role_home_after_sign_in(role, home):
    make("someone", role)
    client = Client()
    response = client.post("/login/", {"username": "someone", "password": "a-long-test-password-1"})
    assert response.status_code == 302 and response["Location"] == home
    assert client.get("/")["Location"] == home


def test_it_says_when_sign_in_fails_and_when_it_is_locked():
    make("someone", "operator")
    client = Client()
    bad = client.post("/login/", {"username": "someone", "password": "nope"})
    assert bad.status_code == 400 and "用户名或密码错误" in bad.content.decode()
    for _ in range(5):
        client.post("/login/", {"username": "someone", "password": "nope"})
    locked = client.post("/login/", {"username": "someone", "password": "a-long-test-password-1"})
    assert locked.status_code == 400 and "15 分钟" in locked.content.decode()


def test_it_signs_out():
    make("someone", "operator")
    client = Client()
    client.post("/login/", {"username": "someone", "password": "a-long-test-password-1"})
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 200
