from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chengguan.geo.models import City
from chengguan.org.models import ApiToken, Department, LoginFailure, User
from chengguan.worktime.services import default_calendar

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"


@pytest.fixture
def city(db):
    return City.objects.create(code="330100", name="杭州市", calendar=default_calendar())


@pytest.fixture
def departments(city):
    bureau = Department.objects.create(code="D01", name="区城管局", city=city)
    sanitation = Department.objects.create(code="D0101", name="环卫处", city=city, parent=bureau)
    return bureau, sanitation


@pytest.fixture
def admin_client_in(client, city):
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD, role="admin", city=city)
    client.force_login(root)
    return client


@pytest.fixture
def token(city):
    user = User.objects.create_user("inspector", password=PASSWORD, role="inspector", city=city)
    return ApiToken.objects.create(user=user, digest="x" * 64, expires_at=timezone.now() + timedelta(days=1))


@pytest.mark.parametrize("model", ["department", "user", "apitoken", "loginfailure"])
def test_the_changelist_loads(admin_client_in, departments, token, model):
    LoginFailure.objects.create(username="someone", address="10.0.0.1", at=timezone.now())
    response = admin_client_in.get(reverse(f"admin:org_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["department", "user"])
def test_the_add_page_loads(admin_client_in, model):
    assert admin_client_in.get(reverse(f"admin:org_{model}_add")).status_code == 200


def test_tokens_and_login_failures_cannot_be_added_or_changed(admin_client_in, token):
    assert admin_client_in.get(reverse("admin:org_apitoken_add")).status_code == 403
    assert admin_client_in.get(reverse("admin:org_loginfailure_add")).status_code == 403
    page = admin_client_in.get(reverse("admin:org_apitoken_change", args=[token.pk]))
    assert page.status_code == 200  # view only
    assert 'name="_save"' not in page.content.decode()


def test_the_department_page_shows_the_tree(admin_client_in, departments):
    bureau, _sanitation = departments
    page = admin_client_in.get(reverse("admin:org_department_changelist")).content.decode()
    assert "└ 环卫处" in page
    change = admin_client_in.get(reverse("admin:org_department_change", args=[bureau.pk])).content.decode()
    assert "D0101" in change  # the children inline


def test_the_user_list_filters_by_role(admin_client_in, city, departments):
    User.objects.create_user("dept-D0101", password=PASSWORD, role="department", department=departments[1])
    User.objects.create_user("op", password=PASSWORD, role="operator", display_name="王丽")
    page = admin_client_in.get(reverse("admin:org_user_changelist"), {"role__exact": "department"}).content.decode()
    assert "dept-D0101" in page
    assert "王丽" not in page


def test_a_user_is_added_with_a_role_city_and_department(admin_client_in, city, departments):
    response = admin_client_in.post(
        reverse("admin:org_user_add"),
        {
            "username": "dept-D01",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": "department",
            "city": city.pk,
            "department": departments[0].pk,
            "display_name": "联络员",
            "phone": "13800000000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="dept-D01")
    assert (user.role, user.department, user.city, user.display_name) == ("department", departments[0], city, "联络员")
    assert user.check_password(PASSWORD)


def test_the_user_change_page_shows_the_role_fields(admin_client_in, city):
    user = User.objects.create_user("op", password=PASSWORD, role="operator", city=city)
    page = admin_client_in.get(reverse("admin:org_user_change", args=[user.pk])).content.decode()
    assert 'name="role"' in page and 'name="display_name"' in page and 'name="phone"' in page


def test_tokens_are_revoked_by_the_admin_action(admin_client_in, token):
    response = admin_client_in.post(
        reverse("admin:org_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked
