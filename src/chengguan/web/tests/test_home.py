import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_shows_the_home_page_in_chinese():
    response = Client().get("/")
    assert response.status_code == 200
    assert "数字城管" in response.content.decode()


def test_it_switches_to_english():
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Digital urban management" in client.get("/").content.decode()


def test_it_serves_the_api_docs_without_a_cdn():
    page = Client().get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page.split("<body")[0]


def test_it_reports_health_with_the_database():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": True}


def test_it_makes_superusers_administrators():
    from chengguan.org.models import User

    assert User.objects.create_superuser("root2", "r@example.org", "a-long-test-password-1").role == "admin"
