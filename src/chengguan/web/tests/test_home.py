import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_shows_the_home_page_in_chinese():
    response = Client().get("/")
    assert response.status_code == 200
    assert "数字城管" in response.content.decode()
